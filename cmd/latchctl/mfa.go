package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/latchd/latch/api/apitype"
)

const mfaUsage = `usage:
  latchctl mfa add USER --code CODE|-          add a given code ("-" reads it without echo)
  latchctl mfa add USER --generate [--length N] generate a random code (default 6 digits) and print it once
  latchctl mfa list USER                        id, length, created, creator (never the digits)
  latchctl mfa replace USER ID [--code CODE|-]  replace a code by id (default: type it without echo)
  latchctl mfa delete USER ID
A code is 4–16 digits 0-9. USER is a user_id, or ext:EXTERNAL_ID.`

func runMFA(args []string, stdout, stderr io.Writer) int {
	action, name, fs, c := actionFlags("mfa", args, stderr)
	codeFlag := addCodeFlag(fs)
	generate := fs.Bool("generate", false, "generate a random code")
	length := fs.Int("length", 0, "length of a generated code, 4–16 (default 6)")
	pos, err := parseArgs(fs, args[1:])
	if err != nil {
		return 2
	}
	want := map[string]int{"add": 1, "list": 1, "replace": 2, "delete": 2}
	n, ok := want[action]
	if !ok {
		fmt.Fprintf(stderr, "latchctl mfa: unknown action %q\n%s\n", action, mfaUsage)
		return 2
	}
	if len(pos) != n {
		return fail(stderr, name, fmt.Errorf("needs %d argument(s), got %d\n%s", n, len(pos), mfaUsage))
	}
	if action == "add" && (*codeFlag == "") == !*generate {
		return fail(stderr, name, errors.New("give exactly one of --code CODE (or --code -) and --generate"))
	}
	if *length != 0 && !*generate {
		return fail(stderr, name, errors.New("--length goes with --generate"))
	}
	var code []byte
	if *codeFlag != "" || action == "replace" {
		v := *codeFlag
		if v == "" {
			v = "-"
		}
		if code, err = readCode(v, stderr); err != nil {
			return fail(stderr, name, err)
		}
	}
	ctx, cancel, err := c.connect(fs)
	if err != nil {
		return fail(stderr, "mfa", err)
	}
	defer cancel()
	p, err := c.userPath(ctx, pos[0])
	if err != nil {
		return fail(stderr, name, err)
	}
	var out apitype.GeneratedMFACode
	switch action {
	case "add":
		if *generate {
			if err := c.do(ctx, http.MethodPost, p+"/mfa_codes/generate", apitype.GenerateMFACode{Length: *length}, &out); err != nil {
				return fail(stderr, name, err)
			}
			// The only time the digits are shown: stdout alone, so a script
			// can capture them; the id goes to stderr.
			fmt.Fprintln(stdout, out.Code)
			fmt.Fprintf(stderr, "generated MFA code id %s (%d digits); it is not shown again\n", out.ID, out.Length)
			return 0
		}
		if err := c.do(ctx, http.MethodPost, p+"/mfa_codes", apitype.Code{Code: string(code)}, &out); err != nil {
			return fail(stderr, name, err)
		}
		fmt.Fprintf(stdout, "added MFA code id %s (%d digits)\n", out.ID, out.Length)
	case "list":
		var list apitype.MFACodeList
		if err := c.do(ctx, http.MethodGet, p+"/mfa_codes", nil, &list); err != nil {
			return fail(stderr, name, err)
		}
		tw := newTable(stdout, "ID\tLENGTH\tCREATED\tCREATED_BY")
		for _, m := range list.MFACodes {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", m.ID, m.Length, m.Created, m.CreatedBy)
		}
		tw.Flush()
	case "replace":
		if err := c.do(ctx, http.MethodPut, p+"/mfa_codes/"+url.PathEscape(pos[1]), apitype.Code{Code: string(code)}, &out); err != nil {
			return fail(stderr, name, err)
		}
		fmt.Fprintf(stdout, "replaced MFA code %s; now id %s (%d digits)\n", pos[1], out.ID, out.Length)
	case "delete":
		if err := c.do(ctx, http.MethodDelete, p+"/mfa_codes/"+url.PathEscape(pos[1]), nil, nil); err != nil {
			return fail(stderr, name, err)
		}
		fmt.Fprintf(stdout, "deleted MFA code %s\n", pos[1])
	}
	return 0
}
