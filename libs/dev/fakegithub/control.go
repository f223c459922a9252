package fakegithub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// serveControl serves the fake's own endpoints under /_fake (path is what
// follows): the page, issue JSON for the page's links, the close/reopen
// form, and faults, calls, deliveries and the webhook for a running demo.
// They need no token, are never faulted and are not recorded.
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request, path string) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case path == "" || path == "/":
		if r.Method != http.MethodGet {
			controlError(w, http.StatusMethodNotAllowed, "use GET")
			return
		}
		s.servePage(w, r)
	case len(segs) == 5 && segs[0] == "repos" && segs[3] == "issues" && r.Method == http.MethodGet:
		s.serveIssueJSON(w, r, segs[1], segs[2], segs[4])
	case len(segs) == 5 && segs[0] == "issues" && segs[4] == "state" && r.Method == http.MethodPost:
		s.serveStateForm(w, r, segs[1], segs[2], segs[3])
	case path == "/faults":
		s.serveFaults(w, r)
	case path == "/calls":
		switch r.Method {
		case http.MethodGet:
		case http.MethodDelete:
			s.ResetRequests()
		default:
			controlError(w, http.StatusMethodNotAllowed, "use GET or DELETE")
			return
		}
		writeControlJSON(w, http.StatusOK, map[string]any{"calls": s.Calls(), "total": s.TotalCalls()})
	case path == "/deliveries" && r.Method == http.MethodGet:
		writeControlJSON(w, http.StatusOK, map[string]any{"deliveries": deliverySummaries(s.Deliveries())})
	case len(segs) == 3 && segs[0] == "deliveries" && segs[2] == "redeliver" && r.Method == http.MethodPost:
		d, err := s.Redeliver(r.Context(), segs[1])
		if d.GUID == "" {
			controlError(w, http.StatusNotFound, err.Error())
			return
		}
		writeControlJSON(w, http.StatusOK, deliverySummaries([]Delivery{d})[0])
	case path == "/webhook":
		s.serveWebhookConfig(w, r)
	default:
		controlError(w, http.StatusNotFound, "no such fake endpoint: "+r.Method+" "+controlPrefix+path)
	}
}

func writeControlJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func controlError(w http.ResponseWriter, status int, msg string) {
	writeControlJSON(w, status, map[string]string{"message": msg})
}

// serveIssueJSON shows an issue as the API would, for the page's links
// (a browser sends no token).
func (s *Server) serveIssueJSON(w http.ResponseWriter, r *http.Request, owner, repo, num string) {
	n, err := strconv.Atoi(num)
	if err != nil {
		controlError(w, http.StatusNotFound, "no such issue")
		return
	}
	s.mu.Lock()
	is, err := s.findIssue(owner, repo, n)
	var body issueJSON
	if err == nil {
		root := webRoot(r)
		body = bases{api: root, web: root}.issue(is, true)
	}
	s.mu.Unlock()
	if err != nil {
		controlError(w, http.StatusNotFound, err.Error())
		return
	}
	writeControlJSON(w, http.StatusOK, body)
}

func webRoot(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// serveStateForm closes or reopens an issue from the page's button.
func (s *Server) serveStateForm(w http.ResponseWriter, r *http.Request, owner, repo, num string) {
	if err := r.ParseForm(); err != nil {
		controlError(w, http.StatusBadRequest, "bad form: "+err.Error())
		return
	}
	// The page's token keeps other sites' forms from changing issues.
	if r.PostForm.Get("token") != s.formToken {
		controlError(w, http.StatusForbidden, "the form is stale: reload the page")
		return
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		controlError(w, http.StatusNotFound, "no such issue")
		return
	}
	switch r.PostForm.Get("state") {
	case "closed":
		err = s.CloseIssue(owner, repo, n, r.PostForm.Get("reason"))
	case "open":
		err = s.ReopenIssue(owner, repo, n)
	default:
		controlError(w, http.StatusBadRequest, "state must be open or closed")
		return
	}
	if err != nil {
		controlError(w, http.StatusNotFound, err.Error())
		return
	}
	back := r.PostForm.Get("return")
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") {
		back = controlPrefix + "/"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// faultJSON is a Fault on the wire; durations are strings ("30s").
type faultJSON struct {
	Kind      FaultKind `json:"kind"`
	Endpoints []string  `json:"endpoints,omitempty"`
	Count     int       `json:"count,omitempty"`
	Fraction  float64   `json:"fraction,omitempty"`
	For       string    `json:"for,omitempty"`
	Delay     string    `json:"delay,omitempty"`
	Status    int       `json:"status,omitempty"`
}

func (fj faultJSON) fault() (Fault, error) {
	f := Fault{Kind: fj.Kind, Endpoints: fj.Endpoints, Count: fj.Count, Fraction: fj.Fraction, Status: fj.Status}
	for _, d := range []struct {
		text string
		dst  *time.Duration
	}{{fj.For, &f.For}, {fj.Delay, &f.Delay}} {
		if d.text == "" {
			continue
		}
		v, err := time.ParseDuration(d.text)
		if err != nil {
			return f, fmt.Errorf("duration %q: %w", d.text, err)
		}
		*d.dst = v
	}
	return f, nil
}

// serveFaults: GET lists, POST adds (a fault or an array), DELETE clears.
//
//	POST /_fake/faults {"kind":"lose_response","endpoints":["issues/create"],"fraction":0.3}
func (s *Server) serveFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
	case http.MethodDelete:
		s.ClearFaults()
	case http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			controlError(w, http.StatusBadRequest, "read body: "+err.Error())
			return
		}
		var list []faultJSON
		if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '[' {
			err = json.Unmarshal(body, &list)
		} else {
			var one faultJSON
			err = json.Unmarshal(body, &one)
			list = []faultJSON{one}
		}
		if err != nil {
			controlError(w, http.StatusBadRequest, "invalid fault: "+err.Error())
			return
		}
		faults := make([]Fault, 0, len(list))
		for _, fj := range list {
			f, err := fj.fault()
			if err == nil {
				err = f.validate()
			}
			if err != nil {
				controlError(w, http.StatusBadRequest, "invalid fault: "+err.Error())
				return
			}
			faults = append(faults, f)
		}
		for _, f := range faults {
			_ = s.InjectFault(f) // validated above
		}
	default:
		controlError(w, http.StatusMethodNotAllowed, "use GET, POST or DELETE")
		return
	}
	active := []faultJSON{}
	for _, f := range s.Faults() {
		fj := faultJSON{Kind: f.Kind, Endpoints: f.Endpoints, Count: f.Count, Fraction: f.Fraction, Status: f.Status}
		if f.For > 0 {
			fj.For = f.For.String()
		}
		if f.Delay > 0 {
			fj.Delay = f.Delay.String()
		}
		active = append(active, fj)
	}
	writeControlJSON(w, http.StatusOK, map[string]any{"faults": active})
}

// serveWebhookConfig: GET shows the webhook, PUT or POST sets it
// ({"url":"…","secret":"…"}; an empty url turns it off).
func (s *Server) serveWebhookConfig(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
	case http.MethodPut, http.MethodPost:
		var cfg struct {
			URL    string `json:"url"`
			Secret string `json:"secret"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&cfg); err != nil {
			controlError(w, http.StatusBadRequest, "invalid webhook: "+err.Error())
			return
		}
		s.SetWebhook(cfg.URL, cfg.Secret)
	default:
		controlError(w, http.StatusMethodNotAllowed, "use GET, PUT or POST")
		return
	}
	s.hooks.mu.Lock()
	url, hasSecret := s.hooks.url, s.hooks.secret != ""
	s.hooks.mu.Unlock()
	writeControlJSON(w, http.StatusOK, map[string]any{"url": url, "secret_set": hasSecret})
}

type deliverySummary struct {
	ID         int64             `json:"id"`
	GUID       string            `json:"guid"`
	Event      string            `json:"event"`
	Action     string            `json:"action"`
	Repository string            `json:"repository"`
	Issue      int               `json:"issue"`
	Redelivery bool              `json:"redelivery"`
	Status     int               `json:"status"`
	Attempts   []DeliveryAttempt `json:"attempts"`
}

func deliverySummaries(ds []Delivery) []deliverySummary {
	out := make([]deliverySummary, 0, len(ds))
	for _, d := range ds {
		out = append(out, deliverySummary{ID: d.ID, GUID: d.GUID, Event: d.Event, Action: d.Action,
			Repository: d.Owner + "/" + d.Repo, Issue: d.Number, Redelivery: d.Redelivery,
			Status: d.Status(), Attempts: d.Attempts})
	}
	return out
}
