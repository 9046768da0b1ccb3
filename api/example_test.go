package api_test

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/latchd/latch/api"
	"github.com/latchd/latch/store"
)

// Example serves the API on a fresh store and adds an MFA code through the
// Verkada-shaped endpoint.
func Example() {
	dir, _ := os.MkdirTemp("", "latch-example-")
	defer os.RemoveAll(dir)
	st, err := store.Open(store.Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	token, _ := st.CreateToken("integrator", store.RoleCredentialManager, store.Actor{Name: "test"})
	st.CreateUser(store.UserFields{ExternalID: "E-1001", FirstName: "Ada"}, store.Actor{Name: "example"})

	srv := api.New(api.Options{Store: st})
	req := httptest.NewRequest("POST", "/access/v1/credentials/mfa_code?external_id=E-1001", strings.NewReader(`{"code":"024680"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	fmt.Print(rec.Code, " ", rec.Body.String())

	req = httptest.NewRequest("POST", "/access/v1/credentials/mfa_code?external_id=E-1001", strings.NewReader(`{"code":24680}`))
	req.Header.Set("Authorization", "Bearer "+token)
	rec = httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output:
	// 200 {"code":"024680"}
	// 400 {"message":"api: code: must be a JSON string of 4–16 ASCII digits, not a number","error":"api: code: must be a JSON string of 4–16 ASCII digits, not a number","field":"code","rule":"must be a JSON string of 4–16 ASCII digits, not a number"}
}
