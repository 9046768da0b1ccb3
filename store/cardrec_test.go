package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
)

// agree checks the door's fast path against the user records after a
// change: every card's record equals a fresh derivation, LookupCard gives
// the view fillView gives from the users bucket, and VerifyCardCode agrees
// with VerifySecondFactor for every code in codes (with and without the
// entry code fallback), or says ErrCardChanged for an inactive card or
// another user.
func agree(t *testing.T, s *Store, codes [][]byte) {
	t.Helper()
	if err := s.db.View(checkCardCopies); err != nil {
		t.Fatalf("card records: %v", err)
	}
	users, _, err := s.ListUsers(ListQuery{Limit: maxPage})
	if err != nil {
		t.Fatal(err)
	}
	for _, usr := range users {
		var want UserView
		if err := s.db.View(func(tx *bolt.Tx) error {
			root, err := data(tx)
			if err != nil {
				return err
			}
			return fillView(root, []byte(recKey(t, s, usr.UserID)), &want)
		}); err != nil {
			t.Fatal(err)
		}
		want.UserID = usr.UserID // fillView names the record key
		for _, c := range usr.Cards {
			got, active, err := s.LookupCard(c.Key())
			if err != nil || active != c.Active {
				t.Fatalf("LookupCard(%v) = %v, %v; want active %v", c.Key(), active, err, c.Active)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("LookupCard(%v) view differs from the user record (-user +card):\n%s", c.Key(), diff)
			}
			for _, code := range codes {
				for _, fb := range []bool{false, true} {
					ok, err := s.VerifyCardCode(c.Key(), usr.UserID, code, fb)
					if !c.Active {
						if !errors.Is(err, ErrCardChanged) || ok {
							t.Fatalf("VerifyCardCode on an inactive card = %v, %v; want ErrCardChanged", ok, err)
						}
						continue
					}
					if want.Suspended {
						if !errors.Is(err, ErrUserSuspended) || ok {
							t.Fatalf("VerifyCardCode for a suspended user = %v, %v; want ErrUserSuspended", ok, err)
						}
						continue
					}
					wantOK, werr := s.VerifySecondFactor(usr.UserID, code, fb)
					if err != nil || werr != nil || ok != wantOK {
						t.Fatalf("user %s card %v code %s fallback %v: VerifyCardCode = %v, %v; VerifySecondFactor = %v, %v",
							usr.UserID, c.Key(), code, fb, ok, err, wantOK, werr)
					}
				}
			}
			for _, other := range users {
				if other.UserID == usr.UserID {
					continue
				}
				if ok, err := s.VerifyCardCode(c.Key(), other.UserID, codes[0], true); ok || !errors.Is(err, ErrCardChanged) {
					t.Fatalf("VerifyCardCode with another user's id = %v, %v; want ErrCardChanged", ok, err)
				}
			}
		}
	}
}

// TestCardRecordFollowsUser changes users, cards and codes in every way
// the store offers — the API methods, small imports and generation-building
// imports — at random, and checks after each step that the card records
// (the door's copy of the user) agree with the user records.
func TestCardRecordFollowsUser(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			oldT, oldC := bulkThreshold, mergeChunk
			defer func() { bulkThreshold, mergeChunk = oldT, oldC }()
			dir := t.TempDir()
			s := openAt(t, dir, nil)
			rng := rand.New(rand.NewPCG(seed, 7))
			codes := [][]byte{[]byte("1234"), []byte("5678"), []byte("900001"), []byte("12345678"), []byte("0000"), []byte("12a4")}
			cards := []CardKey{{"h10301", 1, 10}, {"h10301", 1, 11}, {"raw", 0, 12}, {"h10306", 2, 13}, {"h10302", 0, 14}}
			var ids []string
			for i := 0; i < 3; i++ {
				ids = append(ids, mustUser(t, s, fmt.Sprintf("x%d", i)).UserID)
			}
			pick := func() string { return ids[rng.IntN(len(ids))] }
			code := func() []byte { return codes[rng.IntN(len(codes)-1)] }
			mfaID := func(uid string) string {
				l, _ := s.MFACodes(uid)
				if len(l) == 0 {
					return "m1"
				}
				return l[rng.IntN(len(l))].ID
			}
			date := func() time.Time { return time.Date(2026, 1+time.Month(rng.IntN(12)), 1, 0, 0, 0, 0, time.UTC) }
			importCSV := func(content string) {
				bulkThreshold, mergeChunk = oldT, oldC
				if rng.IntN(2) == 0 {
					bulkThreshold, mergeChunk = 1, 1+rng.IntN(3)
				}
				_, err := s.ImportFile(writeCSV(t, dir, "in.csv", content), importer1, nil)
				var ie *ImportError
				if err != nil && !errors.As(err, &ie) {
					t.Fatalf("import: %v", err)
				}
			}
			ops := []func() string{
				func() string {
					uid := pick()
					u, err := s.User(uid)
					if err != nil {
						return "update: gone"
					}
					f := u.UserFields
					switch rng.IntN(4) {
					case 0:
						f.Suspended = !f.Suspended
					case 1:
						f.Groups = [][]string{nil, {"staff"}, {"lab", "staff"}}[rng.IntN(3)]
					case 2:
						f.Start, f.End = time.Time{}, time.Time{}
						if rng.IntN(2) == 0 {
							f.Start, f.End = date(), date().AddDate(1, 0, 0)
						}
					case 3:
						f.ExternalID = fmt.Sprintf("x%d", rng.IntN(20))
					}
					_, err = s.UpdateUser(uid, f, admin)
					return fmt.Sprintf("update %s: %v", uid, err)
				},
				func() string {
					k := cards[rng.IntN(len(cards))]
					uid := pick()
					err := s.AddCard(uid, Card{Format: k.Format, FacilityCode: k.FacilityCode, CardNumber: k.CardNumber, Active: rng.IntN(3) > 0}, admin)
					return fmt.Sprintf("add card %v to %s: %v", k, uid, err)
				},
				func() string {
					k, uid := cards[rng.IntN(len(cards))], pick()
					return fmt.Sprintf("set active %v: %v", k, s.SetCardActive(uid, k, rng.IntN(2) == 0, admin))
				},
				func() string {
					k, uid := cards[rng.IntN(len(cards))], pick()
					return fmt.Sprintf("delete card %v: %v", k, s.DeleteCard(uid, k, admin))
				},
				func() string {
					uid := pick()
					return fmt.Sprintf("set entry %s: %v", uid, s.SetEntryCode(uid, code(), admin))
				},
				func() string {
					uid := pick()
					return fmt.Sprintf("delete entry %s: %v", uid, s.DeleteEntryCode(uid, admin))
				},
				func() string {
					uid := pick()
					_, err := s.AddMFACode(uid, code(), admin)
					return fmt.Sprintf("add mfa %s: %v", uid, err)
				},
				func() string {
					uid := pick()
					c, _, err := s.GenerateMFACode(uid, 4, admin)
					if err == nil {
						codes = append(codes, c)
					}
					return fmt.Sprintf("generate mfa %s: %v", uid, err)
				},
				func() string {
					uid := pick()
					_, err := s.ReplaceMFACode(uid, mfaID(uid), code(), admin)
					return fmt.Sprintf("replace mfa %s: %v", uid, err)
				},
				func() string {
					uid := pick()
					return fmt.Sprintf("delete mfa %s: %v", uid, s.DeleteMFACode(uid, mfaID(uid), admin))
				},
				func() string {
					uid := pick()
					return fmt.Sprintf("delete mfa by value %s: %v", uid, s.DeleteMFACodeByValue(uid, code(), admin))
				},
				func() string {
					if rng.IntN(3) > 0 {
						return "no delete"
					}
					uid := pick()
					err := s.DeleteUser(uid, admin)
					u := mustUser(t, s, fmt.Sprintf("n%d", rng.Uint32()))
					ids[slices.Index(ids, uid)] = u.UserID
					return fmt.Sprintf("delete user %s: %v", uid, err)
				},
				func() string {
					var b strings.Builder
					b.WriteString("userId,type,cardFormat,facilityCode,cardNumber,code,active\n")
					for n := 1 + rng.IntN(4); n > 0; n-- {
						uid := pick()
						switch rng.IntN(3) {
						case 0:
							k := cards[rng.IntN(len(cards))]
							fmt.Fprintf(&b, "%s,card,%s,%d,%d,,%v\n", uid, k.Format, k.FacilityCode, k.CardNumber, rng.IntN(2) == 0)
						case 1:
							fmt.Fprintf(&b, "%s,entry_code,,,,%s,\n", uid, code())
						case 2:
							fmt.Fprintf(&b, "%s,mfa_code,,,,%s,\n", uid, code())
						}
					}
					importCSV(b.String())
					return "import credentials:\n" + b.String()
				},
				func() string {
					var b strings.Builder
					b.WriteString("externalId,groups,endDate,cardFormat,facilityCode,cardNumber,entryCode\n")
					for n := 1 + rng.IntN(3); n > 0; n-- {
						k := cards[rng.IntN(len(cards))]
						fmt.Fprintf(&b, "x%d,%s,%s,%s,%d,%d,%s\n", rng.IntN(6), []string{"", "staff", "lab;staff"}[rng.IntN(3)],
							[]string{"", "2027-06-30"}[rng.IntN(2)], k.Format, k.FacilityCode, k.CardNumber, code())
					}
					importCSV(b.String())
					return "import users:\n" + b.String()
				},
			}
			for step := 0; step < 300; step++ {
				what := ops[rng.IntN(len(ops))]()
				t.Logf("step %d: %s", step, what)
				agree(t, s, codes)
				if t.Failed() {
					return
				}
			}
		})
	}
}

// TestVerifyCardCode checks the card-keyed second factor check on its own.
func TestVerifyCardCode(t *testing.T) {
	s := openTest(t)
	ann, bob := mustUser(t, s, "ann").UserID, mustUser(t, s, "bob").UserID
	k := CardKey{Format: "h10301", FacilityCode: 1, CardNumber: 2}
	if err := s.AddCard(ann, Card{Format: k.Format, FacilityCode: 1, CardNumber: 2, Active: true}, admin); err != nil {
		t.Fatal(err)
	}
	check := func(code string, fb, want bool, wantErr error) {
		t.Helper()
		ok, err := s.VerifyCardCode(k, ann, []byte(code), fb)
		if ok != want || !errors.Is(err, wantErr) {
			t.Errorf("VerifyCardCode(%q, fallback %v) = %v, %v; want %v, %v", code, fb, ok, err, want, wantErr)
		}
	}
	check("1234", true, false, nil) // no second factor at all
	if err := s.SetEntryCode(ann, []byte("2468"), admin); err != nil {
		t.Fatal(err)
	}
	check("2468", true, true, nil)
	check("2468", false, false, nil)
	check("1357", true, false, nil)
	if _, err := s.AddMFACode(ann, []byte("1111"), admin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMFACode(ann, []byte("99999999"), admin); err != nil {
		t.Fatal(err)
	}
	check("1111", true, true, nil)
	check("99999999", false, true, nil)
	check("2468", true, false, nil) // MFA codes exist: no fallback to the entry code
	check("111", true, false, nil)
	check("1111 ", true, false, nil)
	check("", true, false, nil)
	// Another user sharing the code changes nothing for ann; the MAC binds
	// the user, so bob's copy of a code never opens ann's card.
	if _, err := s.AddMFACode(bob, []byte("4321"), admin); err != nil {
		t.Fatal(err)
	}
	check("4321", true, false, nil)
	// Changes while the code is typed: the user suspended …
	if _, err := s.UpdateUser(ann, UserFields{ExternalID: "ann", Suspended: true}, admin); err != nil {
		t.Fatal(err)
	}
	check("1111", true, false, ErrUserSuspended)
	if _, err := s.UpdateUser(ann, UserFields{ExternalID: "ann"}, admin); err != nil {
		t.Fatal(err)
	}
	check("1111", true, true, nil)
	// … the card given to someone else, deactivated, deleted.
	if ok, err := s.VerifyCardCode(k, bob, []byte("4321"), true); ok || !errors.Is(err, ErrCardChanged) {
		t.Errorf("another user's id: %v, %v", ok, err)
	}
	if ok, err := s.VerifyCardCode(k, "nonsense", []byte("1111"), true); ok || !errors.Is(err, ErrCardChanged) {
		t.Errorf("a malformed user id: %v, %v", ok, err)
	}
	if err := s.SetCardActive(ann, k, false, admin); err != nil {
		t.Fatal(err)
	}
	check("1111", true, false, ErrCardChanged)
	if err := s.DeleteCard(ann, k, admin); err != nil {
		t.Fatal(err)
	}
	check("1111", true, false, ErrCardChanged)
	if err := s.AddCard(bob, Card{Format: k.Format, FacilityCode: 1, CardNumber: 2, Active: true}, admin); err != nil {
		t.Fatal(err)
	}
	check("1111", true, false, ErrCardChanged)
}

// TestParseCardRejects feeds parseCard truncated and altered records.
func TestParseCardRejects(t *testing.T) {
	s := openTest(t)
	ann := mustUser(t, s, "ann").UserID
	if _, err := s.UpdateUser(ann, UserFields{ExternalID: "ann", Groups: []string{"a", "b"}, Start: time.Unix(1, 0), End: time.Unix(2e9, 0)}, admin); err != nil {
		t.Fatal(err)
	}
	k := CardKey{Format: "raw", CardNumber: 5}
	if err := s.AddCard(ann, Card{Format: "raw", CardNumber: 5, Active: true}, admin); err != nil {
		t.Fatal(err)
	}
	s.SetEntryCode(ann, []byte("4444"), admin)
	s.AddMFACode(ann, []byte("5555"), admin)
	var rec []byte
	s.db.View(func(tx *bolt.Tx) error {
		root, _ := data(tx)
		rec = bytes.Clone(root.Bucket(bCards).Get(appendCardKey(nil, k)))
		return nil
	})
	if _, err := parseCard(rec); err != nil {
		t.Fatalf("parseCard of a good record: %v", err)
	}
	for n := 0; n < len(rec); n++ {
		if n == len(rec)-macSize {
			continue // dropping the last MFA MAC leaves a valid record
		}
		if _, err := parseCard(rec[:n]); err == nil {
			t.Errorf("parseCard accepted the record cut to %d of %d bytes", n, len(rec))
		}
	}
	bad := bytes.Clone(rec)
	bad[cardFlagsAt] |= 0x80
	if _, err := parseCard(bad); err == nil {
		t.Error("parseCard accepted an unknown flag")
	}
	bad = bytes.Clone(rec)
	bad[cardActiveAt] = 2
	if _, err := parseCard(bad); err == nil {
		t.Error("parseCard accepted active byte 2")
	}
}

func FuzzParseCard(f *testing.F) {
	f.Add(append(bytes.Repeat([]byte{'u'}, userIDLen), 1, 0, 0, 0))
	f.Add(append(bytes.Repeat([]byte{'u'}, userIDLen), 1, cflagAll, 2, 4, 3, 'e', 'x', 't', 1, 1, 'g'))
	f.Add(append(append(bytes.Repeat([]byte{'u'}, userIDLen), 1, cflagDuress|cflagEntry, 0, 0), bytes.Repeat([]byte{7}, 2*macSize)...))
	f.Fuzz(func(t *testing.T, v []byte) {
		r, err := parseCard(v)
		if err != nil {
			return
		}
		var u UserView
		if err := r.view(&u, (&idCodec{}).pubBytes); err != nil {
			return
		}
		if len(r.mfaMACs)%macSize != 0 || (r.entryMAC != nil && len(r.entryMAC) != macSize) ||
			(r.duressMAC != nil && len(r.duressMAC) != macSize) {
			t.Fatalf("parseCard accepted MACs of %d, %d and %d bytes", len(r.mfaMACs), len(r.entryMAC), len(r.duressMAC))
		}
	})
}

// TestOpenSchema1 opens the database a schema 1 program wrote
// (testdata/schema1): Open converts it to the schema 4 layout (which
// derives the card records), and the door's answers are the ones that
// program gave.
func TestOpenSchema1(t *testing.T) {
	for _, tc := range []struct {
		name        string
		chunk       int
		interrupted bool
	}{{"one chunk", 20000, false}, {"chunks of 2", 2, false}, {"resumed", 3, true}} {
		t.Run(tc.name, func(t *testing.T) {
			old := migrateChunk
			migrateChunk = tc.chunk
			defer func() { migrateChunk = old }()
			openSchema1(t, tc.interrupted)
		})
	}
}

func openSchema1(t *testing.T, interrupted bool) {
	dir := copyFixture(t, "schema1")
	if interrupted {
		interruptLayout4(t, filepath.Join(dir, "latch.db"))
	}
	records := legacyRecords(t, filepath.Join(dir, "latch.db"))
	var logs bytes.Buffer
	var progress []int
	s := openAt(t, dir, func(o *Options) {
		o.Logger = zerolog.New(&logs)
		o.OnMigrate = func(n int) { progress = append(progress, n) }
	})
	// The events' user ids are migrated (to schema 3) and counted first:
	// the fixture's 17 events all name users; then every record of the
	// data buckets is converted (to schema 4).
	const events = 17
	if !strings.Contains(logs.String(), fmt.Sprintf(`"events":%d`, events)) {
		t.Errorf("log %q, want the events' migration of %d", logs.String(), events)
	}
	total := events + records
	// One call per transaction, counting up to the total (a transaction
	// converts migrateChunk users with their records, or migrateChunk
	// records of another bucket).
	if len(progress) == 0 || progress[len(progress)-1] != total || !slices.IsSorted(progress) ||
		len(progress) < (total/5+migrateChunk-1)/migrateChunk {
		t.Errorf("OnMigrate calls %v with chunks of %d, want them counting up to %d", progress, migrateChunk, total)
	}
	if want := fmt.Sprintf(`"records":%d`, records); !strings.Contains(logs.String(), want) || !strings.Contains(logs.String(), "migrated the records to schema 4") {
		t.Errorf("log %q, want the migration with %s", logs.String(), want)
	}
	s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bMeta).Get(kSchema); !bytes.Equal(v, be32(schemaVersion)) {
			t.Errorf("schema after Open = %x, want %d", v, schemaVersion)
		}
		return nil
	})
	// The fixture's users, by their record keys (userid.go).
	ann, bob, cat, dan := s.pubID(newUserID(1)), s.pubID(newUserID(2)), s.pubID(newUserID(3)), s.pubID(newUserID(4))
	cases := []struct {
		card   CardKey
		user   string
		active bool
		view   UserView
		right  []string // codes that verify (with fallback)
		wrong  []string
	}{
		{CardKey{"h10301", 12, 3456}, ann, true, UserView{UserID: ann, ExternalID: "ann", Groups: []string{"staff", "lab"}, HasMFA: true, HasEntryCode: true},
			[]string{"1111", "9876543210123456"}, []string{"135790", "4242"}},
		{CardKey{"raw", 0, 0xdeadbeef}, ann, false, UserView{UserID: ann, ExternalID: "ann", Groups: []string{"staff", "lab"}, HasMFA: true, HasEntryCode: true}, nil, nil},
		{CardKey{"h10301", 12, 1001}, bob, true, UserView{UserID: bob, ExternalID: "bob", Suspended: true, Groups: []string{"staff"}, HasMFA: true},
			nil, nil}, // suspended: ErrUserSuspended, below
		{CardKey{"h10306", 7, 77}, cat, true, UserView{UserID: cat, ExternalID: "cat", Groups: []string{"contractors"}, HasMFA: true,
			Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
			[]string{"424242"}, []string{"5555"}},
		{CardKey{"h10302", 0, 123456789}, dan, true, UserView{UserID: dan, ExternalID: "dan", HasEntryCode: true}, []string{"2468"}, []string{"1111"}},
	}
	for _, c := range cases {
		u, active, err := s.LookupCard(c.card)
		if err != nil || active != c.active {
			t.Errorf("LookupCard(%v) = %v, %v", c.card, active, err)
			continue
		}
		if diff := cmp.Diff(c.view, u); diff != "" {
			t.Errorf("LookupCard(%v) (-want +got):\n%s", c.card, diff)
		}
		for _, code := range c.right {
			if ok, err := s.VerifyCardCode(c.card, c.user, []byte(code), true); !ok || err != nil {
				t.Errorf("VerifyCardCode(%v, %s) = %v, %v; want true", c.card, code, ok, err)
			}
		}
		for _, code := range c.wrong {
			if ok, err := s.VerifyCardCode(c.card, c.user, []byte(code), true); ok || err != nil {
				t.Errorf("VerifyCardCode(%v, %s) = %v, %v; want false", c.card, code, ok, err)
			}
		}
	}
	if ok, err := s.VerifyCardCode(CardKey{"h10301", 12, 1001}, bob, []byte("1111"), true); ok || !errors.Is(err, ErrUserSuspended) {
		t.Errorf("bob is suspended: VerifyCardCode = %v, %v", ok, err)
	}
	if u, err := s.LookupEntryCode([]byte("135790")); err != nil || u.UserID != ann {
		t.Errorf("LookupEntryCode = %+v, %v", u, err)
	}
	agree(t, s, [][]byte{[]byte("1111"), []byte("2468"), []byte("424242"), []byte("5555")})
}

// TestMFACodeLimit: a user has at most maxMFA MFA codes, whether they come
// through the API methods or an import (both of its write paths).
func TestMFACodeLimit(t *testing.T) {
	for _, bulk := range []bool{false, true} {
		t.Run(fmt.Sprintf("bulk=%v", bulk), func(t *testing.T) {
			if bulk {
				oldT, oldC := bulkThreshold, mergeChunk
				bulkThreshold, mergeChunk = 1, 3
				defer func() { bulkThreshold, mergeChunk = oldT, oldC }()
			}
			dir := t.TempDir()
			s := openAt(t, dir, nil)
			ann := mustUser(t, s, "ann").UserID
			if err := s.AddCard(ann, Card{Format: "raw", CardNumber: 9, Active: true}, admin); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < maxMFA-2; i++ {
				if _, err := s.AddMFACode(ann, []byte(fmt.Sprintf("%06d", i)), admin); err != nil {
					t.Fatalf("code %d: %v", i, err)
				}
			}
			// Two more would be fine, three are one too many: every new
			// row of that user is reported, the repeat of a code the
			// user has is not, and nothing is written.
			var b strings.Builder
			b.WriteString("externalId,type,code\n")
			for _, c := range []string{"000001", "900001", "900002", "900003"} {
				fmt.Fprintf(&b, "ann,mfa_code,%s\n", c)
			}
			_, err := s.ImportFile(writeCSV(t, dir, "c.csv", b.String()), importer1, nil)
			var ie *ImportError
			if !errors.As(err, &ie) || len(ie.Rows) != 3 {
				t.Fatalf("import of 3 codes over the limit: %v", err)
			}
			for i, r := range ie.Rows {
				if r.Line != i+3 || r.Column != "code" || !strings.Contains(r.Rule, ruleMaxMFA) || !strings.Contains(r.Rule, "adds 3 to the user's 98") {
					t.Errorf("row error %d: %+v", i, r)
				}
			}
			if l, _ := s.MFACodes(ann); len(l) != maxMFA-2 {
				t.Fatalf("%d codes after a refused import, want %d", len(l), maxMFA-2)
			}
			b.Reset()
			b.WriteString("externalId,type,code\nann,mfa_code,900001\nann,mfa_code,900002\n")
			if _, err := s.ImportFile(writeCSV(t, dir, "c.csv", b.String()), importer1, nil); err != nil {
				t.Fatalf("import up to the limit: %v", err)
			}
			var ve *ValidationError
			if _, err := s.AddMFACode(ann, []byte("777777"), admin); !errors.As(err, &ve) || ve.Rule != ruleMaxMFA {
				t.Errorf("AddMFACode beyond the limit: %v", err)
			}
			if _, _, err := s.GenerateMFACode(ann, 8, admin); !errors.As(err, &ve) || ve.Rule != ruleMaxMFA {
				t.Errorf("GenerateMFACode beyond the limit: %v", err)
			}
			// Adding a code the user has is refused like a new one (it
			// would otherwise tell the caller the user has it), and
			// replacing one keeps the count.
			if _, err := s.AddMFACode(ann, []byte("000005"), admin); !errors.As(err, &ve) || ve.Rule != ruleMaxMFA {
				t.Errorf("re-adding a code at the limit: %v, want the limit's error", err)
			}
			l, _ := s.MFACodes(ann)
			if _, err := s.ReplaceMFACode(ann, l[0].ID, []byte("777777"), admin); err != nil {
				t.Errorf("ReplaceMFACode at the limit: %v", err)
			}
			if ok, err := s.VerifyCardCode(CardKey{Format: "raw", CardNumber: 9}, ann, []byte("777777"), false); !ok || err != nil {
				t.Errorf("the replaced code at the limit: %v, %v", ok, err)
			}
			if err := s.DeleteMFACode(ann, l[1].ID, admin); err != nil {
				t.Fatal(err)
			}
			if _, err := s.AddMFACode(ann, []byte("888888"), admin); err != nil {
				t.Errorf("AddMFACode after a delete: %v", err)
			}
		})
	}
}

// TestCheckAndRepair: CheckFile (read-only, no key) finds a stale card
// record, a card missing from ucards and a schema it does not read;
// RepairCardRecords rewrites the stale record and nothing else.
func TestCheckAndRepair(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "latch.db")
	s, err := Open(Options{Path: path, KeyFile: filepath.Join(dir, "device.key")})
	if err != nil {
		t.Fatal(err)
	}
	ann, bob := mustUser(t, s, "ann").UserID, mustUser(t, s, "bob").UserID
	ka, kb := CardKey{Format: "raw", CardNumber: 1}, CardKey{Format: "raw", CardNumber: 2}
	for _, c := range []struct {
		uid string
		k   CardKey
	}{{ann, ka}, {bob, kb}} {
		if err := s.AddCard(c.uid, Card{Format: c.k.Format, CardNumber: c.k.CardNumber, Active: true}, admin); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddMFACode(ann, []byte("4321"), admin); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check := func() *CheckReport {
		t.Helper()
		r, err := CheckFile(path, 0)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := check(); !r.OK() || r.Users != 2 || r.Cards != 2 || r.Schema != schemaVersion {
		t.Fatalf("a good database: %+v", r)
	}
	// Break it behind the store's back: ann's card loses its MFA MAC (a
	// stale copy), bob's card loses its ucards entry.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := txBuckets(tx)
		if err != nil {
			return err
		}
		key := appendCardKey(nil, ka)
		v := b.cards.Get(key)
		if err := b.cards.Put(key, bytes.Clone(v[:len(v)-macSize])); err != nil {
			return err
		}
		return b.ucards.Delete(append([]byte(recKey(t, s, bob)), appendCardKey(nil, kb)...))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	r := check()
	if r.OK() || len(r.Problems) != 2 ||
		!strings.Contains(r.Problems[0], "card raw/0/1 of "+ann+": its copy of the user's view or codes is stale") ||
		!strings.Contains(r.Problems[1], "card raw/0/2 of "+bob+": missing from the user's cards") {
		t.Fatalf("problems %q", r.Problems)
	}
	// The check holds bbolt's shared lock only: the store opens after it.
	s, err = Open(Options{Path: path, KeyFile: filepath.Join(dir, "device.key")})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := s.VerifyCardCode(ka, ann, []byte("4321"), false); ok || err != nil {
		t.Errorf("with the stale copy the code = %v, %v (the copy has no MFA code left)", ok, err)
	}
	fixed, err := s.RepairCardRecords()
	if err != nil || fixed != 1 {
		t.Fatalf("RepairCardRecords = %d, %v; want 1", fixed, err)
	}
	if ok, err := s.VerifyCardCode(ka, ann, []byte("4321"), false); !ok || err != nil {
		t.Errorf("after the repair the code = %v, %v", ok, err)
	}
	// While the store is open, a check is refused, not a hang.
	if _, err := CheckFile(path, 50*time.Millisecond); !errors.Is(err, ErrInUse) {
		t.Errorf("CheckFile while open: %v, want ErrInUse", err)
	}
	s.Close()
	if r := check(); len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "missing from the user's cards") {
		t.Errorf("after the repair: %q (the ucards entry is not the card record's to mend)", r.Problems)
	}
	// A database of another schema is named, not checked.
	db, err = bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Put(kSchema, be32(1)) })
	db.Close()
	if r := check(); r.Schema != 1 || len(r.Problems) != 1 || !strings.Contains(r.Problems[0], fmt.Sprintf("schema 1: this program reads %d", schemaVersion)) {
		t.Errorf("schema 1: %+v", r)
	}
}
