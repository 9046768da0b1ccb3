package suggest

import "testing"

func TestHint(t *testing.T) {
	words := []string{"list", "show", "create", "unlock_time", "relay_active", "zsh"}
	for _, tc := range []struct{ in, want string }{
		{"lst", `; did you mean "list"?`},
		{"cr", `; did you mean "create"?`},
		{"unlock_tme", `; did you mean "unlock_time"?`},

		{"relay_activ", `; did you mean "relay_active"?`},
		{"zhs", `; did you mean "zsh"?`},
		{"zzzzzz", ""},
		{"", ""},
	} {
		if got := Hint(tc.in, words); got != tc.want {
			t.Errorf("Hint(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := distance("kitten", "sitting"); got != 3 {
		t.Errorf("distance = %d, want 3", got)
	}
}

func FuzzClose(f *testing.F) {
	f.Add("lst", "list")
	f.Fuzz(func(t *testing.T, s, c string) {
		if len(s) > 200 || len(c) > 200 {
			return
		}
		for _, m := range Close(s, []string{c}) {
			if m != c {
				t.Fatalf("Close returned %q, not a candidate", m)
			}
		}
	})
}
