// Package fleet makes a latchd a member of a site of many controllers whose
// backbone is NATS with JetStream (docs/fleet.md).
//
// It owns:
//   - the names of the site's buckets, subjects and keys (names.go): the
//     creds bucket latch_<site>_creds with its user.<id>, card.<format>.<fc>.<cn>,
//     code.<mac-hex> and ext.<hex> keys, the state bucket latch_<site>_state
//     (key_id), the status bucket latch_<site>_status, and each member's
//     reply inbox prefix;
//   - the wire form of a user document in the creds bucket (userdoc.go,
//     JSON, EncodeUserDoc), and its decoder DecodeUserDoc, which every message read from NATS
//     goes through and which never panics (FuzzDecodeUserDoc);
//   - the site key's fingerprint (KeyID) and the rule that a member with
//     another key does not sync;
//   - sync: a member's replica applies the creds bucket in revision order
//     (an ordered pull consumer, follow.go) through store.Store.ApplyReplica,
//     which records the revision in the same bbolt transaction, and
//     rebuilds through store.Store.BeginRebuild when the bucket's history
//     is gone;
//   - writes: Member is the store's store.Remote in fleet mode (writer.go); it turns the
//     documents a store change computed into compare-and-set writes on the
//     creds bucket and create-only index keys, and returns once the local
//     replica applied them;
//   - events (events.go): the stream latch_<site>_events, its
//     subjects latch.<site>.events.<controller>.<door> (NoDoor "_" for an
//     event of no door), message ids <controller>:<seq> and duplicate
//     window; a controller's upload, Uploader, an outbox.Destination
//     named "fleet" whose cursor starts at the start of the log
//     (InitUploadCursor); the event on the wire (EncodeEvent) and its
//     decoder Names.DecodeEvent (FuzzDecodeEvent); a manager creating the
//     stream and appending it to its own log through
//     store.Store.AppendSiteEvents, which records the stream position in
//     the same transaction;
//   - status: each member's key in latch_<site>_status (DecodeStatus) and a
//     manager's view of the site's doors (SiteDoors);
//   - door commands across the site (commands.go): the wire
//     (Command, Reply: DecodeCommand, DecodeReply) on
//     latch.<site>.cmd.<controller>.<door>, a controller's service that runs
//     each through its door.Controller, and a manager's SiteCommands
//     (api.DoorCommander) that finds the owning controller and maps its reply
//     back to door's typed errors;
//   - the site lockdown (lockdown.go): the state bucket's lockdown key
//     (DecodeLockdown), which a manager writes and every controller applies
//     to all its doors once per revision (store.SiteLockdown records it).
//
// What a fleet member is (controller: it has doors; manager: it has none)
// is internal/config's Config.FleetRole. The store keeps owning its records and
// their invariants: this package never writes bbolt itself.
package fleet
