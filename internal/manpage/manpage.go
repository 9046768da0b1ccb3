package manpage

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Page is one man page.
type Page struct {
	Name    string // latchd
	Section string // 8
	Summary string // the NAME line after the dash
	Version string // the footer's source, e.g. "latch 0.1.0"
	Date    string // the footer's date, YYYY-MM-DD ("" leaves it out)
	// Synopsis is preformatted text (the usage lines), kept as is.
	Synopsis string
	// Description is prose: paragraphs separated by blank lines.
	Description string
	Sections    []Section
	SeeAlso     []string // "latchctl(1)"
}

// Section is a man page section (.SH) with optional subsections.
type Section struct {
	Title string
	// Text is prose, paragraphs separated by blank lines; Pre is
	// preformatted text after it (help output), kept line for line.
	Text string
	Pre  string
	Subs []Section // .SS, one level
}

// Write renders p.
func Write(w io.Writer, p Page) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, ".TH %s %s %q %q %q\n", strings.ToUpper(p.Name), p.Section, p.Date, p.Version, "latch manual")
	fmt.Fprintf(b, ".SH NAME\n%s \\- %s\n", escape(p.Name), escape(p.Summary))
	if p.Synopsis != "" {
		b.WriteString(".SH SYNOPSIS\n")
		pre(b, p.Synopsis)
	}
	if p.Description != "" {
		b.WriteString(".SH DESCRIPTION\n")
		prose(b, p.Description)
	}
	for _, s := range p.Sections {
		section(b, ".SH", s)
	}
	if len(p.SeeAlso) > 0 {
		b.WriteString(".SH SEE ALSO\n")
		for i, s := range p.SeeAlso {
			name, sec, ok := strings.Cut(strings.TrimSuffix(s, ")"), "(")
			if !ok {
				fmt.Fprintf(b, "%s", escape(s))
			} else {
				fmt.Fprintf(b, ".BR %s (%s)", escape(name), sec)
			}
			if i < len(p.SeeAlso)-1 {
				b.WriteString(" ,")
			}
			b.WriteString("\n")
		}
	}
	return b.Flush()
}

func section(b *bufio.Writer, macro string, s Section) {
	fmt.Fprintf(b, "%s %s\n", macro, quoteArg(s.Title))
	if s.Text != "" {
		prose(b, s.Text)
	}
	if s.Pre != "" {
		pre(b, s.Pre)
	}
	for _, sub := range s.Subs {
		section(b, ".SS", sub)
	}
}

func quoteArg(s string) string {
	if strings.ContainsAny(s, " \t") {
		return `"` + escape(strings.ReplaceAll(s, `"`, `'`)) + `"`
	}
	return escape(s)
}

// prose writes paragraphs; a blank line starts a new one.
func prose(b *bufio.Writer, text string) {
	for i, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		if i > 0 {
			b.WriteString(".PP\n")
		}
		for _, line := range strings.Split(para, "\n") {
			b.WriteString(escapeLine(strings.TrimSpace(line)))
			b.WriteString("\n")
		}
	}
}

// pre writes text line for line, unfilled and unadjusted, indented.
func pre(b *bufio.Writer, text string) {
	b.WriteString(".PP\n.RS 2\n.nf\n")
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			b.WriteString(".sp\n")
			continue
		}
		b.WriteString(escapeLine(line))
		b.WriteString("\n")
	}
	b.WriteString(".fi\n.RE\n")
}

// escape makes s literal text for roff: backslashes and dashes.
func escape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	return strings.ReplaceAll(s, "-", `\-`)
}

// escapeLine also protects a leading '.' or '\” (a control line).
func escapeLine(s string) string {
	s = escape(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
