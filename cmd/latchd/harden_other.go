//go:build !linux

package main

// harden does nothing outside Linux (latchd runs on a Pi; other systems
// only build it for development).
func harden() error { return nil }
