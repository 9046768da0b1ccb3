package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/latchd/latch/api/apitype"
)

type doorRow struct {
	apitype.DoorState
	Next     string // the next change, in the door's zone with the zone named
	LevelEnd string // when the level the mode comes from ends, likewise
}

// doorZone is a door's time zone (its own, else the controller's).
func (s *Server) doorZone(name string) *time.Location {
	if s.zone != nil {
		if z := s.zone(name); z != nil {
			return z
		}
	}
	return s.loc()
}

func (s *Server) doorRows(r *http.Request, q *req, p *page) []doorRow {
	var dl apitype.DoorList
	if err := s.call(r.Context(), q, http.MethodGet, "/v1/doors", nil, &dl); err != nil {
		fieldErr(p, err)
	}
	var rows []doorRow
	for _, d := range dl.Doors {
		row := doorRow{DoorState: d}
		loc := s.doorZone(d.Name)
		if z, err := time.LoadLocation(d.TimeZone); d.Controller != "" && d.TimeZone != "" && err == nil {
			loc = z // a site door on a fleet manager: its own controller's zone
		}
		if t, err := time.Parse(time.RFC3339, d.NextChange); err == nil {
			row.Next = fmtIn(t, loc)
		}
		if t, err := time.Parse(time.RFC3339, d.LevelEnd); err == nil {
			row.LevelEnd = fmtIn(t, loc)
		}
		rows = append(rows, row)
	}
	return rows
}

// doors lists every door as GET /v1/doors has it: the mode now and the
// level it comes from, strike and door state, the next change, times in
// each door's zone; and for roles with doors.command, the commands.
func (s *Server) doors(w http.ResponseWriter, r *http.Request, q *req) {
	p := s.newPage(w, r, q)
	s.render(w, "doors", p.with("doors", s.doorRows(r, q, p)))
}

// doorCmd is a door command the page confirms before it runs: the
// confirmation page (GET) and the API call (POST).
type doorCmd struct {
	key    string // catalog keys door.<key>.title, .ask; notice ok.<key>
	method string
	api    func(name string) string
	body   func(r *http.Request, s *Server) (any, error)
}

var doorCmds = map[string]doorCmd{
	"unlock": {"unlock", http.MethodPost, func(n string) string { return "/v1/doors/" + url.PathEscape(n) + "/unlock" },
		func(*http.Request, *Server) (any, error) { return apitype.UnlockRequest{}, nil }},
	"override": {"override", http.MethodPut, func(n string) string { return "/v1/doors/" + url.PathEscape(n) + "/override" }, overrideBody},
	"clear":    {"clear", http.MethodDelete, func(n string) string { return "/v1/doors/" + url.PathEscape(n) + "/override" }, nil},
	"lockdown": {"lockdown", http.MethodPost, func(string) string { return "/v1/lockdown" }, lockdownBody},
	"release":  {"release", http.MethodDelete, func(string) string { return "/v1/lockdown" }, lockdownBody},
}

// lockdownBody names the door, or none for every door ("*").
func lockdownBody(r *http.Request, _ *Server) (any, error) {
	if n := r.PathValue("name"); n != "*" {
		return apitype.LockdownRequest{Doors: []string{n}}, nil
	}
	return apitype.LockdownRequest{}, nil
}

// overrideBody is the override form as the API's body: a mode for a
// duration, or until a local time in the door's zone.
func overrideBody(r *http.Request, s *Server) (any, error) {
	in := apitype.OverrideRequest{Mode: r.PostFormValue("mode"), For: strings.TrimSpace(r.PostFormValue("for"))}
	if u := strings.TrimSpace(r.PostFormValue("until")); u != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", u, s.doorZone(r.PathValue("name")))
		if err != nil {
			return nil, &apiErr{Status: http.StatusBadRequest, E: apitype.Error{Field: "until", Rule: "must be a date and time (YYYY-MM-DD HH:MM) in the door's time zone"}}
		}
		in.Until = t.Format(time.RFC3339)
	}
	return in, nil
}

type doorCmdData struct {
	Name, Cmd, Zone string
	All             bool
	Modes           []string
}

var overrideModes = []string{"unlocked", "locked", "access_controlled", "card_and_code"}

// doorConfirm is a command's confirmation page (for override, its form).
func (s *Server) doorConfirm(cmd string) func(http.ResponseWriter, *http.Request, *req) {
	return func(w http.ResponseWriter, r *http.Request, q *req) {
		p := s.newPage(w, r, q)
		s.showDoorConfirm(w, r, p, cmd, http.StatusOK)
	}
}

func (s *Server) showDoorConfirm(w http.ResponseWriter, r *http.Request, p *page, cmd string, status int) {
	name := r.PathValue("name")
	d := doorCmdData{Name: name, Cmd: cmd, All: name == "*", Modes: overrideModes, Zone: s.doorZone(name).String()}
	w.WriteHeader(status)
	s.render(w, "door_confirm", p.with("doors", d))
}

// doorRun runs a confirmed command through the API's route, then goes
// back to Doors; a refusal (a lockdown refuses an unlock: 409) is shown
// in the API's words.
func (s *Server) doorRun(cmd string) func(http.ResponseWriter, *http.Request, *req) {
	c := doorCmds[cmd]
	return func(w http.ResponseWriter, r *http.Request, q *req) {
		var body any
		var err error
		if c.body != nil {
			body, err = c.body(r, s)
		}
		if err == nil {
			err = s.call(r.Context(), q, c.method, c.api(r.PathValue("name")), body, nil)
		}
		if err == nil {
			http.Redirect(w, r, "/doors?ok="+c.key, http.StatusSeeOther)
			return
		}
		p := s.newPage(w, r, q)
		fieldErr(p, err)
		status := errStatus(err)
		if ae, ok := err.(*apiErr); ok && ae.E.Field != "" {
			p.Form = r.PostForm
			s.showDoorConfirm(w, r, p, cmd, status) // the field's error next to it
			return
		}
		w.WriteHeader(status)
		s.render(w, "doors", p.with("doors", s.doorRows(r, q, p)))
	}
}
