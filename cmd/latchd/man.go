package main

import (
	"bytes"
	"io"
	"strings"

	"github.com/latchd/latch/internal/manpage"
	"github.com/latchd/latch/internal/version"
)

// writeMan prints latchd(8) (latchd --man), from the text usage and the
// flags' help print, so the two cannot disagree. The .deb ships it
// (scripts/deb.sh).
func writeMan(w io.Writer) error {
	v := version.Get()
	var syn bytes.Buffer
	usage(&syn)
	var flags bytes.Buffer
	var o options
	newFlagSet("latchd", &o, &flags).PrintDefaults()
	date := ""
	if len(v.Date) >= 10 && v.Date[4] == '-' {
		date = v.Date[:10]
	}
	p := manpage.Page{
		Name: "latchd", Section: "8", Summary: "the latch door controller daemon",
		Version: "latch " + v.Version, Date: date,
		Synopsis: strings.ReplaceAll(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(syn.String(), "usage:")), "flags:")), "\n  ", "\n"),
		Description: `latchd decodes the Wiegand readers wired to the Raspberry Pi's GPIO, decides each access locally from the users, credentials, groups and schedules in its database, and drives each door's strike relay, position switch, exit button and reader feedback.
It serves the management API (latchctl(1)) on a Unix socket and optionally over TCP.

The package runs it as the systemd service latchd.service, as the user latch in group gpio: edit /etc/latch/latch.toml, check it with "latchd check-config /etc/latch/latch.toml", then "systemctl start latchd".
SIGHUP (systemctl reload latchd) reloads the config; a config that does not load is refused and the running one kept.
SIGTERM stops it with every strike locked.

check-config checks a config file and exits 0, or 1 with each broken rule on its own line (FILE:LINE: key: rule).
scenario replays a scenario script on a virtual clock and prints its events as JSON lines.
wiring-test watches the configured readers and inputs and reports what it sees, for checking the wiring on site.
--sim runs on simulated hardware, with scenario commands read from standard input.`,
		Sections: []manpage.Section{
			{Title: "OPTIONS", Pre: flags.String()},
			{Title: "FILES", Text: "/etc/latch/latch.toml: the config (a conffile of the package).\n\n/var/lib/latch/latch.db: the database; /var/lib/latch/device.key: the key of the code MACs (mode 0600).\n\n/run/latch/api.sock: the API socket."},
			{Title: "EXIT STATUS", Text: "0 after SIGTERM or SIGINT; 1 on a fatal error (systemd restarts it); 2 on a usage error."},
		},
		SeeAlso: []string{"latchctl(1)", "systemctl(1)"},
	}
	return manpage.Write(w, p)
}
