package store

import (
	"testing"
	"time"

	"github.com/latchd/latch/internal/benchlat"
)

// BenchmarkMatchCardCodeKinds: the door's code check after a badge for
// one user with three MFA codes, an entry code and a duress code, typing
// an MFA code, the duress code or a wrong code. The walk computes both
// MACs and compares every stored one whatever the code is, so the three
// should not differ beyond noise (docs/operations.md, "Duress codes").
func BenchmarkMatchCardCodeKinds(b *testing.B) {
	s := openTest(b)
	u := mustUser(b, s, "ann")
	k := CardKey{Format: "h10301", FacilityCode: 1, CardNumber: 7}
	if err := s.AddCard(u.UserID, Card{Format: k.Format, FacilityCode: 1, CardNumber: 7, Active: true}, admin); err != nil {
		b.Fatal(err)
	}
	for _, c := range []string{"111111", "222222", "333333"} {
		if _, err := s.AddMFACode(u.UserID, []byte(c), admin); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.SetEntryCode(u.UserID, []byte("444444"), admin); err != nil {
		b.Fatal(err)
	}
	if err := s.SetDuressCode(u.UserID, []byte("555555"), admin); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name, code string
		want       CodeMatch
	}{{"mfa", "333333", CodeValid}, {"duress", "555555", CodeDuress}, {"wrong", "666666", CodeNone}} {
		b.Run(c.name, func(b *testing.B) {
			code := []byte(c.code)
			lat := make([]time.Duration, 0, 1<<22)
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				m, err := s.MatchCardCode(k, u.UserID, code, true)
				lat = append(lat, time.Since(t0))
				if err != nil || m != c.want {
					b.Fatalf("MatchCardCode = %v, %v", m, err)
				}
			}
			b.StopTimer()
			benchlat.Report(b, lat)
		})
	}
}
