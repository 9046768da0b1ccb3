package store_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/latchd/latch/store"
)

// A user with a card and an MFA code, checked the way the door does.
func Example() {
	dir, _ := os.MkdirTemp("", "latch-example-")
	defer os.RemoveAll(dir)
	s, err := store.Open(store.Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	admin := store.Actor{Name: "ops", Role: "access_user_admin"}
	u, _ := s.CreateUser(store.UserFields{ExternalID: "emp-42", FirstName: "Ada"}, admin)
	s.AddCard(u.UserID, store.Card{Format: "h10301", FacilityCode: 7, CardNumber: 1234, Active: true}, admin)
	s.AddMFACode(u.UserID, []byte("482913"), admin)

	view, active, _ := s.LookupCard(store.CardKey{Format: "h10301", FacilityCode: 7, CardNumber: 1234})
	ok, _ := s.VerifySecondFactor(view.UserID, []byte("482913"), true)
	bad, _ := s.VerifySecondFactor(view.UserID, []byte("000000"), true)
	fmt.Println(view.ExternalID, active, view.HasMFA, ok, bad)
	fmt.Println(store.ValidateCode([]byte("12a4")))
	// Output:
	// emp-42 true true true false
	// store: code: must be 4–16 ASCII digits 0-9
}
