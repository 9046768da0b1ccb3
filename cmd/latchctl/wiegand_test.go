package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWiegandCommand(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string // exact, when not ""
		json   map[string]any
		stderr string // substring, when not ""
	}{
		{name: "encode h10301", args: []string{"encode", "h10301", "212", "7041"}, stdout: "11101010000011011100000010\n"},
		{name: "encode h10301 #2", args: []string{"encode", "h10301", "227", "57600"}, stdout: "01110001111100001000000000\n"},
		{name: "encode corp1000_48", args: []string{"encode", "corp1000_48", "1193046", "7654321"}, stdout: "010100100011010001010110111010011001011101100010\n"},
		{name: "encode raw32 lsb", args: []string{"encode", "--byte-order", "lsb", "raw32", "0", "305419896"}, stdout: "01111000010101100011010000010010\n"},
		{name: "encode facility too big", args: []string{"encode", "h10301", "256", "1"}, code: 1, stderr: "facility code 256 does not fit h10301 (max 255)"},
		{name: "encode unknown format", args: []string{"encode", "h10399", "1", "1"}, code: 1, stderr: "unknown format"},
		{name: "encode not a number", args: []string{"encode", "h10301", "x", "1"}, code: 1, stderr: "facility code \"x\""},
		{name: "encode key 8bit", args: []string{"encode", "--keypad", "8bit", "5"}, stdout: "10100101\n"},
		{name: "encode usage", args: []string{"encode", "h10301"}, code: 2, stderr: "usage:"},
		{name: "decode h10301", args: []string{"decode", "11101010000011011100000010"},
			json: map[string]any{"format": "h10301", "facility_code": 212.0, "card_number": 7041.0, "bits": "11101010000011011100000010"}},
		{name: "decode h10304 listed", args: []string{"decode", "--formats", "h10301,h10304", "0000100100011010010010010011111000000"},
			json: map[string]any{"format": "h10304", "facility_code": 4660.0, "card_number": 300000.0, "bits": "0000100100011010010010010011111000000"}},
		{name: "decode h10302 listed", args: []string{"decode", "--formats", "h10302", "1010110111111101110000011100001101010"},
			json: map[string]any{"format": "h10302", "facility_code": 0.0, "card_number": 12345678901.0, "bits": "1010110111111101110000011100001101010"}},
		{name: "decode parity", args: []string{"decode", "01101010000011011100000010"}, code: 1, stderr: "parity: reader: parity error: h10301 bit 1"},
		{name: "decode length", args: []string{"decode", "--formats", "h10301", "1010101"}, code: 1, stderr: "length: 7 bits: no configured format has this length (h10301=26)"},
		{name: "decode unknown format", args: []string{"decode", "--formats", "h10301,foo", "0101"}, code: 1, stderr: "unknown format \"foo\""},
		{name: "decode two of a length", args: []string{"decode", "--formats", "h10302,h10304", "0101"}, code: 1, stderr: "both 37 bits"},
		{name: "decode key 4bit", args: []string{"decode", "--keypad", "4bit", "0101"}, json: map[string]any{"key": "5"}},
		{name: "decode key 8bit", args: []string{"decode", "--keypad", "8bit", "10100101"}, json: map[string]any{"key": "5"}},
		{name: "decode key swapped", args: []string{"decode", "--keypad", "4bit", "--star", "11", "--hash", "10", "1010"}, json: map[string]any{"key": "#"}},
		{name: "decode star over 4 bits", args: []string{"decode", "--keypad", "4bit", "--star", "16", "1010"}, code: 1, stderr: "--star and --hash are 4-bit values (10–15)"},
		{name: "decode star a digit", args: []string{"decode", "--keypad", "4bit", "--star", "5", "1010"}, code: 1, stderr: "each must be 10–15"},
		{name: "encode hash over 4 bits", args: []string{"encode", "--keypad", "4bit", "--hash", "99", "#"}, code: 1, stderr: "--star and --hash are 4-bit values (10–15)"},
		{name: "decode 8bit complement", args: []string{"decode", "--keypad", "8bit", "10100100"}, code: 1, stderr: "keypad: reader: not a key: 8-bit frame's high nibble"},
		{name: "decode pin", args: []string{"decode", "--keypad", "26bit_pin", "00000000000000100110100100"}, json: map[string]any{"keys": "1234#"}},
		{name: "decode not bits", args: []string{"decode", "01x1"}, code: 1, stderr: "character 3 is 'x'"},
		{name: "decode usage", args: []string{"decode"}, code: 2, stderr: "usage:"},
		{name: "unknown action", args: []string{"frob"}, code: 2, stderr: "unknown action"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(append([]string{"wiegand"}, tc.args...), &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tc.code, out.String(), errb.String())
			}
			if tc.stdout != "" && out.String() != tc.stdout {
				t.Errorf("stdout %q, want %q", out.String(), tc.stdout)
			}
			if tc.json != nil {
				var got map[string]any
				if err := json.Unmarshal(out.Bytes(), &got); err != nil {
					t.Fatalf("stdout %q: %v", out.String(), err)
				}
				if d := cmp.Diff(tc.json, got); d != "" {
					t.Errorf("json (-want +got):\n%s", d)
				}
				if strings.Count(out.String(), "\n") != 1 {
					t.Errorf("want one JSON line, got %q", out.String())
				}
			}
			if tc.stderr != "" && !strings.Contains(errb.String(), tc.stderr) {
				t.Errorf("stderr %q, want containing %q", errb.String(), tc.stderr)
			}
			if tc.code == 0 && errb.Len() != 0 {
				t.Errorf("stderr on success: %q", errb.String())
			}
		})
	}
}

// TestWiegandRoundTrip: what encode prints, decode reads back.
func TestWiegandRoundTrip(t *testing.T) {
	for _, tc := range [][]string{{"h10301", "1", "2"}, {"h10306", "65535", "1"}, {"corp1000_35", "4095", "1048575"}, {"h10304", "9", "524287"}, {"corp1000_48", "4194303", "0"}} {
		var out, errb bytes.Buffer
		if code := run(append([]string{"wiegand", "encode"}, tc...), &out, &errb); code != 0 {
			t.Fatalf("encode %v: %d %s", tc, code, errb.String())
		}
		bits := strings.TrimSpace(out.String())
		out.Reset()
		if code := run([]string{"wiegand", "decode", bits}, &out, &errb); code != 0 {
			t.Fatalf("decode %s: %d %s", bits, code, errb.String())
		}
		var got cardJSON
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if string(got.Format) != tc[0] || got.Bits != bits {
			t.Errorf("%v: decoded %+v", tc, got)
		}
	}
}
