package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/latchd/latch/api/apitype"
)

const entryUsage = `usage:
  latchctl entry set USER --code CODE|-     ("-" reads it without echo)
  latchctl entry delete USER
An entry code is 4–16 digits 0-9, unique across users. USER is a user_id, or ext:EXTERNAL_ID.`

func runEntry(args []string, stdout, stderr io.Writer) int {
	action, name, fs, c := actionFlags("entry", args, stderr)
	codeFlag := addCodeFlag(fs)
	pos, err := parseArgs(fs, args[1:])
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		return fail(stderr, name, usageError("needs exactly one USER", entryUsage))
	}
	ctx, cancel, err := c.connect(fs)
	if err != nil {
		return fail(stderr, "entry", err)
	}
	defer cancel()
	switch action {
	case "set":
		if *codeFlag == "" {
			return fail(stderr, name, errors.New(`needs --code CODE, or --code - to type it without echo`))
		}
		err = putUserCode(ctx, c, "entry", pos[0], codeFlag, stdout, stderr)
	case "delete":
		err = putUserCode(ctx, c, "entry", pos[0], nil, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "latchctl entry: unknown action %q\n%s\n", action, entryUsage)
		return 2
	}
	if err != nil {
		return fail(stderr, name, err)
	}
	return 0
}

// putUserCode sets or, with codeArg nil, deletes the user's code of kind
// "entry" or "duress" (PUT or DELETE /v1/users/ID/KIND_code) and says
// which it did on stdout. codeArg is the --code value, read with
// readCode.
func putUserCode(ctx context.Context, c *conn, kind, user string, codeArg *string, stdout, stderr io.Writer) error {
	method, done, body := http.MethodDelete, "deleted", any(nil)
	if codeArg != nil {
		code, err := readCode(*codeArg, stderr)
		if err != nil {
			return err
		}
		method, done, body = http.MethodPut, "set", apitype.Code{Code: string(code)}
	}
	p, err := c.userPath(ctx, user)
	if err != nil {
		return err
	}
	if err := c.do(ctx, method, p+"/"+kind+"_code", body, nil); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s code %s for %s\n", kind, done, user)
	return nil
}
