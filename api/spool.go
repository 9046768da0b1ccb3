package api

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
)

// openSpool makes the spool for an upload of want bytes (-1: not said),
// which may grow to s.importLimit bytes (import_spool_max) or half the free
// space on the spool folder's filesystem, whichever is less: the other
// half is left for the database, which the import then grows (latchd
// spools next to the database). An upload that says it is larger than
// that is refused at once with 507; one that turns out larger is cut
// there (the spool's writer fails with the same 507). Where the free space
// cannot be known (not Linux) only s.importLimit applies.
func (s *Server) openSpool(want int64) (*spool, error) {
	allow := s.importLimit
	free, known, err := s.free(s.tempDir)
	if err != nil {
		return nil, fmt.Errorf("free space of the spool folder: %w", err)
	}
	if half := free / 2; known && half < uint64(allow) {
		allow = int64(half)
	}
	if allow < s.importLimit && want > allow {
		return nil, spoolFull(allow, free)
	}
	sp, err := newSpool(s.tempDir)
	if err != nil {
		return nil, err
	}
	if allow < s.importLimit {
		sp.bounded, sp.max, sp.free = true, allow, free
	}
	return sp, nil
}

// spoolFull is the 507 of an upload that would take more than half the
// free space.
func spoolFull(allow int64, free uint64) *apiError {
	rule := fmt.Sprintf("must be at most %d bytes now: an import may spool at most half the free space on the spool folder's filesystem (%d bytes free)", allow, free)
	return &apiError{Status: http.StatusInsufficientStorage, Msg: "api: body: " + rule, Field: "body", Rule: rule}
}

// spool is a temporary file whose contents are encrypted with AES-256-CTR
// under a key and IV drawn for this spool alone and kept only in memory.
// It is written once, then read once from the start. CTR gives no
// integrity, which is not needed here: the file never leaves this process
// and the key dies with it.
type spool struct {
	f     *os.File
	block cipher.Block
	iv    [aes.BlockSize]byte
	bw    *bufio.Writer
	// When bounded, max bounds what may be written (openSpool); free is
	// the free space it was derived from, for the error.
	bounded bool
	max, n  int64
	free    uint64
}

func newSpool(dir string) (*spool, error) {
	var key [32]byte
	sp := &spool{}
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("spool key: %w", err)
	}
	if _, err := rand.Read(sp.iv[:]); err != nil {
		return nil, fmt.Errorf("spool iv: %w", err)
	}
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("spool cipher: %w", err)
	}
	sp.block = block
	f, err := os.CreateTemp(dir, "latch-import-*.spool")
	if err != nil {
		return nil, err
	}
	// Unlinked at once where the OS allows it: nothing is left behind
	// even by a crash, and no other process can open it by name.
	_ = os.Remove(f.Name())
	sp.f = f
	return sp, nil
}

// writer returns the encrypting writer; call it once, before reader. With
// a max, a Write that would take the spool past it writes nothing and
// fails with spoolFull's 507.
func (sp *spool) writer() io.Writer {
	sp.bw = bufio.NewWriterSize(cipher.StreamWriter{S: cipher.NewCTR(sp.block, sp.iv[:]), W: sp.f}, 1<<16)
	if sp.bounded {
		return (*boundedSpool)(sp)
	}
	return sp.bw
}

type boundedSpool spool

func (b *boundedSpool) Write(p []byte) (int, error) {
	if b.n+int64(len(p)) > b.max {
		return 0, spoolFull(b.max, b.free)
	}
	n, err := b.bw.Write(p)
	b.n += int64(n)
	return n, err
}

// reader flushes what was written and returns a decrypting reader from the
// start of the spool.
func (sp *spool) reader() (io.Reader, error) {
	if sp.bw != nil {
		if err := sp.bw.Flush(); err != nil {
			return nil, err
		}
	}
	if _, err := sp.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return bufio.NewReaderSize(cipher.StreamReader{S: cipher.NewCTR(sp.block, sp.iv[:]), R: sp.f}, 1<<16), nil
}

func (sp *spool) close() { sp.f.Close() }
