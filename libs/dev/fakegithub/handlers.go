package fakegithub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// GitHub's length limits on issue text.
const (
	maxTitleChars = 256
	maxBodyChars  = 65536
)

// handle runs the operation of an authenticated, admitted request.
func (s *Server) handle(rc *reqCtx) *response {
	switch rc.rt.op {
	case OpGetRateLimit:
		return s.getRateLimit(rc)
	case OpSearchIssues:
		return s.searchIssues(rc)
	}
	s.mu.Lock()
	resp, ev := s.handleRepo(rc)
	s.mu.Unlock()
	if ev != nil {
		s.deliverAsync(ev)
	}
	return resp
}

// handleRepo runs an operation on a repository's issues; s.mu is held.
func (s *Server) handleRepo(rc *reqCtx) (*response, *hookEvent) {
	op := rc.rt.op
	var r *repo
	if rc.rt.repoID != 0 {
		r = s.store.repoByID[rc.rt.repoID]
	} else {
		r = s.store.repo(rc.rt.owner, rc.rt.repo)
		if r == nil && s.opts.AutoCreateRepos {
			r = s.store.createRepo(rc.rt.owner, rc.rt.repo, rc.now)
		}
	}
	if r == nil {
		return notFound(docsURL[op]), nil
	}
	if r.issuesDisabled {
		return errorResponse(http.StatusGone, "Issues are disabled for this repo", docsURL[op]), nil
	}
	switch op {
	case OpListIssues:
		return s.listIssues(rc, r), nil
	case OpCreateIssue:
		return s.createIssue(rc, r), nil
	}
	is := r.issue(rc.rt.number)
	if is == nil {
		return notFound(docsURL[op]), nil
	}
	if is.deleted {
		return errorResponse(http.StatusGone, "This issue was deleted", docsURL[op]), nil
	}
	switch op {
	case OpGetIssue:
		return jsonResponse(http.StatusOK, rc.bases().issue(is, true)), nil
	case OpUpdateIssue:
		return s.updateIssue(rc, is)
	case OpListComments:
		return s.listComments(rc, is), nil
	case OpCreateComment:
		return s.createComment(rc, is), nil
	case OpListLabels:
		return s.listLabels(rc, is), nil
	case OpAddLabels:
		return s.addLabels(rc, is), nil
	}
	return notFound(docsRoot), nil
}

// rateLimitJSON is one resource in GET /rate_limit.
type rateLimitJSON struct {
	Limit     int   `json:"limit"`
	Remaining int   `json:"remaining"`
	Reset     int64 `json:"reset"`
	Used      int   `json:"used"`
}

func (s *Server) getRateLimit(rc *reqCtx) *response {
	conv := func(ri rateInfo) rateLimitJSON {
		return rateLimitJSON{Limit: ri.limit, Remaining: ri.remaining(), Reset: ri.reset.Unix(), Used: ri.used}
	}
	core := conv(s.coreRate(rc.user, rc.now))
	search := conv(s.limits.peek(rc.user, resourceSearch, rc.now, s.opts))
	// The fake serves no GraphQL; its allowance is shown untouched.
	graphql := rateLimitJSON{Limit: DefaultPrimaryLimit, Remaining: DefaultPrimaryLimit, Reset: ceilSecond(rc.now.Add(time.Hour)).Unix()}
	return jsonResponse(http.StatusOK, map[string]any{
		"resources": map[string]rateLimitJSON{"core": core, "search": search, "graphql": graphql},
		"rate":      core,
	})
}

// fields is a decoded JSON object body, kept raw so types can be checked
// the way GitHub's request schema check does.
type fields map[string]json.RawMessage

// decodeObject reads a JSON object body; an empty body is an empty object
// when allowEmpty.
func decodeObject(op string, body []byte, allowEmpty bool) (fields, *response) {
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return fields{}, nil
		}
		return nil, badJSON(op)
	}
	var raw any
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, badJSON(op)
	}
	if _, ok := raw.(map[string]any); !ok {
		return nil, invalidRequest(op, fmt.Sprintf("For 'links/0/schema', %s is not an object.", compact(body)))
	}
	var f fields
	_ = json.Unmarshal(body, &f)
	return f, nil
}

func compact(raw []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

func (f fields) has(name string) bool { _, ok := f[name]; return ok }

func (f fields) isNull(name string) bool {
	v, ok := f[name]
	return ok && string(bytes.TrimSpace(v)) == "null"
}

// str reads a string field; ok is false (with GitHub's answer) when it has
// another type.
func (f fields) str(op, name string, nullable bool) (val *string, resp *response) {
	v, ok := f[name]
	if !ok || (nullable && f.isNull(name)) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, invalidRequest(op, fmt.Sprintf("For 'properties/%s', %s is not a string.", name, compact(v)))
	}
	return &s, nil
}

// title reads the title, which GitHub accepts as a string or an integer.
func (f fields) title(op string) (*string, *response) {
	v, ok := f["title"]
	if !ok || f.isNull("title") {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return &s, nil
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err == nil {
		if _, err := n.Int64(); err == nil {
			t := n.String()
			return &t, nil
		}
	}
	return nil, invalidRequest(op, fmt.Sprintf("For 'properties/title', %s is not a string or integer.", compact(v)))
}

// names reads a list of strings or of objects with a name (labels).
func names(op, field string, v json.RawMessage) ([]string, *response) {
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		return nil, invalidRequest(op, fmt.Sprintf("For 'properties/%s', %s is not an array.", field, compact(v)))
	}
	var out []string
	for _, it := range items {
		var s string
		if err := json.Unmarshal(it, &s); err == nil {
			out = append(out, s)
			continue
		}
		var obj struct {
			Name *string `json:"name"`
		}
		if err := json.Unmarshal(it, &obj); err != nil || obj.Name == nil {
			return nil, invalidRequest(op, fmt.Sprintf("For 'items', %s is not a string or an object with a name.", compact(it)))
		}
		out = append(out, *obj.Name)
	}
	return out, nil
}

// checkLabels refuses empty label names, as GitHub's label validation does.
func checkLabels(op string, labels []string) *response {
	for _, l := range labels {
		if strings.TrimSpace(l) == "" {
			return validationFailed(op, fieldError{Resource: "Label", Code: "invalid", Field: "name"})
		}
		if utf8.RuneCountInString(l) > 50 {
			return validationFailed(op, fieldError{Resource: "Label", Code: "custom", Field: "name", Message: "name is too long (maximum is 50 characters)"})
		}
	}
	return nil
}

// assignees resolves logins to users; the fake's known users (token
// owners, the developer, repository owners) are the assignable ones.
func (s *Server) assignees(op string, logins []string) ([]*user, *response) {
	var out []*user
	for _, l := range logins {
		u, ok := s.store.users[strings.ToLower(l)]
		if !ok {
			return nil, validationFailed(op, fieldError{Resource: "Issue", Code: "invalid", Field: "assignees", Value: l})
		}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out, nil
}

// checkText applies GitHub's length limits.
func checkText(op, resource, field string, val string, maxChars int) *response {
	if utf8.RuneCountInString(val) > maxChars {
		return validationFailed(op, fieldError{Resource: resource, Code: "custom", Field: field,
			Message: fmt.Sprintf("%s is too long (maximum is %d characters)", field, maxChars)})
	}
	return nil
}

// issueInput is what create and update read from the body.
type issueInput struct {
	title, body        *string
	clearBody          bool
	labels             []string
	setLabels          bool
	assignees          []*user
	setAssignees       bool
	state, stateReason string
}

func (s *Server) readIssueInput(op string, f fields) (issueInput, *response) {
	var in issueInput
	var resp *response
	if in.title, resp = f.title(op); resp != nil {
		return in, resp
	}
	if in.title != nil {
		if strings.TrimSpace(*in.title) == "" {
			return in, validationFailed(op, fieldError{Resource: "Issue", Code: "missing_field", Field: "title"})
		}
		if resp := checkText(op, "Issue", "title", *in.title, maxTitleChars); resp != nil {
			return in, resp
		}
	} else if f.has("title") {
		// An explicit null title.
		return in, validationFailed(op, fieldError{Resource: "Issue", Code: "missing_field", Field: "title"})
	}
	if in.body, resp = f.str(op, "body", op == OpUpdateIssue); resp != nil {
		return in, resp
	}
	in.clearBody = f.isNull("body")
	if in.body != nil {
		if resp := checkText(op, "Issue", "body", *in.body, maxBodyChars); resp != nil {
			return in, resp
		}
	}
	if v, ok := f["labels"]; ok && !f.isNull("labels") {
		if in.labels, resp = names(op, "labels", v); resp != nil {
			return in, resp
		}
		if resp := checkLabels(op, in.labels); resp != nil {
			return in, resp
		}
		in.setLabels = true
	}
	var logins []string
	if a, resp := f.str(op, "assignee", true); resp != nil {
		return in, resp
	} else if a != nil {
		logins, in.setAssignees = append(logins, *a), true
	}
	if v, ok := f["assignees"]; ok && !f.isNull("assignees") {
		more, resp := names(op, "assignees", v)
		if resp != nil {
			return in, resp
		}
		logins, in.setAssignees = append(logins, more...), true
	}
	if in.assignees, resp = s.assignees(op, logins); resp != nil {
		return in, resp
	}
	if v, ok := f["milestone"]; ok && !f.isNull("milestone") {
		var val any
		_ = json.Unmarshal(v, &val)
		// The fake has no milestones, so no number names one.
		return in, validationFailed(op, fieldError{Resource: "Issue", Code: "invalid", Field: "milestone", Value: val})
	}
	if op == OpUpdateIssue {
		st, resp := f.str(op, "state", false)
		if resp != nil {
			return in, resp
		}
		if st != nil {
			if *st != "open" && *st != "closed" {
				return in, validationFailed(op, fieldError{Resource: "Issue", Code: "invalid", Field: "state", Value: *st})
			}
			in.state = *st
		}
		sr, resp := f.str(op, "state_reason", true)
		if resp != nil {
			return in, resp
		}
		if sr != nil {
			switch *sr {
			case "completed", "not_planned", "duplicate", "reopened":
			default:
				return in, validationFailed(op, fieldError{Resource: "Issue", Code: "invalid", Field: "state_reason", Value: *sr})
			}
			if in.state == "closed" && *sr == "reopened" {
				return in, validationFailed(op, fieldError{Resource: "Issue", Code: "invalid", Field: "state_reason", Value: *sr})
			}
			in.stateReason = *sr
		}
	}
	return in, nil
}

func (s *Server) createIssue(rc *reqCtx, r *repo) *response {
	f, resp := decodeObject(OpCreateIssue, rc.body, false)
	if resp != nil {
		return resp
	}
	if !f.has("title") {
		return invalidRequest(OpCreateIssue, `"title" wasn't supplied.`)
	}
	in, resp := s.readIssueInput(OpCreateIssue, f)
	if resp != nil {
		return resp
	}
	is := s.store.createIssue(r, rc.user, *in.title, in.body, in.labels, in.assignees, rc.now, s.opts.SearchLag)
	body := rc.bases().issue(is, true)
	resp = jsonResponse(http.StatusCreated, body)
	resp.header.Set("Location", body.URL)
	return resp
}

func (s *Server) updateIssue(rc *reqCtx, is *issue) (*response, *hookEvent) {
	f, resp := decodeObject(OpUpdateIssue, rc.body, true)
	if resp != nil {
		return resp, nil
	}
	in, resp := s.readIssueInput(OpUpdateIssue, f)
	if resp != nil {
		return resp, nil
	}
	changed := false
	if in.title != nil && *in.title != is.title {
		is.title, changed = *in.title, true
	}
	switch {
	case in.clearBody && is.body != nil:
		is.body, changed = nil, true
	case in.body != nil && (is.body == nil || *is.body != *in.body):
		is.body, changed = in.body, true
	}
	if in.setLabels {
		before := slices.Clone(is.labels)
		is.labels = nil
		s.store.addLabels(is, in.labels)
		changed = changed || !slices.Equal(before, is.labels)
	}
	if in.setAssignees && !slices.Equal(in.assignees, is.assignees) {
		is.assignees, changed = in.assignees, true
	}
	// state_reason is ignored unless the state changes, as documented.
	stateChanged := in.state != "" && is.setState(in.state, in.stateReason, rc.user, rc.now)
	if changed || stateChanged {
		is.touch(rc.now, s.opts.SearchLag)
	}
	resp = jsonResponse(http.StatusOK, rc.bases().issue(is, true))
	var ev *hookEvent
	if stateChanged {
		ev = s.issueEventLocked(is, rc.user)
	}
	return resp, ev
}

// pageQuery is per_page and page, as GitHub reads them (per_page at most
// 100; a value that is not a number is ignored).
type pageQuery struct{ perPage, page int }

func readPage(q url.Values) pageQuery {
	p := pageQuery{perPage: 30, page: 1}
	if v, err := strconv.Atoi(q.Get("per_page")); err == nil && v > 0 {
		p.perPage = min(v, 100)
	}
	if v, err := strconv.Atoi(q.Get("page")); err == nil && v > 0 {
		p.page = v
	}
	return p
}

// window returns the slice bounds of the page and the Link header value
// (empty when everything fits on one page). base is the URL the links point
// at; rawQuery the request's query, whose parameters the links keep.
func (p pageQuery) window(total int, base, rawQuery string) (start, end int, link string) {
	last := max(1, (total+p.perPage-1)/p.perPage)
	start = min((p.page-1)*p.perPage, total)
	end = min(start+p.perPage, total)
	var links []string
	at := func(page int, rel string) {
		links = append(links, fmt.Sprintf("<%s?%s>; rel=%q", base, withPage(rawQuery, page), rel))
	}
	if p.page > 1 {
		at(p.page-1, "prev")
	}
	if p.page < last {
		at(p.page+1, "next")
		at(last, "last")
	}
	if p.page > 1 {
		at(1, "first")
	}
	return start, end, strings.Join(links, ", ")
}

// withPage keeps the query's parameters in their order, drops page, and
// appends the new page, as GitHub's links do ("per_page=3&page=2"). Values
// are re-escaped so that no comma splits a link (go-github splits on them).
func withPage(rawQuery string, page int) string {
	var parts []string
	for _, kv := range strings.Split(rawQuery, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil || k == "page" {
			continue
		}
		parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
	}
	return strings.Join(append(parts, "page="+strconv.Itoa(page)), "&")
}

// paged answers one page of items with its Link header.
func paged[T any](rc *reqCtx, items []T, base string) *response {
	p := readPage(rc.r.URL.Query())
	start, end, link := p.window(len(items), base, rc.r.URL.RawQuery)
	resp := jsonResponse(http.StatusOK, append([]T{}, items[start:end]...))
	if link != "" {
		resp.header.Set("Link", link)
	}
	return resp
}

// parseSince reads an ISO 8601 timestamp (or date) as GitHub accepts it.
func parseSince(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (s *Server) listIssues(rc *reqCtx, r *repo) *response {
	const op = OpListIssues
	q := rc.r.URL.Query()
	state := q.Get("state")
	switch state {
	case "":
		state = "open"
	case "open", "closed", "all":
	default:
		return validationFailed(op, fieldError{Resource: "Issue", Code: "invalid", Field: "state", Value: state})
	}
	sortBy := q.Get("sort")
	switch sortBy {
	case "":
		sortBy = "created"
	case "created", "updated", "comments":
	default:
		return validationFailed(op, fieldError{Resource: "Issue", Code: "invalid", Field: "sort", Value: sortBy})
	}
	dir := q.Get("direction")
	switch dir {
	case "":
		dir = "desc"
	case "asc", "desc":
	default:
		return validationFailed(op, fieldError{Resource: "Issue", Code: "invalid", Field: "direction", Value: dir})
	}
	var since time.Time
	if v := q.Get("since"); v != "" {
		t, ok := parseSince(v)
		if !ok {
			return validationFailed(op, fieldError{Resource: "Issue", Code: "invalid", Field: "since", Value: v})
		}
		since = t
	}
	var wantLabels []string
	for _, l := range strings.Split(q.Get("labels"), ",") {
		if l = strings.TrimSpace(l); l != "" {
			wantLabels = append(wantLabels, strings.ToLower(l))
		}
	}
	var out []*issue
	for _, is := range r.issues {
		if is.deleted || (state != "all" && is.state != state) || is.updatedAt.Before(since) {
			continue
		}
		if !hasLabels(is, wantLabels) || !matchesPeople(is, q) {
			continue
		}
		out = append(out, is)
	}
	slices.SortStableFunc(out, func(a, b *issue) int {
		var c int
		switch sortBy {
		case "updated":
			c = a.updatedAt.Compare(b.updatedAt)
		case "comments":
			c = len(a.comments) - len(b.comments)
		default:
			c = a.createdAt.Compare(b.createdAt)
		}
		if c == 0 {
			c = a.number - b.number
		}
		if dir == "desc" {
			c = -c
		}
		return c
	})
	items := make([]issueJSON, 0, len(out))
	b := rc.bases()
	for _, is := range out {
		items = append(items, b.issue(is, false))
	}
	return paged(rc, items, fmt.Sprintf("%s/repositories/%d/issues", rc.api, r.id))
}

func hasLabels(is *issue, want []string) bool {
	for _, w := range want {
		if !slices.ContainsFunc(is.labels, func(l *label) bool { return strings.ToLower(l.name) == w }) {
			return false
		}
	}
	return true
}

// matchesPeople applies creator, assignee, mentioned, milestone and type.
// The fake has no milestones or issue types: "none" (or nothing) matches
// every issue, any other value none.
func matchesPeople(is *issue, q url.Values) bool {
	if c := q.Get("creator"); c != "" && !strings.EqualFold(c, is.author.login) {
		return false
	}
	switch a := q.Get("assignee"); a {
	case "":
	case "none":
		if len(is.assignees) > 0 {
			return false
		}
	case "*":
		if len(is.assignees) == 0 {
			return false
		}
	default:
		if !slices.ContainsFunc(is.assignees, func(u *user) bool { return strings.EqualFold(u.login, a) }) {
			return false
		}
	}
	if m := q.Get("mentioned"); m != "" {
		text := is.title
		if is.body != nil {
			text += "\n" + *is.body
		}
		for _, c := range is.comments {
			text += "\n" + c.body
		}
		if !strings.Contains(strings.ToLower(text), "@"+strings.ToLower(m)) {
			return false
		}
	}
	for _, name := range []string{"milestone", "type"} {
		if v := q.Get(name); v != "" && v != "none" {
			return false
		}
	}
	return true
}

func (s *Server) listComments(rc *reqCtx, is *issue) *response {
	var since time.Time
	if v := rc.r.URL.Query().Get("since"); v != "" {
		t, ok := parseSince(v)
		if !ok {
			return validationFailed(OpListComments, fieldError{Resource: "IssueComment", Code: "invalid", Field: "since", Value: v})
		}
		since = t
	}
	items := []commentJSON{}
	b := rc.bases()
	for _, c := range is.comments {
		if !c.updatedAt.Before(since) {
			items = append(items, b.comment(c))
		}
	}
	return paged(rc, items, fmt.Sprintf("%s/repositories/%d/issues/%d/comments", rc.api, is.repo.id, is.number))
}

func (s *Server) createComment(rc *reqCtx, is *issue) *response {
	const op = OpCreateComment
	f, resp := decodeObject(op, rc.body, false)
	if resp != nil {
		return resp
	}
	if !f.has("body") {
		return invalidRequest(op, `"body" wasn't supplied.`)
	}
	body, resp := f.str(op, "body", false)
	if resp != nil {
		return resp
	}
	if strings.TrimSpace(*body) == "" {
		return validationFailed(op, fieldError{Resource: "IssueComment", Code: "missing_field", Field: "body"})
	}
	if resp := checkText(op, "IssueComment", "body", *body, maxBodyChars); resp != nil {
		return resp
	}
	s.store.nextComm++
	now := rc.now.UTC().Truncate(time.Second)
	c := &comment{id: s.store.nextComm, issue: is, author: rc.user, body: *body, createdAt: now, updatedAt: now}
	is.comments = append(is.comments, c)
	is.touch(rc.now, s.opts.SearchLag)
	out := rc.bases().comment(c)
	resp = jsonResponse(http.StatusCreated, out)
	resp.header.Set("Location", out.URL)
	return resp
}

func (s *Server) issueLabels(rc *reqCtx, is *issue) []labelJSON {
	out := []labelJSON{}
	b := rc.bases()
	for _, l := range is.labels {
		out = append(out, b.label(is.repo, l))
	}
	return out
}

func (s *Server) listLabels(rc *reqCtx, is *issue) *response {
	return paged(rc, s.issueLabels(rc, is), fmt.Sprintf("%s/repositories/%d/issues/%d/labels", rc.api, is.repo.id, is.number))
}

func (s *Server) addLabels(rc *reqCtx, is *issue) *response {
	const op = OpAddLabels
	var raw any
	if err := json.Unmarshal(rc.body, &raw); err != nil {
		return badJSON(op)
	}
	var list json.RawMessage
	switch raw.(type) {
	case []any:
		list = rc.body
	case map[string]any:
		var f fields
		_ = json.Unmarshal(rc.body, &f)
		v, ok := f["labels"]
		if !ok {
			return invalidRequest(op, `"labels" wasn't supplied.`)
		}
		list = v
	default:
		return invalidRequest(op, fmt.Sprintf("For 'links/0/schema', %s is not an object or an array.", compact(rc.body)))
	}
	labels, resp := names(op, "labels", list)
	if resp != nil {
		return resp
	}
	if resp := checkLabels(op, labels); resp != nil {
		return resp
	}
	if s.store.addLabels(is, labels) {
		is.touch(rc.now, s.opts.SearchLag)
	}
	return jsonResponse(http.StatusOK, s.issueLabels(rc, is))
}
