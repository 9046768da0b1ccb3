package main

// Messages for people: where latchctl prints an error it drops the
// package prefixes ("store: ", "api: ") that a Go error chain carries,
// and a not-found or conflict from latchd gets a hint saying what to do.
// The store's and the API's own wording stays as it is (they are read by
// programs too); this is the one place that rewrites it for a terminal.

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
)

var pkgPrefix = regexp.MustCompile(`(^|: |\n)(store|api): `)

// forPeople drops the package prefixes from an error's text.
func forPeople(msg string) string {
	for {
		s := pkgPrefix.ReplaceAllString(msg, "$1")
		if s == msg {
			return s
		}
		msg = s
	}
}

// notFoundHint is the line after a 404 from latchd, by what was not found.
func notFoundHint(msg string) string {
	switch {
	case strings.Contains(msg, "mfa code"):
		return "latchctl mfa list USER shows the ids of the user's codes"
	case strings.Contains(msg, "card"):
		return "latchctl cards list USER shows the user's cards"
	case strings.Contains(msg, "token"):
		return "latchctl token list shows the tokens"
	case strings.Contains(msg, "user"):
		return "USER is a user_id (latchctl users list shows them), or ext:EXTERNAL_ID for an external id"
	}
	return ""
}

// isConflict reports a 409 from latchd.
func isConflict(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Status == http.StatusConflict
}
