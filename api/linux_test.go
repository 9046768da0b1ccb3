//go:build linux

package api

const runtimeLinux = true
