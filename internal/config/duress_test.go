package config

import (
	"strings"
	"testing"

	"periph.io/x/conn/v3/gpio"
)

// TestDuressOutput: [controller] duress_output is an optional pin under
// the pin rules of every other pin, active high unless
// duress_output_active = "low" (docs/config.md).
func TestDuressOutput(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		pin       string
		active    gpio.Level
	}{
		{"none", "[controller]\nname = \"x\"\n", "", gpio.High},
		{"high by default", "[controller]\nduress_output = \"GPIO12\"\n", "GPIO12", gpio.High},
		{"low", "[controller]\nduress_output = \"GPIO12\"\nduress_output_active = \"low\"\n", "GPIO12", gpio.Low},
		{"with a door", "[controller]\nduress_output = \"GPIO12\"\n" + minimal, "GPIO12", gpio.High},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tc.doc), "t.toml")
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Controller.DuressOutput != tc.pin || cfg.Controller.DuressActive != tc.active {
				t.Errorf("duress output %q active %v, want %q %v", cfg.Controller.DuressOutput, cfg.Controller.DuressActive, tc.pin, tc.active)
			}
		})
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"bad pin", "[controller]\nduress_output = \"GPIO77\"\n", `t.toml:2: controller.duress_output: "GPIO77" is not a pin name`},
		{"pin of a relay", "[controller]\nduress_output = \"GPIO23\"\n" + minimal,
			"t.toml:6: door[0].relay: pin GPIO23 is already used by controller.duress_output (line 2)"},
		{"pin of a reader", "[controller]\nduress_output = \"GPIO17\"\n" + minimal,
			"t.toml:11: reader[0].d0: pin GPIO17 is already used by controller.duress_output (line 2)"},
		{"bad level", "[controller]\nduress_output = \"GPIO12\"\nduress_output_active = \"hi\"\n", "t.toml:3: controller.duress_output_active: "},
		{"level without pin", "[controller]\nduress_output_active = \"low\"\n", "t.toml:2: controller.duress_output_active: only with duress_output"},
		{"wrong type", "[controller]\nduress_output = 12\n", "t.toml:2: controller.duress_output: wrong type: must be a string, not integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "t.toml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
