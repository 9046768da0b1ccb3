// Package api is latch's management HTTP/JSON API: users, cards, entry codes
// and MFA codes with role-based access, the two Verkada-shaped MFA endpoints,
// read-only groups, doors and their views, door commands (unlock, override,
// lockdown, Verkada's admin_unlock: doorops.go, which only parses bodies and
// maps the errors of door.Controller, Options.Control), events (paged and
// live), CSV import, health and Prometheus metrics.
//
// New builds a *Server (an http.Handler) from a Store (the narrow method set
// of *store.Store the API needs), a DoorStatus provider, the configured groups
// and doors (fixed, or a ConfigFunc for a daemon that reloads), a
// zerolog.Logger and a clock. Serve runs it on a listener; ListenUnix creates
// the always-on Unix socket with mode 0660. Metrics counts the events
// (Follow) and is the doors' door.Observer for decision latency and bad
// reads; cmd/latchd wires all of it (docs/api.md, "In the daemon").
//
// Every request carries "Authorization: Bearer <token>"; the token's role
// decides what it may do (store.Allowed, store/roles.go: the role table of
// docs/api.md).
// Caveats:
//   - Codes (entry and MFA) and tokens never reach a log line, an event, an
//     error message or a metric. The access log records method, path without
//     the query string, status, size, duration, peer and token name only.
//   - Failed authentication is rate-limited per peer with a token bucket: an
//     IP address over TCP, a uid (SO_PEERCRED) on the Unix socket.
//   - With Options.LocalOwner, a Unix-socket client running as the daemon's
//     euid or root may use the token endpoints without a token (the
//     bootstrap path); nothing else, and never over TCP.
//   - Audit events (credential_changed) are written by the store, in the same
//     transaction as the change; the API passes the caller as store.Actor and
//     does not log the change a second time.
package api
