package fleet

import (
	"bytes"
	"testing"
	"time"

	"github.com/latchd/latch/store"
)

// FuzzDecodeUserDoc: no document read from NATS panics the decoder, and
// what it accepts encodes back to a document that decodes to the same.
func FuzzDecodeUserDoc(f *testing.F) {
	u := store.ReplicaUser{UserID: "5b0c6f0e-3a41-4d2e-9c1b-7f6e2d9a8c41", Created: time.Unix(1, 0).UTC(), Updated: time.Unix(2, 0).UTC(),
		Cards:      []store.Card{{Format: "h10301", FacilityCode: 1, CardNumber: 2, Active: true}},
		EntryCode:  &store.ReplicaCode{MAC: bytes.Repeat([]byte{1}, 32), Length: 6},
		DuressCode: &store.ReplicaCode{MAC: bytes.Repeat([]byte{3}, 32), Length: 5},
		MFACodes:   []store.ReplicaCode{{ID: "m1", MAC: bytes.Repeat([]byte{2}, 32), Length: 4}}}
	u.ExternalID, u.Groups = "e1", []string{"staff"}
	u.Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	doc, err := EncodeUserDoc(u)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(doc)
	f.Add([]byte(`{"v":1,"user_id":"5b0c6f0e-3a41-4d2e-9c1b-7f6e2d9a8c41","created":"2026-01-01T00:00:00Z","updated":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"v":1,"user_id":"5b0c6f0e-3a41-4d2e-9c1b-7f6e2d9a8c41","entry_code":{"mac":"zz"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeUserDoc("5b0c6f0e-3a41-4d2e-9c1b-7f6e2d9a8c41", data)
		if err != nil {
			return
		}
		again, err := EncodeUserDoc(got)
		if err != nil {
			t.Fatalf("an accepted document does not encode: %v", err)
		}
		back, err := DecodeUserDoc("5b0c6f0e-3a41-4d2e-9c1b-7f6e2d9a8c41", again)
		if err != nil {
			t.Fatalf("re-encoded document refused: %v", err)
		}
		a, _ := EncodeUserDoc(back)
		if !bytes.Equal(a, again) {
			t.Fatalf("encode/decode not stable:\n%s\n%s", again, a)
		}
	})
}
