// Package version owns latch's build identity: the version, the commit and
// the build date, the same for latchd and latchctl. `make build`, `make cross`
// and `make deb` set them with -ldflags -X; a plain `go build` or `go install`
// falls back to what runtime/debug.ReadBuildInfo recorded (the module version,
// vcs.revision, vcs.time, vcs.modified). latchd --version, latchctl --version,
// the "latchd started" log line and GET /v1/health all ask Get (docs/api.md,
// docs/logs.md).
package version
