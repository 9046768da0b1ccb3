package fleet

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/latchd/latch/store"
)

// The user document: the value of user.<id> in the creds bucket, JSON.
// Codes are only their MACs under the site key (hex), never digits:
//
//	{"v":1,"user_id":"…","external_id":"…","first_name":"…","last_name":"…",
//	 "email":"…","start":"RFC 3339"|"","end":"…","suspended":false,
//	 "groups":["staff"],
//	 "cards":[{"format":"h10301","facility_code":12,"card_number":3456,"active":true}],
//	 "entry_code":{"mac":"<64 hex>","length":6,"created":"…","created_by":"…"},
//	 "duress_code":{"mac":"<64 hex>","length":6,"created":"…","created_by":"…"},
//	 "mfa_codes":[{"id":"m1f","mac":"<64 hex>","length":6,"created":"…","created_by":"…"}],
//	 "created":"…","updated":"…"}
//
// docs/fleet.md "What lives where" describes it for integrators.
type userDoc struct {
	V          int       `json:"v"`
	UserID     string    `json:"user_id"`
	ExternalID string    `json:"external_id,omitempty"`
	FirstName  string    `json:"first_name,omitempty"`
	LastName   string    `json:"last_name,omitempty"`
	Email      string    `json:"email,omitempty"`
	Start      string    `json:"start,omitempty"`
	End        string    `json:"end,omitempty"`
	Suspended  bool      `json:"suspended,omitempty"`
	Groups     []string  `json:"groups,omitempty"`
	Cards      []cardDoc `json:"cards,omitempty"`
	EntryCode  *codeDoc  `json:"entry_code,omitempty"`
	DuressCode *codeDoc  `json:"duress_code,omitempty"`
	MFACodes   []codeDoc `json:"mfa_codes,omitempty"`
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated"`
}

type cardDoc struct {
	Format       string `json:"format"`
	FacilityCode uint32 `json:"facility_code"`
	CardNumber   uint64 `json:"card_number"`
	Active       bool   `json:"active"`
}

type codeDoc struct {
	ID        string    `json:"id,omitempty"`
	MAC       string    `json:"mac"`
	Length    int       `json:"length"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by,omitempty"`
}

// docVersion is the version of the document this code writes and reads.
const docVersion = 1

// maxDocBytes bounds a document: 100 MFA codes and 64 groups fit in a
// few tens of kilobytes.
const maxDocBytes = 256 << 10

// EncodeUserDoc is the document of u.
func EncodeUserDoc(u store.ReplicaUser) ([]byte, error) {
	d := userDoc{V: docVersion, UserID: u.UserID, ExternalID: u.ExternalID, FirstName: u.FirstName,
		LastName: u.LastName, Email: u.Email, Suspended: u.Suspended, Groups: u.Groups,
		Created: u.Created.UTC(), Updated: u.Updated.UTC()}
	if !u.Start.IsZero() {
		d.Start = u.Start.UTC().Format(time.RFC3339Nano)
	}
	if !u.End.IsZero() {
		d.End = u.End.UTC().Format(time.RFC3339Nano)
	}
	for _, c := range u.Cards {
		d.Cards = append(d.Cards, cardDoc{Format: c.Format, FacilityCode: c.FacilityCode, CardNumber: c.CardNumber, Active: c.Active})
	}
	code := func(c store.ReplicaCode) codeDoc {
		return codeDoc{ID: c.ID, MAC: hex.EncodeToString(c.MAC), Length: c.Length, Created: c.Created.UTC(), CreatedBy: c.CreatedBy}
	}
	if u.EntryCode != nil {
		c := code(*u.EntryCode)
		d.EntryCode = &c
	}
	if u.DuressCode != nil {
		c := code(*u.DuressCode)
		d.DuressCode = &c
	}
	for _, m := range u.MFACodes {
		d.MFACodes = append(d.MFACodes, code(m))
	}
	return json.Marshal(d)
}

// DecodeUserDoc decodes the document stored under the creds key
// user.<userID>. It checks the form (version, the key's user id, hex MACs
// of 32 bytes, dates); the store checks every field rule when it applies
// it. A document from NATS goes through here and nothing else.
func DecodeUserDoc(userID string, data []byte) (store.ReplicaUser, error) {
	if len(data) > maxDocBytes {
		return store.ReplicaUser{}, fmt.Errorf("fleet: user document: larger than %d bytes", maxDocBytes)
	}
	var d userDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&d); err != nil {
		return store.ReplicaUser{}, errors.New("fleet: user document: not a JSON object of the document's shape")
	}
	if dec.More() {
		return store.ReplicaUser{}, errors.New("fleet: user document: data after the object")
	}
	if d.V != docVersion {
		return store.ReplicaUser{}, fmt.Errorf("fleet: user document: version %d, this latchd reads %d", d.V, docVersion)
	}
	if d.UserID != userID {
		return store.ReplicaUser{}, errors.New("fleet: user document: its user_id is not its key's")
	}
	u := store.ReplicaUser{UserID: d.UserID, Created: d.Created, Updated: d.Updated}
	u.ExternalID, u.FirstName, u.LastName, u.Email = d.ExternalID, d.FirstName, d.LastName, d.Email
	u.Suspended, u.Groups = d.Suspended, d.Groups
	var err error
	if u.Start, err = docTime("start", d.Start); err != nil {
		return store.ReplicaUser{}, err
	}
	if u.End, err = docTime("end", d.End); err != nil {
		return store.ReplicaUser{}, err
	}
	for _, c := range d.Cards {
		u.Cards = append(u.Cards, store.Card{Format: c.Format, FacilityCode: c.FacilityCode, CardNumber: c.CardNumber, Active: c.Active})
	}
	code := func(c codeDoc) (store.ReplicaCode, error) {
		mac, err := hex.DecodeString(c.MAC)
		if err != nil || len(mac) != 32 {
			return store.ReplicaCode{}, errors.New("fleet: user document: a code's mac must be 64 hex digits")
		}
		return store.ReplicaCode{ID: c.ID, MAC: mac, Length: c.Length, Created: c.Created, CreatedBy: c.CreatedBy}, nil
	}
	for _, p := range []struct {
		doc *codeDoc
		out **store.ReplicaCode
	}{{d.EntryCode, &u.EntryCode}, {d.DuressCode, &u.DuressCode}} {
		if p.doc == nil {
			continue
		}
		c, err := code(*p.doc)
		if err != nil {
			return store.ReplicaUser{}, err
		}
		if c.ID != "" {
			return store.ReplicaUser{}, errors.New("fleet: user document: an entry or duress code has no id")
		}
		*p.out = &c
	}
	for _, m := range d.MFACodes {
		c, err := code(m)
		if err != nil {
			return store.ReplicaUser{}, err
		}
		u.MFACodes = append(u.MFACodes, c)
	}
	return u, nil
}

func docTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("fleet: user document: %s must be RFC 3339", field)
	}
	return t.UTC(), nil
}
