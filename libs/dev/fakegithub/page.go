package fakegithub

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// pageTemplates are parsed once; html/template escapes every issue text.
var pageTemplates = template.Must(template.ParseFS(templateFS, "templates/*.tmpl"))

// maxPageDeliveries is how many recent deliveries the page lists.
const maxPageDeliveries = 20

type issueView struct {
	FullName, Title, State, StateReason, Author, Created string
	Number                                               int
	Labels                                               []string
	Body                                                 string
	Comments                                             []Comment
	HTMLPath, JSONPath, StatePath, Token, Return         string
}

type repoView struct {
	FullName string
	Issues   []issueView
}

func (s *Server) issueViewLocked(is *issue, back string) issueView {
	owner, name := url.PathEscape(is.repo.owner), url.PathEscape(is.repo.name)
	ex := is.export()
	v := issueView{FullName: is.repo.fullName(), Title: ex.Title, State: ex.State, StateReason: ex.StateReason,
		Author: ex.Author, Created: timestamp(ex.CreatedAt), Number: ex.Number, Labels: ex.Labels, Body: ex.Body,
		Comments:  ex.Comments,
		HTMLPath:  fmt.Sprintf("/%s/%s/issues/%d", owner, name, is.number),
		JSONPath:  fmt.Sprintf("%s/repos/%s/%s/issues/%d", controlPrefix, owner, name, is.number),
		StatePath: fmt.Sprintf("%s/issues/%s/%s/%d/state", controlPrefix, owner, name, is.number),
		Token:     s.formToken, Return: back}
	if v.Return == "" {
		v.Return = v.HTMLPath
	}
	return v
}

// servePage renders GET /_fake/: every repository's issues with a button
// to close or reopen each, and the recent webhook deliveries.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	data := struct {
		Developer, Webhook string
		Repos              []repoView
		Deliveries         []Delivery
	}{Developer: s.opts.Developer}
	s.mu.Lock()
	for _, rp := range s.store.repoOrder {
		rv := repoView{FullName: rp.fullName()}
		for _, is := range rp.issues {
			if !is.deleted {
				rv.Issues = append(rv.Issues, s.issueViewLocked(is, controlPrefix+"/"))
			}
		}
		data.Repos = append(data.Repos, rv)
	}
	s.mu.Unlock()
	s.hooks.mu.Lock()
	data.Webhook = s.hooks.url
	s.hooks.mu.Unlock()
	ds := s.Deliveries()
	for i := len(ds) - 1; i >= 0 && len(data.Deliveries) < maxPageDeliveries; i-- {
		data.Deliveries = append(data.Deliveries, ds[i])
	}
	renderPage(w, "index.html.tmpl", data)
}

// serveIssuePage renders an issue at its html_url (/{owner}/{repo}/issues/{n});
// it reports false when path is not such a page.
func (s *Server) serveIssuePage(w http.ResponseWriter, r *http.Request, path string) bool {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) != 4 || segs[2] != "issues" {
		return false
	}
	n, err := strconv.Atoi(segs[3])
	if err != nil {
		return false
	}
	s.mu.Lock()
	is, err := s.findIssue(segs[0], segs[1], n)
	var v issueView
	if err == nil && !is.deleted {
		v = s.issueViewLocked(is, "")
	}
	s.mu.Unlock()
	if v.Number == 0 {
		return false
	}
	renderPage(w, "issue.html.tmpl", v)
	return true
}

func renderPage(w http.ResponseWriter, name string, data any) {
	var b bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&b, name, data); err != nil {
		http.Error(w, "render page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	_, _ = w.Write(b.Bytes())
}
