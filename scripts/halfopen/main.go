// Command halfopen opens many TCP connections to an HTTP server, sends half
// of a request header on each and holds them, to measure what the server
// spends on clients that never finish a header (scripts/measure-conns.sh).
// Connections come from -peers loopback source addresses (127.0.0.1,
// 127.0.0.2, …), so a per-peer cap and a total cap can both be seen.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8700", "server address")
	n := flag.Int("n", 19000, "connections to open")
	peers := flag.Int("peers", 1, "source addresses 127.0.0.1 … 127.0.0.N (loopback only)")
	hold := flag.Duration("hold", 3*time.Second, "how long to hold the connections after the last is open")
	flag.Parse()
	if *peers < 1 || *peers > 254 {
		fmt.Fprintln(os.Stderr, "halfopen: -peers must be 1–254")
		os.Exit(2)
	}
	const half = "GET /v1/health HTTP/1.1\r\nHost: latchd\r\nX-Half: "
	// Dial from several goroutines: one at a time is slower than the
	// server's header timeout on a small machine.
	const workers = 32
	var (
		mu      sync.Mutex
		conns   = make([]net.Conn, 0, *n)
		dialErr int
		wg      sync.WaitGroup
	)
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < *n; i += workers {
				d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%*peers))}}
				c, err := d.Dial("tcp", *addr)
				if err == nil {
					if _, err = io.WriteString(c, half); err != nil {
						c.Close()
					}
				}
				mu.Lock()
				if err != nil {
					dialErr++
				} else {
					conns = append(conns, c)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Printf("opened %d connections (%d failed to dial or write) from %d source addresses in %v\n",
		len(conns), dialErr, *peers, time.Since(start).Round(time.Millisecond))
	time.Sleep(*hold)
	// Which are still open? The server closed the others (a read returns
	// EOF or a reset at once); an open one times out on the short deadline.
	// All at once, each with a 100 ms deadline: one by one, the probe
	// would outlast the server's header timeout. (A deadline that has
	// already passed fails a Read before it looks at the socket.)
	open := 0
	var pw sync.WaitGroup
	for _, c := range conns {
		pw.Add(1)
		go func() {
			defer pw.Done()
			c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			_, err := c.Read(make([]byte, 1))
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				mu.Lock()
				open++
				mu.Unlock()
			}
			c.Close()
		}()
	}
	pw.Wait()
	fmt.Printf("after %v: %d still open, %d closed by the server\n", *hold, open, len(conns)-open)
}
