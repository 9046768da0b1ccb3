// Package store keeps users, credentials, API tokens and the event log in
// one bbolt file. docs/store.md has the data model, the CSV columns, the
// key file and the measurements.
//
// What the store owns (other layers call it, none keeps a copy):
//   - the user, card, code and token records and their rules: field limits
//     (validateFields), codes of 4–16 ASCII digits (ValidateCode), at most
//     100 MFA codes a user, unique cards, entry codes and external ids, one
//     duress code a user, unique together with the entry codes and never
//     the user's own entry or MFA code (duress.go); a
//     card key is checked against the reader format's field limits, which
//     package reader owns (validateCardKey);
//   - the card record, the door's copy of its user (cardrec.go), and the
//     rule that keeps it in step: every write transaction goes through
//     update, whose users and cards buckets note each user written, and
//     update derives those users' card records again before the commit, so
//     no write path has to remember to. The one path outside it is the
//     large import, which builds a new generation and derives every card
//     record of it as it writes the cards bucket (bulk.go);
//   - what a not-found error says (*NotFoundError: what, which, under which
//     user; never a code or a token secret);
//   - the CSV import: pass 1 checks every row (import_check.go), pass 2
//     writes (import_write.go, bulk.go); nothing is written unless all pass;
//   - the credential_changed audit event of each administration method,
//     appended in the method's own transaction;
//   - the duress output's state, written with the event that changes it
//     (RecordDuress, ClearDuress).
//
// The door calls LookupCard, MatchCardCode and MatchEntryCode on every
// decision (doorpath.go): each is one read transaction that opens only the
// buckets it needs and decodes before the transaction ends; a badge and its
// code each read the card's one record.
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
