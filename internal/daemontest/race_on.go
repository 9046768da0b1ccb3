//go:build race

package daemontest

// raceBuild: the tests run with -race, so the daemon they start is built
// with it too.
const raceBuild = true
