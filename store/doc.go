// Package store keeps users, credentials, API tokens and the event log in
// one bbolt file, as product.md §2, §6 and §8 describe. docs/store.md has
// the data model, the CSV columns and the key file.
//
// The door calls LookupCard, VerifyCardCode and LookupEntryCode on every
// decision: each is one read transaction that opens only the buckets it
// needs and decodes before the transaction ends. A card's record carries a
// copy of its user's door view and code MACs (cardrec.go), so a badge and
// its code each read that one record. The store keeps the copies, not its
// callers: every write transaction goes through update, whose users and
// cards buckets note each user written, and update derives those users'
// card records again before the commit. The one path outside it is the
// large import, which builds a new generation and derives every card record
// of it as it writes the cards bucket (bulk.go). Administration methods
// append their credential_changed audit event in the same transaction.
//
// Codes are stored only as HMAC-SHA-256 under a per-device key kept in its
// own file (Options.KeyFile). Losing that file loses every entry and MFA
// code; Open refuses a database holding codes without it, and refuses a key
// file readable by group or others.
//
// Caveats:
//   - Only one process may open the database (bbolt's file lock); another
//     gets ErrInUse after Options.Timeout.
//   - ImportFile holds the store's write lock for the whole import: other
//     changes wait (reads and AppendEvents do not). A large import builds a
//     new copy of the changed buckets and switches to it atomically, so the
//     file briefly needs room for both.
//   - A users file that creates users is read twice (pass 2 makes their
//     records again instead of holding them in memory): Import takes an
//     opener, and a file that changes between the reads fails with
//     ErrInputChanged, nothing written.
//   - Subscribe drops (closes) a subscriber whose buffer is full rather than
//     slow down AppendEvents.
package store
