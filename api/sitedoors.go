package api

import (
	"net/http"

	"github.com/latchd/latch/api/apitype"
)

// allDoors is this latchd's doors and, on a fleet manager, the site's
// (docs/fleet.md "Status"). The site's cannot be read while NATS is
// unreachable: a 503 naming the cause.
func (s *Server) allDoors(r *http.Request) ([]apitype.DoorState, error) {
	doors := s.doorsOut()
	if s.siteDoors == nil {
		return doors, nil
	}
	site, err := s.siteDoors(r.Context())
	if err != nil {
		return nil, &apiError{Status: http.StatusServiceUnavailable, Msg: "api: the site's doors: " + err.Error()}
	}
	return append(doors, site...), nil
}
