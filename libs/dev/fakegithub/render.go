package fakegithub

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// The JSON shapes below follow GitHub's answers field by field (the
// recorded octokit fixtures), in GitHub's order. Webhook payloads use the
// same shapes; their schemas allow no field GitHub's REST answers have
// beyond those.

// bases are the roots URLs are built from: the API root (with /api/v3 when
// the request used it) and the web root for html_url.
type bases struct{ api, web string }

type userJSON struct {
	Login             string `json:"login"`
	ID                int64  `json:"id"`
	NodeID            string `json:"node_id"`
	AvatarURL         string `json:"avatar_url"`
	GravatarID        string `json:"gravatar_id"`
	URL               string `json:"url"`
	HTMLURL           string `json:"html_url"`
	FollowersURL      string `json:"followers_url"`
	FollowingURL      string `json:"following_url"`
	GistsURL          string `json:"gists_url"`
	StarredURL        string `json:"starred_url"`
	SubscriptionsURL  string `json:"subscriptions_url"`
	OrganizationsURL  string `json:"organizations_url"`
	ReposURL          string `json:"repos_url"`
	EventsURL         string `json:"events_url"`
	ReceivedEventsURL string `json:"received_events_url"`
	Type              string `json:"type"`
	SiteAdmin         bool   `json:"site_admin"`
}

type labelJSON struct {
	ID          int64   `json:"id"`
	NodeID      string  `json:"node_id"`
	URL         string  `json:"url"`
	Name        string  `json:"name"`
	Color       string  `json:"color"`
	Default     bool    `json:"default"`
	Description *string `json:"description"`
}

type reactionsJSON struct {
	URL        string `json:"url"`
	TotalCount int    `json:"total_count"`
	PlusOne    int    `json:"+1"`
	MinusOne   int    `json:"-1"`
	Laugh      int    `json:"laugh"`
	Hooray     int    `json:"hooray"`
	Confused   int    `json:"confused"`
	Heart      int    `json:"heart"`
	Rocket     int    `json:"rocket"`
	Eyes       int    `json:"eyes"`
}

type issueJSON struct {
	URL               string      `json:"url"`
	RepositoryURL     string      `json:"repository_url"`
	LabelsURL         string      `json:"labels_url"`
	CommentsURL       string      `json:"comments_url"`
	EventsURL         string      `json:"events_url"`
	HTMLURL           string      `json:"html_url"`
	ID                int64       `json:"id"`
	NodeID            string      `json:"node_id"`
	Number            int         `json:"number"`
	Title             string      `json:"title"`
	User              userJSON    `json:"user"`
	Labels            []labelJSON `json:"labels"`
	State             string      `json:"state"`
	Locked            bool        `json:"locked"`
	Assignee          *userJSON   `json:"assignee"`
	Assignees         []userJSON  `json:"assignees"`
	Milestone         *struct{}   `json:"milestone"` // the fake has no milestones
	Comments          int         `json:"comments"`
	CreatedAt         string      `json:"created_at"`
	UpdatedAt         string      `json:"updated_at"`
	ClosedAt          *string     `json:"closed_at"`
	AuthorAssociation string      `json:"author_association"`
	ActiveLockReason  *string     `json:"active_lock_reason"`
	Body              *string     `json:"body"`
	*singleIssueFields
	Reactions             reactionsJSON `json:"reactions"`
	TimelineURL           string        `json:"timeline_url"`
	PerformedViaGitHubApp *struct{}     `json:"performed_via_github_app"`
	StateReason           *string       `json:"state_reason"`
	// Score is set on search results only.
	Score *float64 `json:"score,omitempty"`
}

// singleIssueFields are in answers about one issue (get, create, update)
// but not in lists, search results or webhook payloads, as recorded; a nil
// embedded pointer leaves them out.
type singleIssueFields struct {
	ClosedBy *userJSON `json:"closed_by"`
}

type commentJSON struct {
	URL                   string        `json:"url"`
	HTMLURL               string        `json:"html_url"`
	IssueURL              string        `json:"issue_url"`
	ID                    int64         `json:"id"`
	NodeID                string        `json:"node_id"`
	User                  userJSON      `json:"user"`
	CreatedAt             string        `json:"created_at"`
	UpdatedAt             string        `json:"updated_at"`
	AuthorAssociation     string        `json:"author_association"`
	Body                  string        `json:"body"`
	Reactions             reactionsJSON `json:"reactions"`
	PerformedViaGitHubApp *struct{}     `json:"performed_via_github_app"`
}

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// nodeID imitates GitHub's opaque global ids: a type prefix and base64.
func nodeID(prefix string, id int64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(id))
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

func (b bases) user(u *user) userJSON {
	api := b.api + "/users/" + u.login
	return userJSON{
		Login: u.login, ID: u.id, NodeID: nodeID("U_kgDO", u.id),
		AvatarURL:    fmt.Sprintf("%s/avatars/u/%d?v=4", b.web, u.id),
		GravatarID:   "",
		URL:          api,
		HTMLURL:      b.web + "/" + u.login,
		FollowersURL: api + "/followers", FollowingURL: api + "/following{/other_user}",
		GistsURL: api + "/gists{/gist_id}", StarredURL: api + "/starred{/owner}{/repo}",
		SubscriptionsURL: api + "/subscriptions", OrganizationsURL: api + "/orgs",
		ReposURL: api + "/repos", EventsURL: api + "/events{/privacy}",
		ReceivedEventsURL: api + "/received_events",
		Type:              "User",
	}
}

func (b bases) repoAPI(r *repo) string { return b.api + "/repos/" + r.fullName() }

func (b bases) label(r *repo, l *label) labelJSON {
	return labelJSON{ID: l.id, NodeID: nodeID("LA_kwDO", l.id),
		URL: b.repoAPI(r) + "/labels/" + url.PathEscape(l.name), Name: l.name, Color: l.color}
}

func (b bases) issueAPI(is *issue) string {
	return fmt.Sprintf("%s/issues/%d", b.repoAPI(is.repo), is.number)
}

func (b bases) issueHTML(is *issue) string {
	return fmt.Sprintf("%s/%s/issues/%d", b.web, is.repo.fullName(), is.number)
}

// association is how GitHub would relate u to the repository: the fake
// treats everyone who is not the owner as a member.
func association(r *repo, u *user) string {
	if strings.EqualFold(r.owner, u.login) {
		return "OWNER"
	}
	return "MEMBER"
}

// issue renders an issue; single adds what only answers about one issue have.
func (b bases) issue(is *issue, single bool) issueJSON {
	api := b.issueAPI(is)
	out := issueJSON{
		URL: api, RepositoryURL: b.repoAPI(is.repo), LabelsURL: api + "/labels{/name}",
		CommentsURL: api + "/comments", EventsURL: api + "/events", HTMLURL: b.issueHTML(is),
		ID: is.id, NodeID: nodeID("I_kwDO", is.id), Number: is.number, Title: is.title,
		User: b.user(is.author), Labels: []labelJSON{}, State: is.state, Assignees: []userJSON{},
		Comments: len(is.comments), CreatedAt: timestamp(is.createdAt), UpdatedAt: timestamp(is.updatedAt),
		AuthorAssociation: association(is.repo, is.author), Body: is.body,
		Reactions:   b.reactions(api),
		TimelineURL: api + "/timeline",
	}
	for _, l := range is.labels {
		out.Labels = append(out.Labels, b.label(is.repo, l))
	}
	for i, a := range is.assignees {
		u := b.user(a)
		if i == 0 {
			out.Assignee = &u
		}
		out.Assignees = append(out.Assignees, u)
	}
	if !is.closedAt.IsZero() {
		ts := timestamp(is.closedAt)
		out.ClosedAt = &ts
	}
	if is.stateReason != "" {
		reason := is.stateReason
		out.StateReason = &reason
	}
	if single {
		out.singleIssueFields = &singleIssueFields{}
		if is.closedBy != nil {
			u := b.user(is.closedBy)
			out.ClosedBy = &u
		}
	}
	return out
}

func (b bases) reactions(subject string) reactionsJSON {
	return reactionsJSON{URL: subject + "/reactions"}
}

func (b bases) comment(c *comment) commentJSON {
	is := c.issue
	api := fmt.Sprintf("%s/issues/comments/%d", b.repoAPI(is.repo), c.id)
	return commentJSON{
		URL: api, HTMLURL: fmt.Sprintf("%s#issuecomment-%d", b.issueHTML(is), c.id),
		IssueURL: b.issueAPI(is), ID: c.id, NodeID: nodeID("IC_kwDO", c.id), User: b.user(c.author),
		CreatedAt: timestamp(c.createdAt), UpdatedAt: timestamp(c.updatedAt),
		AuthorAssociation: association(is.repo, c.author), Body: c.body, Reactions: b.reactions(api),
	}
}

// repository renders the repository as webhook payloads carry it: every
// field the payload schema requires.
func (b bases) repository(r *repo) map[string]any {
	api := b.repoAPI(r)
	html := b.web + "/" + r.fullName()
	created := timestamp(r.createdAt)
	host := strings.TrimPrefix(strings.TrimPrefix(b.web, "https://"), "http://")
	open := 0
	for _, is := range r.issues {
		if is.state == "open" && !is.deleted {
			open++
		}
	}
	return map[string]any{
		"id": r.id, "node_id": nodeID("R_kgDO", r.id), "name": r.name, "full_name": r.fullName(),
		"private": false, "owner": b.user(r.ownerUser), "html_url": html, "description": nil,
		"fork": false, "url": api,
		"forks_url":         api + "/forks",
		"keys_url":          api + "/keys{/key_id}",
		"collaborators_url": api + "/collaborators{/collaborator}",
		"teams_url":         api + "/teams",
		"hooks_url":         api + "/hooks",
		"issue_events_url":  api + "/issues/events{/number}",
		"events_url":        api + "/events",
		"assignees_url":     api + "/assignees{/user}",
		"branches_url":      api + "/branches{/branch}",
		"tags_url":          api + "/tags",
		"blobs_url":         api + "/git/blobs{/sha}",
		"git_tags_url":      api + "/git/tags{/sha}",
		"git_refs_url":      api + "/git/refs{/sha}",
		"trees_url":         api + "/git/trees{/sha}",
		"statuses_url":      api + "/statuses/{sha}",
		"languages_url":     api + "/languages",
		"stargazers_url":    api + "/stargazers",
		"contributors_url":  api + "/contributors",
		"subscribers_url":   api + "/subscribers",
		"subscription_url":  api + "/subscription",
		"commits_url":       api + "/commits{/sha}",
		"git_commits_url":   api + "/git/commits{/sha}",
		"comments_url":      api + "/comments{/number}",
		"issue_comment_url": api + "/issues/comments{/number}",
		"contents_url":      api + "/contents/{+path}",
		"compare_url":       api + "/compare/{base}...{head}",
		"merges_url":        api + "/merges",
		"archive_url":       api + "/{archive_format}{/ref}",
		"downloads_url":     api + "/downloads",
		"issues_url":        api + "/issues{/number}",
		"pulls_url":         api + "/pulls{/number}",
		"milestones_url":    api + "/milestones{/number}",
		"notifications_url": api + "/notifications{?since,all,participating}",
		"labels_url":        api + "/labels{/name}",
		"releases_url":      api + "/releases{/id}",
		"deployments_url":   api + "/deployments",
		"created_at":        created, "updated_at": created, "pushed_at": created,
		"git_url":   "git://" + host + "/" + r.fullName() + ".git",
		"ssh_url":   "git@" + host + ":" + r.fullName() + ".git",
		"clone_url": html + ".git", "svn_url": html, "homepage": nil, "size": 0,
		"stargazers_count": 0, "watchers_count": 0, "language": nil,
		"has_issues": !r.issuesDisabled, "has_projects": true, "has_downloads": true, "has_wiki": true,
		"has_pages": false, "forks_count": 0, "mirror_url": nil, "archived": false, "disabled": false,
		"open_issues_count": open, "license": nil, "forks": 0, "open_issues": open, "watchers": 0,
		"default_branch": "main", "is_template": false, "web_commit_signoff_required": false,
		"topics": []string{}, "visibility": "public", "custom_properties": map[string]any{},
	}
}
