// Package manpage renders a man page (roff, the man macros) from the help
// text a command already prints: latchd --man and latchctl --man call it
// with their usage text, so a man page never says something the --help
// output does not (docs/packaging.md).
package manpage
