// Package web is latchd's admin page (docs/web.md): server-rendered
// html/template pages, a little vanilla JavaScript (no inline script), all
// embedded in the binary, served on the API's listener at / beside the API.
//
// What it owns:
//   - the page's sessions (a random id in an HttpOnly, SameSite=Strict
//     cookie, stored only as its SHA-256; idle 30 min, absolute 12 h), its
//     CSRF tokens and its security headers;
//   - the sign-in limits (per peer and per account name, with the API's
//     limiter, api.FailLimiter);
//   - the message catalogs (English, Korean: i18n.go), which hold every
//     string the templates show;
//   - the page routes and the permission each needs (routes.go).
//
// What it does not own: accounts and their passwords (store: CreateAdmin,
// VerifyAdmin), roles and permissions (store/roles.go: every page route is
// checked with store.Allowed, as the API's are), and every rule of the data
// it changes: each change goes through the API's own route in-process
// (api.Server.Call), so the page validates, refuses and audits exactly as
// the API does, and shows the API's field and rule next to the field.
package web
