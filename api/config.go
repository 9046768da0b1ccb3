package api

import "net/http"

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, c caller) error {
	groups := s.config().Groups
	if groups == nil {
		groups = []Group{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": groups})
	return nil
}

// doorOut is a configured door with its mode now and its next change.
type doorOut struct {
	Door
	Mode       string `json:"mode"`
	NextChange string `json:"next_change,omitempty"`
	NextMode   string `json:"next_mode,omitempty"`
}

func (s *Server) doorsOut() []doorOut {
	status := map[string]DoorStatus{}
	if s.doors != nil {
		for _, d := range s.doors.DoorStatus() {
			status[d.Name] = d
		}
	}
	doors := s.config().Doors
	out := make([]doorOut, 0, len(doors))
	for _, d := range doors {
		o := doorOut{Door: d, Mode: "unknown"}
		if o.Readers == nil {
			o.Readers = []string{}
		}
		if st, ok := status[d.Name]; ok {
			o.Mode, o.NextChange, o.NextMode = st.Mode, fmtTime(st.NextChange), st.NextMode
		}
		out = append(out, o)
	}
	return out
}

func (s *Server) listDoors(w http.ResponseWriter, r *http.Request, c caller) error {
	writeJSON(w, http.StatusOK, map[string]any{"doors": s.doorsOut()})
	return nil
}

func (s *Server) getDoor(w http.ResponseWriter, r *http.Request, c caller) error {
	name := r.PathValue("name")
	for _, d := range s.doorsOut() {
		if d.Name == name {
			writeJSON(w, http.StatusOK, d)
			return nil
		}
	}
	return notFound("door")
}
