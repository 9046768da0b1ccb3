//go:build !race

package daemontest

const raceBuild = false
