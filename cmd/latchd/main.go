// Command latchd is latch's door-controller daemon.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "latchd: not built yet")
	os.Exit(1)
}
