package main

import (
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
		code, err := readCode(*codeFlag, stderr)
		if err != nil {
			return fail(stderr, name, err)
		}
		p, err := c.userPath(ctx, pos[0])
		if err != nil {
			return fail(stderr, name, err)
		}
		if err := c.do(ctx, http.MethodPut, p+"/entry_code", apitype.Code{Code: string(code)}, nil); err != nil {
			return fail(stderr, name, err)
		}
		fmt.Fprintf(stdout, "entry code set for %s\n", pos[0])
	case "delete":
		p, err := c.userPath(ctx, pos[0])
		if err != nil {
			return fail(stderr, name, err)
		}
		if err := c.do(ctx, http.MethodDelete, p+"/entry_code", nil, nil); err != nil {
			return fail(stderr, name, err)
		}
		fmt.Fprintf(stdout, "entry code deleted for %s\n", pos[0])
	default:
		fmt.Fprintf(stderr, "latchctl entry: unknown action %q\n%s\n", action, entryUsage)
		return 2
	}
	return 0
}
