package manpage

import (
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	var b strings.Builder
	err := Write(&b, Page{Name: "latchd", Section: "8", Summary: "door controller", Version: "latch 1.0", Date: "2026-12-01",
		Synopsis: "latchd [--config FILE]\n.hidden\n\n  latchd check-config FILE",
		Sections: []Section{{Title: "FILES", Text: "one\n\ntwo", Subs: []Section{{Title: "sub one", Pre: `a\b`}}}},
		SeeAlso:  []string{"latchctl(1)", "systemd"}})
	if err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		`.TH LATCHD 8 "2026-12-01" "latch 1.0" "latch manual"`,
		".SH NAME\nlatchd \\- door controller\n",
		"latchd [\\-\\-config FILE]\n\\&.hidden\n.sp\n  latchd check\\-config FILE\n.fi",
		".SH FILES\none\n.PP\ntwo\n",
		".SS \"sub one\"\n.PP\n.RS 2\n.nf\na\\eb\n.fi\n.RE\n",
		".BR latchctl (1) ,\nsystemd\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
}
