package fakegithub

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode"
)

// searchQuery is a parsed q of GET /search/issues.
type searchQuery struct {
	terms     [][]string // free words and "quoted phrases", each as words
	in        []string   // title, body, comments; empty means all three
	repos     []string   // lower-case owner/name; any of them
	state     string
	pulls     bool // is:pr: the fake has no pull requests
	labels    []string
	notLabels []string
	noLabel   bool
	authors   []string
	notAuthor []string
}

// unsupportedQualifiers are GitHub issue-search qualifiers the fake does
// not implement; a query using one is refused rather than answered wrongly.
var unsupportedQualifiers = map[string]bool{
	"user": true, "org": true, "owner": true, "assignee": true, "mentions": true, "commenter": true,
	"involves": true, "team": true, "milestone": true, "project": true, "created": true,
	"updated": true, "closed": true, "comments": true, "interactions": true, "reactions": true,
	"language": true, "linked": true, "archived": true, "draft": true, "review": true,
	"status": true, "head": true, "base": true, "merged": true, "reason": true, "sort": true,
	"team-review-requested": true, "review-requested": true, "reviewed-by": true, "parent-issue": true,
}

// splitQuery splits q on spaces, keeping "quoted text" (also as a
// qualifier's value: label:"needs triage") together.
func splitQuery(q string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range q {
		switch {
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
		case unicode.IsSpace(r) && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// words lower-cases text and splits it into runs of letters and digits,
// which is how the fake compares text (GitHub ignores punctuation too).
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// parseSearchQuery reads q; the error names what the fake cannot search.
func parseSearchQuery(q string) (searchQuery, error) {
	var sq searchQuery
	for _, tok := range splitQuery(q) {
		switch tok {
		case "AND":
			continue
		case "OR", "NOT":
			return sq, fmt.Errorf("the fake GitHub does not implement %s in search queries", tok)
		}
		neg := strings.HasPrefix(tok, "-") && strings.Contains(tok, ":")
		key, val, isQual := strings.Cut(strings.TrimPrefix(tok, "-"), ":")
		if isQual && !strings.HasPrefix(tok, `"`) && key != "" && isWord(key) {
			val = strings.Trim(val, `"`)
			if err := sq.qualifier(strings.ToLower(key), val, neg); err != nil {
				return sq, err
			}
			continue
		}
		if w := words(strings.Trim(tok, `"`)); len(w) > 0 {
			sq.terms = append(sq.terms, w)
		}
	}
	return sq, nil
}

func isWord(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) && r != '-' && r != '_' {
			return false
		}
	}
	return true
}

func (sq *searchQuery) qualifier(key, val string, neg bool) error {
	if neg && key != "label" && key != "author" {
		return fmt.Errorf("the fake GitHub does not implement -%s: in search queries", key)
	}
	switch key {
	case "repo":
		sq.repos = append(sq.repos, strings.ToLower(val))
	case "is", "type", "state":
		switch strings.ToLower(val) {
		case "issue":
		case "pr", "pull-request":
			sq.pulls = true
		case "open", "closed":
			if key == "type" {
				return fmt.Errorf("type:%s is not a search type", val)
			}
			sq.state = strings.ToLower(val)
		default:
			return fmt.Errorf("the fake GitHub does not implement %s:%s in search queries", key, val)
		}
	case "in":
		for _, f := range strings.Split(strings.ToLower(val), ",") {
			switch f {
			case "title", "body", "comments":
				sq.in = append(sq.in, f)
			default:
				return fmt.Errorf("in:%s is not a field issues can be searched in", f)
			}
		}
	case "label":
		if neg {
			sq.notLabels = append(sq.notLabels, strings.ToLower(val))
		} else {
			sq.labels = append(sq.labels, strings.ToLower(val))
		}
	case "author":
		if neg {
			sq.notAuthor = append(sq.notAuthor, strings.ToLower(val))
		} else {
			sq.authors = append(sq.authors, strings.ToLower(val))
		}
	case "no":
		if strings.ToLower(val) != "label" {
			return fmt.Errorf("the fake GitHub does not implement no:%s in search queries", val)
		}
		sq.noLabel = true
	default:
		if unsupportedQualifiers[key] {
			return fmt.Errorf("the fake GitHub does not implement the search qualifier %s:", key)
		}
		// GitHub reads an unknown key:value as text.
		if w := words(key + ":" + val); len(w) > 0 {
			sq.terms = append(sq.terms, w)
		}
	}
	return nil
}

// containsRun reports whether want occurs as consecutive words of have.
func containsRun(have, want []string) bool {
	for i := 0; i+len(want) <= len(have); i++ {
		if slices.Equal(have[i:i+len(want)], want) {
			return true
		}
	}
	return false
}

// matches tests a (snapshot of an) issue against the query.
func (sq searchQuery) matches(is *issue) bool {
	if sq.pulls || (sq.state != "" && is.state != sq.state) {
		return false
	}
	if len(sq.repos) > 0 && !slices.Contains(sq.repos, strings.ToLower(is.repo.fullName())) {
		return false
	}
	names := make([]string, 0, len(is.labels))
	for _, l := range is.labels {
		names = append(names, strings.ToLower(l.name))
	}
	if sq.noLabel && len(names) > 0 {
		return false
	}
	for _, l := range sq.labels {
		if !slices.Contains(names, l) {
			return false
		}
	}
	for _, l := range sq.notLabels {
		if slices.Contains(names, l) {
			return false
		}
	}
	author := strings.ToLower(is.author.login)
	if len(sq.authors) > 0 && !slices.Contains(sq.authors, author) || slices.Contains(sq.notAuthor, author) {
		return false
	}
	if len(sq.terms) == 0 {
		return true
	}
	in := sq.in
	if len(in) == 0 {
		in = []string{"title", "body", "comments"}
	}
	var fieldsWords [][]string
	for _, f := range in {
		switch f {
		case "title":
			fieldsWords = append(fieldsWords, words(is.title))
		case "body":
			if is.body != nil {
				fieldsWords = append(fieldsWords, words(*is.body))
			}
		case "comments":
			for _, c := range is.comments {
				fieldsWords = append(fieldsWords, words(c.body))
			}
		}
	}
	for _, t := range sq.terms {
		if !slices.ContainsFunc(fieldsWords, func(fw []string) bool { return containsRun(fw, t) }) {
			return false
		}
	}
	return true
}

// searchResult is GitHub's search answer.
type searchResult struct {
	TotalCount        int         `json:"total_count"`
	IncompleteResults bool        `json:"incomplete_results"`
	Items             []issueJSON `json:"items"`
	SearchType        string      `json:"search_type"`
}

const maxSearchResults = 1000

func (s *Server) searchIssues(rc *reqCtx) *response {
	const op = OpSearchIssues
	qv := rc.r.URL.Query()
	q := strings.TrimSpace(qv.Get("q"))
	if q == "" {
		return validationFailed(op, fieldError{Resource: "Search", Field: "q", Code: "missing"})
	}
	sq, err := parseSearchQuery(q)
	if err != nil {
		return validationFailed(op, fieldError{Resource: "Search", Field: "q", Code: "invalid", Message: err.Error()})
	}
	p := readPage(qv)
	if (p.page-1)*p.perPage >= maxSearchResults {
		return errorResponse(http.StatusUnprocessableEntity, "Only the first 1000 search results are available", docsURL[op])
	}
	s.mu.Lock()
	for _, name := range sq.repos {
		owner, repo, _ := strings.Cut(name, "/")
		if s.store.repo(owner, repo) == nil {
			s.mu.Unlock()
			return validationFailed(op, fieldError{Resource: "Search", Field: "q", Code: "invalid",
				Message: "The listed users and repositories cannot be searched either because the resources do not exist or you do not have permission to view them."})
		}
	}
	var hits []*issue
	for _, r := range s.store.repoOrder {
		for _, is := range r.issues {
			if is.deleted {
				continue
			}
			if snap := is.searchable(rc.now); snap != nil && sq.matches(snap) {
				hits = append(hits, snap)
			}
		}
	}
	order := qv.Get("order")
	sortBy := qv.Get("sort")
	slices.SortStableFunc(hits, func(a, b *issue) int {
		var c int
		switch sortBy {
		case "created":
			c = a.createdAt.Compare(b.createdAt)
		case "updated":
			c = a.updatedAt.Compare(b.updatedAt)
		case "comments":
			c = len(a.comments) - len(b.comments)
		}
		if c == 0 {
			// Every hit scores the same; newer issues come first, as in
			// GitHub's recorded answer.
			c = a.createdAt.Compare(b.createdAt)
			if c == 0 {
				c = cmp.Compare(a.id, b.id)
			}
			if sortBy == "" {
				return -c
			}
		}
		if order == "asc" {
			return c
		}
		return -c
	})
	b := rc.bases()
	items := make([]issueJSON, 0, len(hits))
	for _, is := range hits {
		it := b.issue(is, false)
		score := 1.0
		it.Score = &score
		items = append(items, it)
	}
	s.mu.Unlock()
	start, end, link := p.window(min(len(items), maxSearchResults), rc.api+"/search/issues", rc.r.URL.RawQuery)
	resp := jsonResponse(http.StatusOK, searchResult{TotalCount: len(items), Items: items[start:end], SearchType: "lexical"})
	resp.search = true
	if link != "" {
		resp.header.Set("Link", link)
	}
	return resp
}
