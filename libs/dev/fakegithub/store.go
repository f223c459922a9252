package fakegithub

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// store holds repositories, issues and users; Server.mu guards it.
type store struct {
	repos     map[string]*repo // by lower-case "owner/name"
	repoByID  map[int64]*repo
	repoOrder []*repo
	users     map[string]*user // by lower-case login
	nextRepo  int64
	nextIssue int64
	nextLabel int64
	nextComm  int64
	nextUser  int64
}

type user struct {
	login string
	id    int64
}

type repo struct {
	id             int64
	owner, name    string
	ownerUser      *user
	createdAt      time.Time
	issuesDisabled bool
	issues         []*issue // issues[n-1] is number n
	labels         map[string]*label
}

type label struct {
	id    int64
	name  string
	color string
}

type issue struct {
	repo        *repo
	number      int
	id          int64
	title       string
	body        *string
	state       string // "open" or "closed"
	stateReason string // "" for null
	labels      []*label
	assignees   []*user
	author      *user
	comments    []*comment
	createdAt   time.Time
	updatedAt   time.Time
	closedAt    time.Time
	closedBy    *user
	deleted     bool
	// indexed holds what search sees: versions of the issue, each visible
	// from its time on, so search lags behind changes as GitHub's does.
	indexed []indexedVersion
}

type comment struct {
	id        int64
	issue     *issue
	author    *user
	body      string
	createdAt time.Time
	updatedAt time.Time
}

type indexedVersion struct {
	visible time.Time
	snap    *issue
}

func newStore() store {
	return store{
		repos:     map[string]*repo{},
		repoByID:  map[int64]*repo{},
		users:     map[string]*user{},
		nextRepo:  700000000,
		nextIssue: 2100000000,
		nextLabel: 5100000000,
		nextComm:  1900000000,
		nextUser:  9100000,
	}
}

// user returns the user with login, creating it on first sight.
func (st *store) user(login string) *user {
	key := strings.ToLower(login)
	if u, ok := st.users[key]; ok {
		return u
	}
	st.nextUser++
	u := &user{login: login, id: st.nextUser}
	st.users[key] = u
	return u
}

func (st *store) createRepo(owner, name string, now time.Time) *repo {
	key := strings.ToLower(owner + "/" + name)
	if r, ok := st.repos[key]; ok {
		return r
	}
	st.nextRepo++
	r := &repo{id: st.nextRepo, owner: owner, name: name, ownerUser: st.user(owner),
		createdAt: now.UTC().Truncate(time.Second), labels: map[string]*label{}}
	st.repos[key] = r
	st.repoByID[r.id] = r
	st.repoOrder = append(st.repoOrder, r)
	return r
}

func (st *store) repo(owner, name string) *repo {
	return st.repos[strings.ToLower(owner+"/"+name)]
}

func (r *repo) fullName() string { return r.owner + "/" + r.name }

func (r *repo) issue(n int) *issue {
	if n < 1 || n > len(r.issues) {
		return nil
	}
	return r.issues[n-1]
}

// label returns the repository's label called name (GitHub compares names
// without case), creating it with GitHub's default colour if needed.
func (st *store) label(r *repo, name string) *label {
	key := strings.ToLower(name)
	if l, ok := r.labels[key]; ok {
		return l
	}
	st.nextLabel++
	l := &label{id: st.nextLabel, name: name, color: "ededed"}
	r.labels[key] = l
	return l
}

// addLabels adds names to the issue's labels; it reports whether any was new.
func (st *store) addLabels(is *issue, names []string) bool {
	changed := false
	for _, n := range names {
		l := st.label(is.repo, n)
		if !slices.Contains(is.labels, l) {
			is.labels = append(is.labels, l)
			changed = true
		}
	}
	// GitHub lists an issue's labels in the order the labels were created.
	slices.SortFunc(is.labels, func(a, b *label) int { return cmp.Compare(a.id, b.id) })
	return changed
}

func (st *store) createIssue(r *repo, author *user, title string, body *string, labels []string, assignees []*user, now time.Time, lag time.Duration) *issue {
	st.nextIssue++
	at := now.UTC().Truncate(time.Second) // GitHub's timestamps have whole seconds
	is := &issue{repo: r, number: len(r.issues) + 1, id: st.nextIssue, title: title, body: body,
		state: "open", author: author, assignees: assignees, createdAt: at, updatedAt: at}
	st.addLabels(is, labels)
	r.issues = append(r.issues, is)
	is.reindex(now, lag)
	return is
}

// setState opens or closes an issue; it reports whether the state changed.
func (is *issue) setState(state, reason string, by *user, now time.Time) bool {
	now = now.UTC().Truncate(time.Second)
	if state == is.state {
		// The reason is ignored unless the state changes, as documented.
		return false
	}
	is.state = state
	if state == "closed" {
		if reason == "" {
			reason = "completed"
		}
		is.stateReason, is.closedAt, is.closedBy = reason, now, by
	} else {
		// closed_at and closed_by keep the last close, as GitHub's recorded
		// "reopened" delivery shows.
		is.stateReason = "reopened"
	}
	return true
}

// touch marks a change and queues the new version for search.
func (is *issue) touch(now time.Time, lag time.Duration) {
	is.updatedAt = now.UTC().Truncate(time.Second)
	is.reindex(now, lag)
}

func (is *issue) reindex(now time.Time, lag time.Duration) {
	is.searchable(now) // drops versions nobody will see again
	snap := *is
	snap.labels = slices.Clone(is.labels)
	snap.assignees = slices.Clone(is.assignees)
	snap.comments = slices.Clone(is.comments)
	snap.indexed = nil
	is.indexed = append(is.indexed, indexedVersion{visible: now.Add(lag), snap: &snap})
}

// searchable is the version of the issue search sees at now, or nil.
func (is *issue) searchable(now time.Time) *issue {
	var cur *issue
	keep := 0
	for i, v := range is.indexed {
		if !v.visible.After(now) {
			cur, keep = v.snap, i
		}
	}
	// Versions older than the visible one are never seen again.
	is.indexed = is.indexed[keep:]
	return cur
}

// Issue is an issue as the fake holds it (a copy).
type Issue struct {
	Owner, Repo string
	Number      int
	ID          int64
	Title       string
	Body        string // "" also when GitHub would say null
	State       string // "open" or "closed"
	StateReason string // "completed", "not_planned", "duplicate", "reopened" or ""
	Labels      []string
	Assignees   []string
	Author      string
	Comments    []Comment
	CreatedAt   time.Time
	UpdatedAt   time.Time
	ClosedAt    time.Time // the last close; zero if never closed
	ClosedBy    string
	Deleted     bool
}

// Comment is an issue comment.
type Comment struct {
	ID        int64
	Author    string
	Body      string
	CreatedAt time.Time
}

func (is *issue) export() Issue {
	out := Issue{Owner: is.repo.owner, Repo: is.repo.name, Number: is.number, ID: is.id, Title: is.title,
		State: is.state, StateReason: is.stateReason, Author: is.author.login, CreatedAt: is.createdAt,
		UpdatedAt: is.updatedAt, ClosedAt: is.closedAt, Deleted: is.deleted}
	if is.body != nil {
		out.Body = *is.body
	}
	for _, l := range is.labels {
		out.Labels = append(out.Labels, l.name)
	}
	for _, a := range is.assignees {
		out.Assignees = append(out.Assignees, a.login)
	}
	for _, c := range is.comments {
		out.Comments = append(out.Comments, Comment{ID: c.id, Author: c.author.login, Body: c.body, CreatedAt: c.createdAt})
	}
	if is.closedBy != nil {
		out.ClosedBy = is.closedBy.login
	}
	return out
}

// ErrNotFound is returned (wrapped) when a repository or issue does not exist.
var ErrNotFound = errors.New("not found")

// CreateRepo makes a repository exist (it is not an error if it does).
func (s *Server) CreateRepo(owner, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store.createRepo(owner, name, s.now())
}

// DisableIssues turns a repository's issues off, as its settings can on
// GitHub: its issue endpoints answer 410 Gone from then on.
func (s *Server) DisableIssues(owner, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.store.repo(owner, name)
	if r == nil {
		return fmt.Errorf("disable issues of %s/%s: %w", owner, name, ErrNotFound)
	}
	r.issuesDisabled = true
	return nil
}

// Repos lists the repositories as "owner/name", in creation order.
func (s *Server) Repos() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.store.repoOrder))
	for _, r := range s.store.repoOrder {
		out = append(out, r.fullName())
	}
	return out
}

// Issues returns the repository's issues by number, deleted ones included;
// nil when the repository does not exist.
func (s *Server) Issues(owner, repo string) []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.store.repo(owner, repo)
	if r == nil {
		return nil
	}
	out := make([]Issue, 0, len(r.issues))
	for _, is := range r.issues {
		out = append(out, is.export())
	}
	return out
}

// Issue returns one issue.
func (s *Server) Issue(owner, repo string, number int) (Issue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is, err := s.findIssue(owner, repo, number)
	if err != nil {
		return Issue{}, err
	}
	return is.export(), nil
}

func (s *Server) findIssue(owner, repo string, number int) (*issue, error) {
	r := s.store.repo(owner, repo)
	if r == nil {
		return nil, fmt.Errorf("repository %s/%s: %w", owner, repo, ErrNotFound)
	}
	is := r.issue(number)
	if is == nil {
		return nil, fmt.Errorf("issue %s/%s#%d: %w", owner, repo, number, ErrNotFound)
	}
	return is, nil
}

// CreateIssue files an issue as the developer would on github.com (no
// API call is recorded or counted). The repository is created if needed.
func (s *Server) CreateIssue(owner, repo, title, body string, labels ...string) (Issue, error) {
	if strings.TrimSpace(title) == "" {
		return Issue{}, errors.New("create issue: empty title")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	r := s.store.createRepo(owner, repo, now)
	is := s.store.createIssue(r, s.store.user(s.opts.Developer), title, &body, labels, nil, now, s.opts.SearchLag)
	return is.export(), nil
}

// CloseIssue closes an issue as the developer would on github.com (reason
// "completed" when empty) and, if its state changed, sends the "closed"
// webhook in the background.
func (s *Server) CloseIssue(owner, repo string, number int, reason string) error {
	return s.setStateAsDeveloper(owner, repo, number, "closed", reason)
}

// ReopenIssue reopens an issue as the developer would, sending the
// "reopened" webhook if its state changed.
func (s *Server) ReopenIssue(owner, repo string, number int) error {
	return s.setStateAsDeveloper(owner, repo, number, "open", "")
}

func (s *Server) setStateAsDeveloper(owner, repo string, number int, state, reason string) error {
	switch reason {
	case "", "completed", "not_planned", "duplicate":
	default:
		return fmt.Errorf("set state of %s/%s#%d: unknown state reason %q", owner, repo, number, reason)
	}
	s.mu.Lock()
	is, err := s.findIssue(owner, repo, number)
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("set state: %w", err)
	}
	if is.deleted {
		s.mu.Unlock()
		return fmt.Errorf("set state of %s/%s#%d: the issue was deleted", owner, repo, number)
	}
	now := s.now()
	changed := is.setState(state, reason, s.store.user(s.opts.Developer), now)
	var ev *hookEvent
	if changed {
		is.touch(now, s.opts.SearchLag)
		ev = s.issueEventLocked(is, s.store.user(s.opts.Developer))
	}
	s.mu.Unlock()
	if ev != nil {
		s.deliverAsync(ev)
	}
	return nil
}

// DeleteIssue deletes an issue as a repository admin can: it answers 410
// Gone from then on and leaves search.
func (s *Server) DeleteIssue(owner, repo string, number int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	is, err := s.findIssue(owner, repo, number)
	if err != nil {
		return fmt.Errorf("delete issue: %w", err)
	}
	is.deleted = true
	is.indexed = nil
	return nil
}
