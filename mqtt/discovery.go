package mqtt

import (
	"encoding/json"
)

// Home Assistant's MQTT discovery (docs/integrations.md shows every
// payload): a retained config per entity on
// <discovery_prefix>/<component>/latch_<controller>/<object_id>/config,
// keys as Home Assistant's MQTT lock, binary_sensor and sensor
// integrations document them.

// Device is the device block every entity carries: one device per
// controller.
type Device struct {
	Identifiers  []string `json:"identifiers"`
	Name         string   `json:"name"`
	Model        string   `json:"model"`
	Manufacturer string   `json:"manufacturer"`
	SWVersion    string   `json:"sw_version,omitempty"`
}

// entity holds the keys of the discovery configs latch publishes.
type entity struct {
	Name                string `json:"name"`
	UniqueID            string `json:"unique_id"`
	StateTopic          string `json:"state_topic"`
	CommandTopic        string `json:"command_topic,omitempty"`
	DeviceClass         string `json:"device_class,omitempty"`
	PayloadLock         string `json:"payload_lock,omitempty"`
	PayloadUnlock       string `json:"payload_unlock,omitempty"`
	PayloadOpen         string `json:"payload_open,omitempty"`
	StateLocked         string `json:"state_locked,omitempty"`
	StateUnlocked       string `json:"state_unlocked,omitempty"`
	PayloadOn           string `json:"payload_on,omitempty"`
	PayloadOff          string `json:"payload_off,omitempty"`
	ValueTemplate       string `json:"value_template,omitempty"`
	JSONAttributesTopic string `json:"json_attributes_topic,omitempty"`
	Icon                string `json:"icon,omitempty"`
	QoS                 int    `json:"qos"`
	Optimistic          *bool  `json:"optimistic,omitempty"`
	AvailabilityTopic   string `json:"availability_topic"`
	PayloadAvailable    string `json:"payload_available"`
	PayloadNotAvailable string `json:"payload_not_available"`
	Device              Device `json:"device"`
}

// Availability payloads of <topic_prefix>/status.
const (
	Online  = "online"
	Offline = "offline"
)

// discoveryMessage is one retained discovery config; an empty payload
// removes the entity from Home Assistant (a door that lost its DPS, a
// lock whose commands were turned off).
type discoveryMessage struct {
	topic   string
	payload []byte
}

// discovery returns the configs of every door, and the empty payloads
// that remove what an earlier configuration published and this one does
// not.
func (c *Client) discovery() []discoveryMessage {
	t := c.topics
	if t.discovery == "" {
		return nil
	}
	var out []discoveryMessage
	put := func(component, object string, e *entity) {
		var b []byte
		if e != nil {
			e.QoS = 1
			e.AvailabilityTopic, e.PayloadAvailable, e.PayloadNotAvailable = t.status(), Online, Offline
			e.Device = c.device
			b, _ = json.Marshal(e)
		}
		out = append(out, discoveryMessage{topic: t.config(component, object), payload: b})
	}
	no := false
	for _, d := range c.doors {
		id := haID(d.Name)
		uid := t.node + "_" + id
		lock := &entity{Name: d.Name + " lock", UniqueID: uid + "_lock", StateTopic: t.door(d.Name, "lock")}
		if c.cfg.Commands {
			lock.CommandTopic = t.set(d.Name)
			lock.PayloadLock, lock.PayloadUnlock, lock.PayloadOpen = CmdLock, CmdUnlock, CmdOpen
			lock.StateLocked, lock.StateUnlocked = StateLocked, StateUnlocked
			lock.Optimistic = &no
			put("lock", id, lock)
			put("binary_sensor", id+"_lock", nil)
		} else {
			// Home Assistant's lock needs a command topic: without
			// commands the strike is a binary_sensor of class lock
			// (on = unlocked).
			lock.DeviceClass = "lock"
			lock.PayloadOn, lock.PayloadOff = StateUnlocked, StateLocked
			put("binary_sensor", id+"_lock", lock)
			put("lock", id, nil)
		}
		if d.HasDPS {
			put("binary_sensor", id+"_door", &entity{Name: d.Name + " door", UniqueID: uid + "_door",
				StateTopic: t.door(d.Name, "door"), DeviceClass: "door", PayloadOn: On, PayloadOff: Off})
		} else {
			put("binary_sensor", id+"_door", nil)
		}
		put("binary_sensor", id+"_alarm", &entity{Name: d.Name + " alarm", UniqueID: uid + "_alarm",
			StateTopic: t.door(d.Name, "alarm"), DeviceClass: "safety", PayloadOn: On, PayloadOff: Off,
			ValueTemplate: "{{ value_json.state }}", JSONAttributesTopic: t.door(d.Name, "alarm")})
		put("sensor", id+"_access", &entity{Name: d.Name + " last access", UniqueID: uid + "_access",
			StateTopic: t.door(d.Name, "access"), ValueTemplate: "{{ value_json.event }}",
			JSONAttributesTopic: t.door(d.Name, "access"), Icon: "mdi:badge-account"})
	}
	return out
}
