package main

import (
	"bytes"
	"encoding/pem"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCAFlag: latchctl reaches latchd over https with --ca (or LATCH_CA)
// naming the certificate it serves; without it a self-signed certificate
// is refused; --ca needs an https URL.
func TestCAFlag(t *testing.T) {
	e := newCtlEnv(t)
	plain := e.srv
	tlsSrv := httptest.NewUnstartedServer(plain.Config.Handler)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	ca := filepath.Join(e.dir, "latchd.crt")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	ctl := func(args ...string) (int, string, string) {
		var o, er bytes.Buffer
		code := run(args, &o, &er)
		return code, o.String(), er.String()
	}
	if code, _, errs := ctl("users", "list", "--url", tlsSrv.URL, "--ca", ca); code != 0 {
		t.Errorf("--ca: exit %d, %s", code, errs)
	}
	t.Setenv("LATCH_CA", ca)
	if code, _, errs := ctl("users", "list", "--url", tlsSrv.URL); code != 0 {
		t.Errorf("LATCH_CA: exit %d, %s", code, errs)
	}
	t.Setenv("LATCH_CA", "")
	if code, _, errs := ctl("users", "list", "--url", tlsSrv.URL); code == 0 || !strings.Contains(errs, "certificate") {
		t.Errorf("a self-signed certificate without --ca: exit %d, %s; want a certificate error", code, errs)
	}
	if code, _, errs := ctl("users", "list", "--url", plain.URL, "--ca", ca); code == 0 || !strings.Contains(errs, "--ca: only with an https --url") {
		t.Errorf("--ca with http: exit %d, %s", code, errs)
	}
	if code, _, errs := ctl("users", "list", "--url", tlsSrv.URL, "--ca", filepath.Join(e.dir, "missing.crt")); code == 0 || !strings.Contains(errs, "--ca") {
		t.Errorf("--ca missing file: exit %d, %s", code, errs)
	}
	notPEM := filepath.Join(e.dir, "not.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o644)
	if code, _, errs := ctl("users", "list", "--url", tlsSrv.URL, "--ca", notPEM); code == 0 || !strings.Contains(errs, "no PEM certificate") {
		t.Errorf("--ca not PEM: exit %d, %s", code, errs)
	}
}
