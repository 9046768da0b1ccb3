package store

import (
	"fmt"
	"io"
)

// MaxRowBytes is the largest CSV record (row) an import reads: encoding/csv
// buffers a whole record, newlines inside quoted fields included, so a file
// of one huge line would otherwise be held in memory whole (several times
// over). The longest valid row is far shorter: twelve columns of at most a
// few hundred bytes, groups at most 64 × 64.
const MaxRowBytes = 64 << 10

// ruleRowSize is the rule a longer row breaks.
var ruleRowSize = fmt.Sprintf("a row is at most %d KiB; the rest of the file was not read", MaxRowBytes>>10)

// rowTooLongError is returned by a rowLimiter's Read when a record grows
// past the limit; Line is the line the record starts on.
type rowTooLongError struct{ line int }

func (e *rowTooLongError) Error() string {
	return fmt.Sprintf("store: import: line %d: %s", e.line, ruleRowSize)
}

// rowLimiter sits below encoding/csv and fails a read as soon as the
// current record exceeds max bytes, before csv has buffered more of it. It
// follows the record boundaries with the same rules as encoding/csv
// (comma, '"' quoting with "" as an escaped quote, '\n' ending a record
// outside quotes; after a quoting error csv discards the rest of the line),
// so that a record spanning lines in a quoted field counts whole.
type rowLimiter struct {
	r     io.Reader
	max   int
	n     int // bytes of the current record so far
	line  int // 1-based line of the byte being read
	start int // line the current record started on
	st    limState
	err   error
}

type limState uint8

const (
	limFieldStart limState = iota // at the start of a field
	limUnquoted                   // in an unquoted field
	limQuoted                     // in a quoted field
	limQuote                      // just after a '"' in a quoted field
	limQuoteCR                    // after '"' and '\r' in a quoted field
	limSkipLine                   // after a quoting error: csv drops the rest of the line
)

func newRowLimiter(r io.Reader, max int) *rowLimiter {
	return &rowLimiter{r: r, max: max, line: 1, start: 1}
}

func (l *rowLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for i := 0; i < n; i++ {
		c := p[i]
		end := false
		switch l.st {
		case limFieldStart, limUnquoted:
			switch {
			case c == ',':
				l.st = limFieldStart
			case c == '\n':
				end = true
			case c == '"' && l.st == limFieldStart:
				l.st = limQuoted
			case c == '"':
				l.st = limSkipLine // csv: bare quote in a non-quoted field
			default:
				l.st = limUnquoted
			}
		case limQuoted:
			if c == '"' {
				l.st = limQuote
			}
		case limQuote:
			switch c {
			case '"':
				l.st = limQuoted
			case ',':
				l.st = limFieldStart
			case '\n':
				end = true
			case '\r': // "\r\n" after a closing quote ends the record
				l.st = limQuoteCR
			default:
				l.st = limSkipLine // csv: extraneous quote
			}
		case limQuoteCR:
			end = c == '\n'
			l.st = limSkipLine
		case limSkipLine:
			end = c == '\n'
		}
		if c == '\n' {
			l.line++
		}
		if end {
			l.n, l.st, l.start = 0, limFieldStart, l.line
			continue
		}
		l.n++
		if l.n > l.max {
			l.err = &rowTooLongError{line: l.start}
			return i, l.err
		}
	}
	return n, err
}
