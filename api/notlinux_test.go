//go:build !linux

package api

const runtimeLinux = false
