package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestVerkadaSessions(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s := openAt(t, dir, func(o *Options) { o.Now = clk.Now })
	key, err := s.CreateVerkadaKey("sync", RoleCredentialManager, admin)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := s.CreateToken("plain", RoleSystemAdmin, admin)
	if err != nil {
		t.Fatal(err)
	}
	if toks, _ := s.Tokens(); len(toks) != 2 || toks[0].Name != "plain" || toks[0].VerkadaKey || !toks[1].VerkadaKey {
		t.Errorf("Tokens = %+v", toks)
	}
	if _, _, err := s.ExchangeVerkadaKey(plain); !errors.Is(err, ErrNotVerkadaKey) {
		t.Errorf("exchange a plain token: %v", err)
	}
	if _, _, err := s.ExchangeVerkadaKey("latch_nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("exchange an unknown key: %v", err)
	}
	sess, exp, err := s.ExchangeVerkadaKey(key)
	if err != nil || !exp.Equal(clk.Now().Add(30*time.Minute)) {
		t.Fatalf("exchange: %v, expires %v", err, exp)
	}
	if tok, err := s.VerifyVerkadaSession(sess); err != nil || tok.Name != "sync" || tok.Role != RoleCredentialManager {
		t.Errorf("verify = %+v, %v", tok, err)
	}
	// The session is no bearer token, and the key is no session.
	if _, err := s.VerifyToken(sess); err == nil {
		t.Error("a session token works as a bearer token")
	}
	if _, err := s.VerifyVerkadaSession(key); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("the key as a session: %v", err)
	}
	if _, err := s.VerifyVerkadaSession("vks_never-issued"); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("an unknown session: %v", err)
	}
	clk.Add(30*time.Minute - time.Millisecond)
	if _, err := s.VerifyVerkadaSession(sess); err != nil {
		t.Errorf("a session just before its end: %v", err)
	}
	clk.Add(time.Millisecond)
	if _, err := s.VerifyVerkadaSession(sess); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("a session at its end: %v", err)
	}
	// Only hashes are stored: neither secret is in the file.
	sess2, _, err := s.ExchangeVerkadaKey(key)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, err := os.ReadFile(filepath.Join(dir, "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(sess2)) || bytes.Contains(raw, []byte(key)) || bytes.Contains(raw, []byte(sess2[len(sessionPrefix):])) {
		t.Error("a secret is stored in the database file")
	}
	s = openAt(t, dir, func(o *Options) { o.Now = clk.Now })
	if _, err := s.VerifyVerkadaSession(sess2); err != nil {
		t.Errorf("a session across a restart: %v", err)
	}
	// At most maxSessions live per key: the oldest goes.
	first := sess2
	for i := 0; i < maxSessions; i++ {
		clk.Add(time.Second)
		if _, _, err := s.ExchangeVerkadaKey(key); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.VerifyVerkadaSession(first); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("the oldest of %d+1 sessions: %v", maxSessions, err)
	}
	// Revoking the key ends its sessions; a new key of the same name does
	// not revive them.
	last, _, err := s.ExchangeVerkadaKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken("sync", admin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyVerkadaSession(last); !errors.Is(err, ErrNotFound) {
		t.Errorf("a session of a revoked key: %v", err)
	}
	if _, err := s.CreateVerkadaKey("sync", RoleSystemAdmin, admin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyVerkadaSession(last); !errors.Is(err, ErrNotFound) {
		t.Errorf("a session of a revoked key, its name reused: %v", err)
	}
	if toks, _ := s.Tokens(); len(toks) != 2 || !toks[1].VerkadaKey {
		t.Errorf("Tokens after re-creating = %+v", toks)
	}
	if err := s.RevokeToken("sync", admin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateToken("sync", RoleSystemAdmin, admin); err != nil {
		t.Fatal(err)
	}
	if toks, _ := s.Tokens(); toks[1].VerkadaKey {
		t.Error("a plain token inherits the Verkada mark of a revoked one of its name")
	}
}
