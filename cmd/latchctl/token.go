package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/store"
)

var tokenUsage = `usage:
  latchctl token create --name NAME --role ROLE [--verkada-key] [--config PATH | --db PATH --key PATH]
  latchctl token list   [--config PATH | --db PATH --key PATH]
  latchctl token revoke NAME [--config PATH | --db PATH --key PATH]
ROLE: ` + strings.Join(store.Roles, ", ") + `.
These work on the database directly, as the daemon's owner. While latchd runs (and holds
the database), they go through its Unix socket instead, which accepts token management
from the daemon's own user or root without a token; with --socket PATH (or --url) and no
--config/--db/--key they go to that running latchd at once. create prints the token alone on
stdout, once: capture it, e.g. export LATCH_TOKEN=$(latchctl token create …).
--verkada-key makes the token usable as a Verkada API key too (the x-api-key of POST /token,
docs/verkada.md); list marks such tokens in its VERKADA column.`

// Defaults from docs/config.md, used when neither flags nor config name them.
const (
	defaultDatabase = "/var/lib/latch/latch.db"
	defaultKeyFile  = "/var/lib/latch/device.key"
)

// openTimeout is how long token commands wait for the database lock before
// concluding that latchd holds it.
var openTimeout = 500 * time.Millisecond

func runToken(args []string, stdout, stderr io.Writer) int {
	action, name, fs, c := actionFlags("token", args, stderr)
	db, key, tname, role := ownerFlags(fs, "token", "integrator-1")
	vkey := fs.Bool("verkada-key", false, "create: the token is usable as a Verkada API key too")
	pos, err := parseArgs(fs, args[1:])
	if err != nil {
		return 2
	}
	if code, done := ownerArgs(stderr, "token", "token", action, pos, []string{"revoke"}, tname, tokenUsage); done {
		return code
	}
	if action == "create" {
		if *tname == "" {
			return fail(stderr, name, usageError("--name is required", tokenUsage))
		}
		if *role == "" {
			return fail(stderr, name, usageError("--role is required (ROLE: "+strings.Join(store.Roles, ", ")+")", tokenUsage))
		}
		if err := store.CheckToken(*tname, *role); err != nil {
			return fail(stderr, name, fmt.Errorf("%w\n%s", err, tokenUsage))
		}
	}

	st, via, err := ownerStore(fs, c, db, key)
	if err != nil {
		return fail(stderr, name, err)
	}
	if via {
		return tokenViaAPI(c, action, *tname, *role, *vkey, stdout, stderr)
	}
	defer st.Close()
	return tokenDirect(st, action, *tname, *role, *vkey, stdout, stderr)
}

func tokenDirect(st *store.Store, action, name, role string, vkey bool, stdout, stderr io.Writer) int {
	switch action {
	case "create":
		create := st.CreateToken
		if vkey {
			create = st.CreateVerkadaKey
		}
		secret, err := create(name, role, store.Actor{Name: "latchctl", Role: "local"})
		if err != nil {
			if errors.Is(err, store.ErrConflict) {
				err = tokenExists(name)
			}
			return fail(stderr, "token create", err)
		}
		fmt.Fprintln(stdout, secret)
	case "list":
		ts, err := st.Tokens()
		if err != nil {
			return fail(stderr, "token list", err)
		}
		printTokens(stdout, ts)
	case "revoke":
		if err := st.RevokeToken(name, store.Actor{Name: "latchctl", Role: "local"}); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				err = fmt.Errorf("no token named %q (latchctl token list)", name)
			}
			return fail(stderr, "token revoke", err)
		}
		fmt.Fprintf(stderr, "revoked %s\n", name)
	}
	return 0
}

// tokenExists is the message for a token name already taken.
func tokenExists(name string) error {
	return fmt.Errorf("a token with that name exists (%q): choose another --name, or revoke it first (latchctl token revoke %s)", name, name)
}

func printTokens(w io.Writer, ts []store.Token) {
	tw := newTable(w, "NAME\tROLE\tCREATED\tVERKADA")
	for _, t := range ts {
		created := ""
		if !t.Created.IsZero() {
			created = t.Created.UTC().Format(time.RFC3339)
		}
		vk := ""
		if t.VerkadaKey {
			vk = "key"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Role, created, vk)
	}
	tw.Flush()
}

func tokenViaAPI(c *conn, action, name, role string, vkey bool, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	fail := func(stderr io.Writer, name string, err error) int {
		return fail(stderr, name, ownerRefused(c, "tokens", name, err))
	}
	switch action {
	case "create":
		var out apitype.Token
		if err := c.do(ctx, http.MethodPost, "/v1/tokens", apitype.NewToken{Name: name, Role: role, VerkadaKey: vkey}, &out); err != nil {
			if isConflict(err) {
				err = tokenExists(name)
			}
			return fail(stderr, "token create", err)
		}
		fmt.Fprintln(stdout, out.Token)
	case "list":
		var out apitype.TokenList
		if err := c.do(ctx, http.MethodGet, "/v1/tokens", nil, &out); err != nil {
			return fail(stderr, "token list", err)
		}
		var ts []store.Token
		for _, t := range out.Tokens {
			tm, _ := time.Parse(time.RFC3339, t.Created)
			ts = append(ts, store.Token{Name: t.Name, Role: t.Role, Created: tm, VerkadaKey: t.VerkadaKey})
		}
		printTokens(stdout, ts)
	case "revoke":
		if err := c.do(ctx, http.MethodDelete, "/v1/tokens/"+url.PathEscape(name), nil, nil); err != nil {
			return fail(stderr, "token revoke", err)
		}
		fmt.Fprintf(stderr, "revoked %s\n", name)
	}
	return 0
}
