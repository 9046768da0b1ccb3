package store

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestImportReadsNewUsersAgain: a users file that creates users is read a
// second time in pass 2. If the second read differs from the first in any
// way, nothing is written (live data unchanged, no staging generation
// left, no event); when it is the same, the import succeeds. Both write
// paths (one transaction, generation merge) are covered.
func TestImportReadsNewUsersAgain(t *testing.T) {
	// One existing user (e00) is updated; e01..e05 are new, with cards and
	// entry codes.
	var b strings.Builder
	b.WriteString("externalId,firstName,cardFormat,facilityCode,cardNumber,entryCode\n")
	b.WriteString("e00,Changed,,,,\n")
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(&b, "e%02d,N%d,h10301,7,%d,%d\n", i, i, 100+i, 55550+i)
	}
	orig := b.String()
	errOpen := errors.New("spool gone")
	tests := []struct {
		name    string
		second  string // content of the second read
		openErr bool   // the second open fails
		wantErr error
	}{
		{name: "same", second: orig},
		{name: "new user's name changed", second: strings.Replace(orig, "N3", "X3", 1), wantErr: ErrInputChanged},
		{name: "row appended", second: orig + "e09,Late,,,,\n", wantErr: ErrInputChanged},
		{name: "last row dropped", second: orig[:strings.LastIndex(orig[:len(orig)-1], "\n")+1], wantErr: ErrInputChanged},
		{name: "new row made invalid", second: strings.Replace(orig, "55552", "5x552", 1), wantErr: ErrInputChanged},
		{name: "truncated mid-field", second: orig[:len(orig)-3], wantErr: ErrInputChanged},
		{name: "quote broken", second: strings.Replace(orig, "N4", "\"N4", 1), wantErr: ErrInputChanged},
		{name: "second open fails", openErr: true, wantErr: errOpen},
	}
	for _, path := range []struct {
		name             string
		threshold, chunk int
	}{{"direct", 1 << 30, 100000}, {"bulk", 1, 2}} {
		for _, tc := range tests {
			t.Run(path.name+"/"+tc.name, func(t *testing.T) {
				oldT, oldC := bulkThreshold, mergeChunk
				bulkThreshold, mergeChunk = path.threshold, path.chunk
				defer func() { bulkThreshold, mergeChunk = oldT, oldC }()
				s := openTest(t)
				mustUser(t, s, "e00")
				before := dump(t, s)
				evs, _ := s.Events(EventQuery{})
				opens := 0
				open := func() (io.Reader, error) {
					opens++
					switch {
					case opens == 1:
						return strings.NewReader(orig), nil
					case tc.openErr:
						return nil, errOpen
					default:
						return strings.NewReader(tc.second), nil
					}
				}
				sum, err := s.Import(open, int64(len(orig)), importer1, nil)
				if opens != 2 {
					t.Errorf("input opened %d times, want 2", opens)
				}
				if tc.wantErr == nil {
					if err != nil {
						t.Fatal(err)
					}
					want := ImportSummary{Rows: 6, UsersCreated: 5, UsersUpdated: 1, CredentialsAdded: 10}
					if diff := cmp.Diff(want, sum); diff != "" {
						t.Errorf("summary (-want +got):\n%s", diff)
					}
					for i := 1; i <= 5; i++ {
						u, _, err := s.LookupCard(CardKey{Format: "h10301", FacilityCode: 7, CardNumber: uint64(100 + i)})
						if err != nil || u.ExternalID != fmt.Sprintf("e%02d", i) || !u.HasEntryCode {
							t.Errorf("card of e%02d: %+v, %v", i, u, err)
						}
						if full, err := s.UserByExternalID(u.ExternalID); err != nil || full.FirstName != fmt.Sprintf("N%d", i) {
							t.Errorf("user e%02d: %+v, %v", i, full, err)
						}
						if u2, err := s.LookupEntryCode([]byte(fmt.Sprint(55550 + i))); err != nil || u2.UserID != u.UserID {
							t.Errorf("entry code of e%02d: %+v, %v", i, u2, err)
						}
					}
					return
				}
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if diff := cmp.Diff(before, dump(t, s)); diff != "" {
					t.Errorf("a failed import changed the data (-before +after):\n%s", diff)
				}
				if evs2, _ := s.Events(EventQuery{}); len(evs2) != len(evs) {
					t.Errorf("a failed import appended %d event(s)", len(evs2)-len(evs))
				}
				checkOneGeneration(t, s)
				// The store still works: the unchanged file imports.
				if _, err := s.Import(func() (io.Reader, error) { return strings.NewReader(orig), nil }, 0, importer1, nil); err != nil {
					t.Errorf("import after the failed one: %v", err)
				}
			})
		}
	}
}

// TestImportCredentialsReadOnce: a credentials file, and a users file
// that creates nobody, are read once.
func TestImportCredentialsReadOnce(t *testing.T) {
	s := openTest(t)
	mustUser(t, s, "e1")
	for _, content := range []string{
		"externalId,type,code\ne1,mfa_code,123456\n",
		"externalId,firstName\ne1,Renamed\n",
	} {
		opens := 0
		open := func() (io.Reader, error) { opens++; return strings.NewReader(content), nil }
		if _, err := s.Import(open, 0, importer1, nil); err != nil {
			t.Fatal(err)
		}
		if opens != 1 {
			t.Errorf("%q: opened %d times, want 1", content, opens)
		}
	}
}
