// Package webhook delivers events as signed HTTPS POSTs, one per event,
// as an outbox.Destination (docs/integrations.md, "Webhook reference").
//
// What the package owns (config asks it, none keeps a copy):
//   - the URL rule (CheckURL): https, or http only to a loopback address;
//     no user or password in the URL;
//   - the signature: X-Latch-Signature "sha256=" + hex HMAC-SHA-256 under
//     the secret of "<X-Latch-Timestamp>.<body>" (Sign), with
//     X-Latch-Delivery "<controller>:<seq>" (outbox.DeliveryID);
//   - the retry policy: any 2xx acknowledges; anything else, a timeout or a
//     refused connection is retried after 1 s doubling to 10 min with
//     ±20 % jitter (Backoff), until the event is 24 h old (MaxAge): then it
//     is given up on, counted as dropped (outbox.Dropper) and the next one
//     is tried;
//   - the event filter's vocabulary (KnownEvents).
//
// Redirects are not followed (a 3xx is a failure), TLS is verified with
// the system's roots, and the secret is never in a log line or an error.
package webhook
