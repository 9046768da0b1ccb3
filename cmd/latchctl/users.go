package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/store"
)

const usersUsage = `usage:
  latchctl users list [--search S] [--limit N] [--after USER_ID] [--json]
  latchctl users show USER
  latchctl users create --first NAME --last NAME [--external-id ID] [--email E] [--groups a,b] [--start T] [--end T] [--suspended]
  latchctl users update USER [--first …] [--last …] [--external-id …] [--email …] [--groups …] [--start T] [--end T]
  latchctl users suspend|unsuspend|delete USER
USER is a user_id, or ext:EXTERNAL_ID. T is an RFC 3339 time, or a date YYYY-MM-DD (midnight
UTC; as --end, the end of that day in UTC, as in a CSV import); "" clears it.
Connection: --socket PATH | --url URL, token from --token-file FILE or $LATCH_TOKEN_FILE (mode 600),
or $LATCH_TOKEN (--token shows in ps to every local user).`

func printJSON(w io.Writer, v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	fmt.Fprintf(w, "%s\n", b)
}

func runUsers(args []string, stdout, stderr io.Writer) int {
	action, name, fs, c := actionFlags("users", args, stderr)
	search := fs.String("search", "", "case-insensitive substring of external_id, names or email")
	limit := fs.Int("limit", 0, "users per page (1–1000; default 100)")
	after := fs.String("after", "", "list users after this user_id (the previous page's next)")
	asJSON := fs.Bool("json", false, "print JSON")
	first := fs.String("first", "", "first name (required by create)")
	last := fs.String("last", "", "last name (required by create)")
	fs.String("external-id", "", "external id (unique)")
	fs.String("email", "", "email address")
	groups := fs.String("groups", "", "access groups, comma-separated")
	fs.String("start", "", "RFC 3339 time, or YYYY-MM-DD (midnight UTC), from which the user's credentials work")
	fs.String("end", "", "RFC 3339 time, or YYYY-MM-DD (the end of that day, UTC), after which they stop working")
	suspended := fs.Bool("suspended", false, "create the user suspended")
	pos, err := parseArgs(fs, args[1:])
	if err != nil {
		return 2
	}
	if action == "create" && (strings.TrimSpace(*first) == "" || strings.TrimSpace(*last) == "") {
		return fail(stderr, name, usageError("--first and --last are required", usersUsage))
	}
	ctx, cancel, err := c.connect(fs)
	if err != nil {
		return fail(stderr, "users", err)
	}
	defer cancel()

	// The request holds exactly the flags given: PATCH leaves the others.
	var body apitype.UserFields
	text := map[string]**string{"first": &body.FirstName, "last": &body.LastName, "external-id": &body.ExternalID,
		"email": &body.Email, "start": &body.Start, "end": &body.End}
	var dateErr error
	fs.Visit(func(f *flag.Flag) {
		if p, ok := text[f.Name]; ok {
			v := f.Value.String()
			if (f.Name == "start" || f.Name == "end") && v != "" {
				// A date alone reads as in a CSV import (store.ParseDate):
				// midnight UTC; as --end, the end of that day.
				t, err := store.ParseDate(v, f.Name == "end")
				if err != nil {
					dateErr = fmt.Errorf("--%s %q: %w", f.Name, v, err)
				}
				v = t.Format(time.RFC3339)
			}
			*p = &v
		}
		switch f.Name {
		case "groups":
			gs := []string{}
			for _, g := range strings.Split(*groups, ",") {
				if g = strings.TrimSpace(g); g != "" {
					gs = append(gs, g)
				}
			}
			body.Groups = &gs
		case "suspended":
			body.Suspended = suspended
		}
	})

	if dateErr != nil {
		return fail(stderr, name, dateErr)
	}
	needUser := func() (string, error) {
		if len(pos) != 1 {
			return "", usageError("needs exactly one USER (a user_id or ext:EXTERNAL_ID)", usersUsage)
		}
		return c.userPath(ctx, pos[0])
	}
	var u apitype.User
	switch action {
	case "list":
		q := url.Values{}
		if *search != "" {
			q.Set("search", *search)
		}
		if *limit != 0 {
			q.Set("limit", strconv.Itoa(*limit))
		}
		if *after != "" {
			q.Set("after", *after)
		}
		var page apitype.UserPage
		if err := c.do(ctx, http.MethodGet, "/v1/users?"+q.Encode(), nil, &page); err != nil {
			return fail(stderr, name, err)
		}
		if *asJSON {
			printJSON(stdout, page)
			return 0
		}
		tw := newTable(stdout, "USER_ID\tEXTERNAL_ID\tNAME\tEMAIL\tGROUPS\tSTATE")
		for _, u := range page.Users {
			state := "active"
			if u.Suspended {
				state = "suspended"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.UserID, u.ExternalID, strings.TrimSpace(u.FirstName+" "+u.LastName), u.Email, strings.Join(u.Groups, ","), state)
		}
		tw.Flush()
		if page.Next != "" {
			// The next page's command keeps this one's filters; the store
			// sets Next only when another user matches.
			more := "latchctl users list"
			if *search != "" {
				more += " --search " + shellQuote(*search)
			}
			if *limit != 0 {
				more += " --limit " + strconv.Itoa(*limit)
			}
			fmt.Fprintf(stderr, "more: %s --after %s\n", more, page.Next)
		}
		return 0
	case "show":
		p, err := needUser()
		if err != nil {
			return fail(stderr, name, err)
		}
		err = c.do(ctx, http.MethodGet, p, nil, &u)
		if err != nil {
			return fail(stderr, name, err)
		}
	case "create":
		if len(pos) != 0 {
			return fail(stderr, name, usageError("takes no USER; give the fields as flags", usersUsage))
		}
		if err := c.do(ctx, http.MethodPost, "/v1/users", body, &u); err != nil {
			return fail(stderr, name, err)
		}
	case "update":
		p, err := needUser()
		if err != nil {
			return fail(stderr, name, err)
		}
		if body == (apitype.UserFields{}) {
			return fail(stderr, name, errors.New("nothing to change: give at least one of --first, --last, --external-id, --email, --groups, --start, --end"))
		}
		if err := c.do(ctx, http.MethodPatch, p, body, &u); err != nil {
			return fail(stderr, name, err)
		}
	case "suspend", "unsuspend":
		p, err := needUser()
		if err != nil {
			return fail(stderr, name, err)
		}
		if err := c.do(ctx, http.MethodPost, p+"/"+action, nil, &u); err != nil {
			return fail(stderr, name, err)
		}
	case "delete":
		p, err := needUser()
		if err != nil {
			return fail(stderr, name, err)
		}
		if err := c.do(ctx, http.MethodDelete, p, nil, nil); err != nil {
			return fail(stderr, name, err)
		}
		fmt.Fprintf(stdout, "deleted %s\n", pos[0])
		return 0
	default:
		fmt.Fprintf(stderr, "latchctl users: unknown action %q\n%s\n", action, usersUsage)
		return 2
	}
	printJSON(stdout, u)
	return 0
}
