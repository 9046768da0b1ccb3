package mqtt

import (
	"regexp"

	"github.com/latchd/latch/store"
)

// noDoor is the door level of the events topic for an event of no door
// (credential_changed, events_lost, delivery_dropped): a door name starts
// with a letter or digit, so it never clashes.
const noDoor = "_controller"

// topics are the topics of one controller.
type topics struct {
	prefix    string // topic_prefix
	discovery string // discovery_prefix; "" = none
	node      string // Home Assistant node id: "latch_<controller>", sanitised
}

func (t topics) status() string { return t.prefix + "/status" }

func (t topics) event(e store.Event) string {
	d := e.Door
	if d == "" {
		d = noDoor
	}
	return t.prefix + "/events/" + d + "/" + e.Event
}

func (t topics) door(door, what string) string { return t.prefix + "/doors/" + door + "/" + what }

func (t topics) set(door string) string { return t.door(door, "set") }

// haStatus is where Home Assistant says "online" after it starts.
func (t topics) haStatus() string { return t.discovery + "/status" }

// config is a discovery config topic:
// <discovery_prefix>/<component>/<node_id>/<object_id>/config.
func (t topics) config(component, objectID string) string {
	return t.discovery + "/" + component + "/" + t.node + "/" + objectID + "/config"
}

var notID = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// haID makes s a Home Assistant node or object id ([A-Za-z0-9_-]).
func haID(s string) string { return notID.ReplaceAllString(s, "_") }
