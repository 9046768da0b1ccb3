package plural

import "testing"

func TestN(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{{0, "0 doors"}, {1, "1 door"}, {2, "2 doors"}} {
		if got := S(tc.n, "door"); got != tc.want {
			t.Errorf("S(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	if got := N(1, "entry", "entries"); got != "1 entry" {
		t.Errorf("N(1) = %q", got)
	}
	if got := N(3, "entry", "entries"); got != "3 entries" {
		t.Errorf("N(3) = %q", got)
	}
}
