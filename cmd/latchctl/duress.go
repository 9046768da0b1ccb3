package main

import (
	"fmt"
	"io"
	"net/http"

	"github.com/latchd/latch/api/apitype"
)

const duressUsage = `usage:
  latchctl duress set USER [--code CODE|-]   (no --code, or "-": read it without echo)
  latchctl duress delete USER
  latchctl duress status                    (is the duress output active, since when)
  latchctl duress clear                     (clear the duress output)
A duress code is 4–16 digits 0-9, unique across users together with the entry
codes, and never the user's own entry or MFA code. Typed at a door it grants as
the user's code does and silently raises the duress output (docs/operations.md).
USER is a user_id, or ext:EXTERNAL_ID.`

func runDuress(args []string, stdout, stderr io.Writer) int {
	action, name, fs, c := actionFlags("duress", args, stderr)
	var codeFlag *string
	if action == "set" {
		codeFlag = addCodeFlag(fs)
	}
	pos, err := parseArgs(fs, args[1:])
	if err != nil {
		return 2
	}
	want := 0
	switch action {
	case "set", "delete":
		want = 1
	case "status", "clear":
	default:
		fmt.Fprintf(stderr, "latchctl duress: unknown action %q\n%s\n", action, duressUsage)
		return 2
	}
	if len(pos) != want {
		return fail(stderr, name, usageError(fmt.Sprintf("needs %d arguments, got %d", want, len(pos)), duressUsage))
	}
	ctx, cancel, err := c.connect(fs)
	if err != nil {
		return fail(stderr, "duress", err)
	}
	defer cancel()
	switch action {
	case "set":
		v := *codeFlag
		if v == "" {
			v = "-"
		}
		if err := putUserCode(ctx, c, "duress", pos[0], &v, stdout, stderr); err != nil {
			return fail(stderr, name, err)
		}
	case "delete":
		if err := putUserCode(ctx, c, "duress", pos[0], nil, stdout, stderr); err != nil {
			return fail(stderr, name, err)
		}
	case "status", "clear":
		method := http.MethodGet
		if action == "clear" {
			method = http.MethodDelete
		}
		var st apitype.Duress
		if err := c.do(ctx, method, "/v1/duress", nil, &st); err != nil {
			return fail(stderr, name, err)
		}
		switch {
		case action == "clear" && st.Cleared:
			fmt.Fprintln(stdout, "duress output cleared")
		case action == "clear":
			fmt.Fprintln(stdout, "duress output was not active")
		case st.Active:
			fmt.Fprintf(stdout, "duress output ACTIVE since %s\n", st.Since)
		default:
			fmt.Fprintln(stdout, "duress output not active")
		}
	}
	return 0
}
