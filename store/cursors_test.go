package store

import (
	"testing"
)

func TestCursors(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Path: dir + "/latch.db", KeyFile: dir + "/device.key", EventRetention: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Cursor("mqtt"); err != nil || ok {
		t.Fatalf("fresh cursor: ok=%v err=%v, want none", ok, err)
	}
	if first, last, err := s.EventBounds(); err != nil || first != 1 || last != 0 {
		t.Fatalf("empty log bounds = %d, %d, %v; want 1, 0", first, last, err)
	}
	if err := s.SetCursor("mqtt", 5); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCursor("mqtt", 4); err != nil { // a late ack: no step back
		t.Fatal(err)
	}
	if err := s.SetCursor("webhook:soc", 0); err != nil {
		t.Fatal(err)
	}
	if seq, ok, err := s.Cursor("mqtt"); err != nil || !ok || seq != 5 {
		t.Fatalf("cursor = %d, %v, %v; want 5", seq, ok, err)
	}
	if seq, ok, _ := s.Cursor("webhook:soc"); !ok || seq != 0 {
		t.Fatalf("zero cursor = %d, %v; want a cursor at 0", seq, ok)
	}
	if err := s.SetCursor("", 1); err == nil {
		t.Fatal("empty name accepted")
	}
	all, err := s.Cursors()
	if err != nil || len(all) != 2 || all["mqtt"] != 5 {
		t.Fatalf("Cursors = %v, %v", all, err)
	}
	for range 5 {
		if err := s.AppendEvents([]Event{{Event: "rex", Door: "front"}}); err != nil {
			t.Fatal(err)
		}
	}
	if first, last, err := s.EventBounds(); err != nil || first != 3 || last != 5 {
		t.Fatalf("bounds after 5 events kept 3 = %d, %d, %v; want 3, 5", first, last, err)
	}
	// The cursors survive a restart.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(Options{Path: dir + "/latch.db", KeyFile: dir + "/device.key"})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if seq, ok, _ := s2.Cursor("mqtt"); !ok || seq != 5 {
		t.Fatalf("cursor after reopen = %d, %v; want 5", seq, ok)
	}
}
