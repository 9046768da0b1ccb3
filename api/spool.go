package api

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"io"
	"os"
)

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

// writer returns the encrypting writer; call it once, before reader.
func (sp *spool) writer() io.Writer {
	sp.bw = bufio.NewWriterSize(cipher.StreamWriter{S: cipher.NewCTR(sp.block, sp.iv[:]), W: sp.f}, 1<<16)
	return sp.bw
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
