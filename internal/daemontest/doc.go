// Package daemontest owns how the end-to-end tests of cmd/latchd and
// cmd/latchctl run the real daemon: Build builds latchd (with latchctl
// beside it, as make build puts them in bin/) once per test binary,
// stamped as the Makefile stamps it and with -race when the tests have it;
// WriteConfig puts its config into a test folder; Start runs it as a
// child process, reads its JSON log line by line (Log
// keeps every line), collects its standard error and waits for
// "latchd started". It is imported only by _test.go files.
package daemontest
