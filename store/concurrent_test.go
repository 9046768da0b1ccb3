package store

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestLookupsDuringBulkImport reads existing users' cards and codes while
// a bulk import builds and switches to a new generation: every read must
// succeed, before, during and after the switch.
func TestLookupsDuringBulkImport(t *testing.T) {
	oldT, oldC := bulkThreshold, mergeChunk
	bulkThreshold, mergeChunk = 10, 50
	defer func() { bulkThreshold, mergeChunk = oldT, oldC }()
	dir := t.TempDir()
	s := openAt(t, dir, nil)
	var users strings.Builder
	users.WriteString("externalId,cardFormat,facilityCode,cardNumber,entryCode\n")
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&users, "r%03d,h10301,9,%d,%06d\n", i, i, 100000+i)
	}
	if _, err := s.ImportFile(writeCSV(t, dir, "u.csv", users.String()), importer1, nil); err != nil {
		t.Fatal(err)
	}
	var creds strings.Builder
	creds.WriteString("externalId,type,code\n")
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&creds, "r%03d,mfa_code,%05d\n", i, 20000+i)
	}
	var stop atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; !stop.Load(); i = (i + 7) % 300 {
				u, active, err := s.LookupCard(CardKey{Format: "h10301", FacilityCode: 9, CardNumber: uint64(i)})
				if err == nil && (!active || u.ExternalID != fmt.Sprintf("r%03d", i) || !u.HasEntryCode) {
					err = fmt.Errorf("card %d: view %+v active %v", i, u, active)
				}
				if err == nil {
					// Whether the entry code is accepted depends on which side
					// of the switch this read lands (afterwards the user has an
					// MFA code); that the user is found either way is the point.
					_, err = s.VerifySecondFactor(u.UserID, []byte(fmt.Sprintf("%06d", 100000+i)), true)
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
				reads.Add(1)
			}
		}(g)
	}
	_, err := s.ImportFile(writeCSV(t, dir, "c.csv", creds.String()), importer1, nil)
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		t.Fatalf("read during import: %v", err)
	default:
	}
	if reads.Load() == 0 {
		t.Fatal("no reads ran")
	}
	u, _, _ := s.LookupCard(CardKey{Format: "h10301", FacilityCode: 9, CardNumber: 5})
	if ok, _ := s.VerifySecondFactor(u.UserID, []byte("20005"), false); !ok || !u.HasMFA {
		t.Errorf("after import: HasMFA %v, verify %v", u.HasMFA, ok)
	}
}
