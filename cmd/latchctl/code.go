package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// stdin is where "--code -" reads from; tests replace it.
var stdin io.Reader = os.Stdin

// addCodeFlag defines --code on fs: the code, or "-" to read it with
// readCode.
func addCodeFlag(fs *flag.FlagSet) *string {
	return fs.String("code", "", `the code, or "-" to type it without echo`)
}

// readCode returns the code given by a --code flag. "-" reads it from the
// terminal without echo (prompting on stderr), or from the first line of
// standard input when that is not a terminal. The code is not checked here:
// latchd checks it and names the rule.
func readCode(v string, stderr io.Writer) ([]byte, error) {
	if v != "-" {
		return []byte(v), nil
	}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return readNoEcho(f, "code (not shown): ", "code", stderr)
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 1024)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading the code from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return nil, errors.New("no code on standard input: pipe one line of digits, or type it at a terminal")
	}
	return []byte(line), nil
}

// readNoEcho prompts on stderr and reads one line from the terminal f
// without echo; what names the secret in the error.
func readNoEcho(f *os.File, prompt, what string, stderr io.Writer) ([]byte, error) {
	fmt.Fprint(stderr, prompt)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(stderr)
	if err != nil {
		return nil, fmt.Errorf("reading the %s from the terminal: %w", what, err)
	}
	return b, nil
}
