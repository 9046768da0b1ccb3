package api

import (
	"net/http"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/door"
	"github.com/latchd/latch/store"
)

// Duress codes and the duress output (docs/operations.md, "Duress codes";
// docs/operations.md, "The duress output"). A user's duress code is managed like their entry
// code (PUT and DELETE …/duress_code, permission credentials); the duress
// output's state is read and cleared with GET and DELETE /v1/duress
// (permission duress).

// DuressLatch is the controller's duress latch (*door.Duress implements
// it): its state, and Clear, which stores a duress_cleared event naming
// the caller and drives the output inactive.
type DuressLatch interface {
	State() door.DuressState
	Clear(actor, role string) (bool, error)
}

// storeDuress is the latch of a server without one (Options.Duress nil):
// the stored state alone, with no output line.
type storeDuress struct{ st *store.Store }

func (d storeDuress) State() door.DuressState {
	s, _ := d.st.DuressState()
	return s
}

func (d storeDuress) Clear(actor, role string) (bool, error) {
	return d.st.ClearDuress(store.Event{Event: door.EvDuressCleared, Actor: actor, Role: role})
}

func (s *Server) setDuressCode(w http.ResponseWriter, r *http.Request, c caller) error {
	return s.putCode(s.st.SetDuressCode)(w, r, c)
}

func (s *Server) deleteDuressCode(w http.ResponseWriter, r *http.Request, c caller) error {
	return deleteCode(s.st.DeleteDuressCode)(w, r, c)
}

func duressOut(st door.DuressState) apitype.Duress {
	return apitype.Duress{Active: st.Active, Since: fmtTime(st.Since)}
}

func (s *Server) getDuress(w http.ResponseWriter, r *http.Request, c caller) error {
	writeJSON(w, http.StatusOK, duressOut(s.duress.State()))
	return nil
}

func (s *Server) clearDuress(w http.ResponseWriter, r *http.Request, c caller) error {
	was, err := s.duress.Clear(c.Name, c.Role)
	if err != nil {
		return err
	}
	out := duressOut(s.duress.State())
	out.Cleared = was
	writeJSON(w, http.StatusOK, out)
	return nil
}
