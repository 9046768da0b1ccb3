package api

import (
	"net/http"
	"time"

	"github.com/latchd/latch/api/apitype"
)

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, c caller) error {
	groups := s.config().Groups
	if groups == nil {
		groups = []Group{}
	}
	writeJSON(w, http.StatusOK, apitype.GroupList{Groups: groups})
	return nil
}

func (s *Server) doorsOut() []apitype.DoorState {
	var sts []DoorStatus
	if s.doors != nil {
		sts = s.doors.DoorStatus()
	}
	return DoorViews(s.config().Doors, sts)
}

// DoorViews is GET /v1/doors's view of doors (the configured ones) given
// their loops' statuses: what this latchd serves, and what a fleet
// controller reports to the site (docs/fleet.md "Status").
func DoorViews(doors []Door, statuses []DoorStatus) []apitype.DoorState {
	status := map[string]DoorStatus{}
	for _, d := range statuses {
		status[d.Name] = d
	}
	out := make([]apitype.DoorState, 0, len(doors))
	for _, d := range doors {
		o := apitype.DoorState{Door: d, Mode: "unknown"}
		if o.Readers == nil {
			o.Readers = []string{}
		}
		if st, ok := status[d.Name]; ok {
			o.Mode, o.NextChange, o.NextMode = st.Mode, fmtTime(st.NextChange), st.NextMode
			loc, err := time.LoadLocation(d.TimeZone)
			if err != nil {
				loc = time.UTC
			}
			doorView(&o, st, loc)
		}
		out = append(out, o)
	}
	return out
}

func (s *Server) listDoors(w http.ResponseWriter, r *http.Request, c caller) error {
	doors, err := s.allDoors(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitype.DoorList{Doors: doors})
	return nil
}

func (s *Server) getDoor(w http.ResponseWriter, r *http.Request, c caller) error {
	name := r.PathValue("name")
	doors, err := s.allDoors(r)
	if err != nil {
		return err
	}
	// A site door by <controller>.<door> first (a fleet manager), then by
	// its name.
	for _, match := range []func(apitype.DoorState) bool{
		func(d apitype.DoorState) bool { return d.SiteName() == name },
		func(d apitype.DoorState) bool { return d.Name == name },
	} {
		for _, d := range doors {
			if match(d) {
				writeJSON(w, http.StatusOK, d)
				return nil
			}
		}
	}
	return notFound("door")
}
