package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/store"
)

var adminUsage = `usage:
  latchctl admin create --name NAME --role ROLE [--config PATH | --db PATH --key PATH]
  latchctl admin list   [--config PATH | --db PATH --key PATH]
  latchctl admin passwd NAME [--config PATH | --db PATH --key PATH]
  latchctl admin delete NAME [--config PATH | --db PATH --key PATH]
ROLE: ` + strings.Join(store.Roles, ", ") + `.
Accounts of people who sign in to the admin page (docs/web.md). create and passwd read
the password twice from the terminal without echo, or one line from standard input when
it is not a terminal; never from an argument. The password ` + store.PasswordRule + `.
These work on the database directly, as the daemon's owner. While latchd runs (and holds
the database), they go through its Unix socket instead, which accepts account management
from the daemon's own user or root without a token (as token management); with --socket
PATH (or --url) and no --config/--db/--key they go to that running latchd at once.`

func runAdmin(args []string, stdout, stderr io.Writer) int {
	action, name, fs, c := actionFlags("admin", args, stderr)
	db, key, aname, role := ownerFlags(fs, "account", "kim")
	pos, err := parseArgs(fs, args[1:])
	if err != nil {
		return 2
	}
	if code, done := ownerArgs(stderr, "admin", "account", action, pos, []string{"passwd", "delete"}, aname, adminUsage); done {
		return code
	}
	if action == "create" {
		if err := store.CheckAdmin(*aname, *role); err != nil {
			return fail(stderr, name, fmt.Errorf("%w\n%s", err, adminUsage))
		}
	}
	var pw []byte
	if action == "create" || action == "passwd" {
		if pw, err = readPassword(stderr); err != nil {
			return fail(stderr, name, err)
		}
		defer clear(pw)
		if err := store.CheckPassword(pw); err != nil {
			return fail(stderr, name, err)
		}
	}
	st, via, err := ownerStore(fs, c, db, key)
	if err != nil {
		return fail(stderr, name, err)
	}
	if via {
		return adminViaAPI(c, action, *aname, *role, pw, stdout, stderr)
	}
	defer st.Close()
	by := store.Actor{Name: "latchctl", Role: "local"}
	switch action {
	case "create":
		if err := st.CreateAdmin(*aname, *role, pw, by); err != nil {
			if errors.Is(err, store.ErrConflict) {
				err = fmt.Errorf("an account named %q exists; pick another name, or change its password with latchctl admin passwd", *aname)
			}
			return fail(stderr, name, err)
		}
		fmt.Fprintf(stderr, "created %s (%s)\n", *aname, *role)
	case "list":
		as, err := st.Admins()
		if err != nil {
			return fail(stderr, name, err)
		}
		tw := newTable(stdout, "NAME\tROLE\tCREATED")
		for _, a := range as {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Name, a.Role, a.Created.UTC().Format(time.RFC3339))
		}
		tw.Flush()
	case "passwd", "delete":
		do, done := st.SetAdminPassword, "changed the password of"
		if action == "delete" {
			do, done = func(n string, _ []byte, by store.Actor) error { return st.DeleteAdmin(n, by) }, "deleted"
		}
		if err := do(*aname, pw, by); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				err = fmt.Errorf("no account named %q (latchctl admin list)", *aname)
			}
			return fail(stderr, name, err)
		}
		fmt.Fprintf(stderr, "%s %s\n", done, *aname)
	}
	return 0
}

// readPassword reads a new password: twice from a terminal without echo
// (prompting on stderr; the two must match), or the first line of standard
// input when that is not a terminal.
func readPassword(stderr io.Writer) ([]byte, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		a, err := readNoEcho(f, "password (not shown): ", "password", stderr)
		if err != nil {
			return nil, err
		}
		b, err := readNoEcho(f, "again: ", "password", stderr)
		defer clear(b)
		if err != nil {
			clear(a)
			return nil, err
		}
		if !bytes.Equal(a, b) {
			clear(a)
			return nil, errors.New("the two passwords differ; nothing changed")
		}
		return a, nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading the password from standard input: %w", err)
	}
	line = bytes.TrimRight(line, "\r\n")
	if len(line) == 0 {
		return nil, errors.New("no password on standard input: pipe one line, or type it at a terminal")
	}
	return line, nil
}

func adminViaAPI(c *conn, action, name, role string, pw []byte, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := "admin " + action
	failed := func(err error) int { return fail(stderr, cmd, ownerRefused(c, "accounts", cmd, err)) }
	path := "/v1/admins/" + url.PathEscape(name)
	switch action {
	case "create":
		if err := c.do(ctx, http.MethodPost, "/v1/admins", apitype.NewAdmin{Name: name, Role: role, Password: string(pw)}, nil); err != nil {
			return failed(err)
		}
		fmt.Fprintf(stderr, "created %s (%s)\n", name, role)
	case "list":
		var out apitype.AdminList
		if err := c.do(ctx, http.MethodGet, "/v1/admins", nil, &out); err != nil {
			return failed(err)
		}
		tw := newTable(stdout, "NAME\tROLE\tCREATED")
		for _, a := range out.Admins {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Name, a.Role, a.Created)
		}
		tw.Flush()
	case "passwd":
		if err := c.do(ctx, http.MethodPut, path+"/password", apitype.Password{Password: string(pw)}, nil); err != nil {
			return failed(err)
		}
		fmt.Fprintf(stderr, "changed the password of %s\n", name)
	case "delete":
		if err := c.do(ctx, http.MethodDelete, path, nil, nil); err != nil {
			return failed(err)
		}
		fmt.Fprintf(stderr, "deleted %s\n", name)
	}
	return 0
}
