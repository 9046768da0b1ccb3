package web

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/latchd/latch/api"
	"github.com/latchd/latch/store"
)

// importJob is an import the page started: the file held in memory (it
// may carry codes: never on disk), its progress, then its result.
type importJob struct {
	mu       sync.Mutex
	name     string
	progress store.ImportProgress
	done     bool
	sum      store.ImportSummary
	rows     []store.RowError
	more     int
	errMsg   string
	finished chan struct{} // closed when the import has ended
}

func (s *Server) importForm(w http.ResponseWriter, r *http.Request, q *req) {
	s.render(w, "import", s.newPage(w, r, q).with("import", nil))
}

// importUpload takes the uploaded CSV and runs store.ImportWith with the
// API's options for the role (the config's groups, what the role may
// change), one at a time per account, then shows its progress.
func (s *Server) importUpload(w http.ResponseWriter, r *http.Request, q *req) {
	p := s.newPage(w, r, q)
	f, hdr, err := r.FormFile("file")
	if err != nil {
		p.Errs["file"] = p.T("err.nofile")
		w.WriteHeader(http.StatusBadRequest)
		s.render(w, "import", p.with("import", nil))
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, ImportLimit+1))
	if err != nil || len(data) > ImportLimit {
		clear(data)
		p.Errs["file"] = p.T("err.toolarge")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		s.render(w, "import", p.with("import", nil))
		return
	}
	if r.MultipartForm != nil {
		r.MultipartForm.RemoveAll()
	}
	s.jobsMu.Lock()
	if j := s.jobs[q.account.Name]; j != nil {
		j.mu.Lock()
		running := !j.done
		j.mu.Unlock()
		if running {
			s.jobsMu.Unlock()
			clear(data)
			http.Redirect(w, r, "/import/status", http.StatusSeeOther)
			return
		}
	}
	job := &importJob{name: hdr.Filename, finished: make(chan struct{})}
	s.jobs[q.account.Name] = job
	s.jobsMu.Unlock()
	opts := s.api.ImportOptions(q.account.Role)
	opts.Progress = func(pr store.ImportProgress) { job.mu.Lock(); job.progress = pr; job.mu.Unlock() }
	by := store.Actor{Name: api.PageName(q.account.Name), Role: q.account.Role}
	go func() {
		defer close(job.finished)
		defer clear(data)
		sum, err := s.st.ImportWith(func() (io.Reader, error) { return bytes.NewReader(data), nil }, int64(len(data)), by, opts)
		job.mu.Lock()
		defer job.mu.Unlock()
		job.done, job.sum = true, sum
		var ie *store.ImportError
		switch {
		case errors.As(err, &ie):
			job.rows, job.more = ie.Rows, ie.More
		case err != nil:
			if status, _, _, msg := api.ErrorOf(err, "user"); status != 0 {
				job.errMsg = msg
			} else {
				s.log.Error().Err(err).Msg("import")
				job.errMsg = "internal error (see the daemon's log)"
			}
		}
	}()
	http.Redirect(w, r, "/import/status", http.StatusSeeOther)
}

type importData struct {
	Name              string
	Done              bool
	Percent, Pass     int
	Rows              int
	Sum               store.ImportSummary
	Bad               []store.RowError
	More              int
	Err               string
	Refused, Finished bool
}

func (s *Server) importStatus(w http.ResponseWriter, r *http.Request, q *req) {
	s.jobsMu.Lock()
	job := s.jobs[q.account.Name]
	s.jobsMu.Unlock()
	if job == nil {
		http.Redirect(w, r, "/import", http.StatusSeeOther)
		return
	}
	job.mu.Lock()
	d := importData{Name: job.name, Done: job.done, Pass: job.progress.Pass, Rows: job.progress.Rows, Sum: job.sum,
		Bad: job.rows, More: job.more, Err: job.errMsg}
	if job.progress.TotalBytes > 0 {
		d.Percent = int(100 * job.progress.Bytes / job.progress.TotalBytes)
	}
	job.mu.Unlock()
	d.Refused = d.Done && (len(d.Bad) > 0 || d.Err != "")
	d.Finished = d.Done && !d.Refused
	s.render(w, "import_status", s.newPage(w, r, q).with("import", d))
}
