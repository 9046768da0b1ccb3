// Package mqtt publishes latch to an MQTT broker for Home Assistant and
// other home-automation systems, as an outbox.Destination
// (docs/integrations.md, "MQTT reference").
//
// What the package owns (config asks it, none keeps a copy):
//   - the topic layout under topic_prefix: status (availability, with a
//     last will), events/<door>/<event> (every event, QoS 1, not
//     retained; "_controller" for events of no door), doors/<door>/lock,
//     door, alarm, access (retained states) and doors/<door>/set
//     (commands);
//   - Home Assistant's discovery configs (discovery.go): one device per
//     controller; per door a lock (or, with commands off, a binary_sensor
//     of class lock), a door sensor when the door has a DPS, an alarm
//     sensor and a last-access sensor; republished when Home Assistant
//     announces "online" on <discovery_prefix>/status;
//   - how a state follows the events (state.go);
//   - the command words OPEN, UNLOCK and LOCK and the parsing of every
//     payload latchd reads (ParseCommand, ParseHAStatus), which never
//     panics (fuzzed);
//   - the [mqtt] URL rule (CheckURL) and the defaults of client_id and
//     topic_prefix.
//
// The connection is paho.golang's autopaho (MQTT 5): it reconnects by
// itself; an event counts as delivered when the broker's PUBACK came back.
package mqtt
