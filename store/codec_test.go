package store

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestUserRecordRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, r := range []userRec{
		{},
		{UserFields: UserFields{ExternalID: "x", FirstName: "Ä", LastName: "B", Email: "a@b.c", Start: t0, End: t0.Add(time.Hour),
			Suspended: true, Groups: []string{"g1", "g2"}}, Created: t0, Updated: t0.Add(time.Second)},
	} {
		if r.Created.IsZero() {
			r.Created, r.Updated = time.Unix(0, 0).UTC(), time.Unix(0, 0).UTC()
		}
		got, err := decodeUser(encodeUser(&r))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(r, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
		var v UserView
		if err := decodeView("u0000000000000001", encodeUser(&r), &v); err != nil || v.ExternalID != r.ExternalID ||
			v.Suspended != r.Suspended || !v.Start.Equal(r.Start) || len(v.Groups) != len(r.Groups) {
			t.Errorf("view = %+v, %v", v, err)
		}
	}
}

// FuzzDecodeUser: a corrupt record is an error, never a panic.
func FuzzDecodeUser(f *testing.F) {
	f.Add(encodeUser(&userRec{UserFields: UserFields{ExternalID: "e", Groups: []string{"a"}}}))
	f.Add([]byte{1, 7, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeUser(b)
		var v UserView
		verr := decodeView("u0000000000000001", b, &v)
		if (err == nil) != (verr == nil) {
			t.Fatalf("decodeUser err %v, decodeView err %v", err, verr)
		}
		if err == nil {
			again, err := decodeUser(encodeUser(&r))
			if err != nil || !cmp.Equal(r, again) {
				t.Fatalf("re-encode: %v", err)
			}
		}
	})
}
