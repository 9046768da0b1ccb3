package mqtt

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Command words on <topic_prefix>/doors/<door>/set (Home Assistant's
// lock sends them as its payload_open, payload_unlock, payload_lock).
const (
	CmdOpen   = "OPEN"   // a momentary unlock: the strike for the door's unlock time
	CmdUnlock = "UNLOCK" // an unlocked override until LOCK
	CmdLock   = "LOCK"   // clear that override
)

// maxCommand bounds a command payload; anything longer is refused unread.
const maxCommand = 32

// ParseCommand reads a command message: topic must be
// <prefix>/doors/<door>/set for one of doors, payload one of OPEN, UNLOCK,
// LOCK (ASCII case ignored, surrounding white space ignored). It returns
// the door and the command word; an error says what is wrong without
// repeating more than a short, printable part of the payload.
func ParseCommand(prefix, topic string, payload []byte, doors []string) (door, cmd string, err error) {
	rest, ok := strings.CutPrefix(topic, prefix+"/doors/")
	if !ok {
		return "", "", errors.New("not a command topic")
	}
	door, ok = strings.CutSuffix(rest, "/set")
	if !ok || door == "" || strings.Contains(door, "/") {
		return "", "", errors.New("not a command topic (want <prefix>/doors/<door>/set)")
	}
	known := false
	for _, d := range doors {
		if d == door {
			known = true
			break
		}
	}
	if !known {
		return "", "", fmt.Errorf("no door %q", short(door))
	}
	if len(payload) > maxCommand {
		return door, "", fmt.Errorf("payload of %d bytes: want OPEN, UNLOCK or LOCK", len(payload))
	}
	word := strings.ToUpper(string(bytes.TrimSpace(payload)))
	switch word {
	case CmdOpen, CmdUnlock, CmdLock:
		return door, word, nil
	}
	return door, "", fmt.Errorf("payload %q: want OPEN, UNLOCK or LOCK", short(string(payload)))
}

// ParseHAStatus reads Home Assistant's birth and will messages on
// <discovery_prefix>/status: "online" or "offline" (case and white space
// ignored). ok is false for anything else.
func ParseHAStatus(payload []byte) (online, ok bool) {
	if len(payload) > 32 {
		return false, false
	}
	switch strings.ToLower(string(bytes.TrimSpace(payload))) {
	case Online:
		return true, true
	case Offline:
		return false, true
	}
	return false, false
}

// short is s cut to 32 runes of valid UTF-8 for an error or log line
// (%q quotes what is left).
func short(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if r := []rune(s); len(r) > 32 {
		return string(r[:32]) + "…"
	}
	return s
}
