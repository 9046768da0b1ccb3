package web

import (
	"net/http"
	"time"

	"github.com/latchd/latch/api/apitype"
)

type doorRow struct {
	apitype.DoorState
	Next string // the next change, in the door's zone with the zone named
}

// doors lists every door as GET /v1/doors has it, times in each door's zone.
func (s *Server) doors(w http.ResponseWriter, r *http.Request, q *req) {
	p := s.newPage(w, r, q)
	var dl apitype.DoorList
	if err := s.call(r.Context(), q, http.MethodGet, "/v1/doors", nil, &dl); err != nil {
		fieldErr(p, err)
	}
	var rows []doorRow
	for _, d := range dl.Doors {
		row := doorRow{DoorState: d}
		if t, err := time.Parse(time.RFC3339, d.NextChange); err == nil {
			loc := s.loc()
			if z, err := time.LoadLocation(d.TimeZone); err == nil && d.TimeZone != "" {
				loc = z
			}
			row.Next = fmtIn(t, loc)
		}
		rows = append(rows, row)
	}
	s.render(w, "doors", p.with("doors", rows))
}
