package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/latchd/latch/store"
)

// page is what every template gets: the language's catalog, the account,
// its CSRF token and permissions, the form's values and errors.
type page struct {
	Lang, Other string // this page's language and the switch's
	Path        string // this page, for the language switch
	Account     string
	Role        string
	CSRF        string
	Nav         string
	Notice      string
	Errs        map[string]string // form field → the rule it broke
	Form        url.Values
	D           any

	cat  map[string]string
	role string
	loc  *time.Location
}

// T is the catalog's string for key (i18n.go; a test checks every key used
// is in the table).
func (p *page) T(key string) string {
	if v, ok := p.cat[key]; ok {
		return v
	}
	if v, ok := catalogs["en"][key]; ok {
		return v
	}
	return key
}

// Can reports whether the account's role has the permission (store.Allowed).
func (p *page) Can(perm string) bool { return store.Allowed(p.role, store.Permission(perm)) }

// Err is the rule the form's field broke, or "".
func (p *page) Err(field string) string { return p.Errs[field] }

// V is the form's value of field (for a form shown again after an error;
// never a code).
func (p *page) V(field string) string { return p.Form.Get(field) }

// Time is t in the controller's zone, with the zone named; "" for zero.
func (p *page) Time(t time.Time) string { return fmtIn(t, p.loc) }

func fmtIn(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04:05") + " " + zoneName(loc)
}

// zoneName names a zone: its IANA name, and its abbreviation when that is
// not the same ("Asia/Seoul KST").
func zoneName(loc *time.Location) string {
	return loc.String()
}

func (p *page) with(nav string, d any) *page { p.Nav, p.D = nav, d; return p }

// lang picks the page's language: the switch's cookie, else the first of
// Accept-Language the catalogs have, else English.
func lang(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil {
		if _, ok := catalogs[c.Value]; ok {
			return c.Value
		}
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if _, ok := catalogs[base]; ok {
			return base
		}
	}
	return "en"
}

func (s *Server) newPage(w http.ResponseWriter, r *http.Request, q *req) *page {
	l := lang(r)
	p := &page{Lang: l, Other: "ko", Path: r.URL.RequestURI(), cat: catalogs[l], loc: s.loc(), Errs: map[string]string{}, Form: url.Values{}}
	if l == "ko" {
		p.Other = "en"
	}
	if q != nil {
		p.Account, p.Role, p.role, p.CSRF = q.account.Name, q.account.Role, q.account.Role, q.sess.csrf
	}
	if n := r.URL.Query().Get("ok"); n != "" {
		if _, ok := catalogs["en"]["ok."+n]; ok {
			p.Notice = p.T("ok." + n)
		}
	}
	return p
}

// setLang is the language switch: it sets the cookie and goes back to the
// page (a path of this site only).
func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	to := r.URL.Query().Get("to")
	if _, ok := catalogs[to]; ok {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: to, Path: "/", MaxAge: 365 * 24 * 3600,
			Secure: s.tls, SameSite: http.SameSiteStrictMode, HttpOnly: true})
	}
	http.Redirect(w, r, localPath(r.URL.Query().Get("back"), "/users"), http.StatusSeeOther)
}

// localPath is p when it is a path on this site, else def: never another
// host ("//evil", "/\evil", "https:…").
func localPath(p, def string) string {
	// Browsers drop tabs and newlines from a URL ("/\t/evil" is "//evil"),
	// so no control character at all.
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") ||
		strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return def
	}
	return p
}
