package fakegithub

import (
	"net/http"
	"strconv"
	"strings"
)

// Operations the fake implements, named by their operationId in GitHub's
// OpenAPI description; Calls and Fault.Endpoints use these names.
const (
	OpGetRateLimit  = "rate-limit/get"
	OpListIssues    = "issues/list-for-repo"
	OpCreateIssue   = "issues/create"
	OpGetIssue      = "issues/get"
	OpUpdateIssue   = "issues/update"
	OpListComments  = "issues/list-comments"
	OpCreateComment = "issues/create-comment"
	OpListLabels    = "issues/list-labels-on-issue"
	OpAddLabels     = "issues/add-labels"
	OpSearchIssues  = "search/issues-and-pull-requests"
	OpUnknown       = "unknown" // a request no implemented operation matches
)

// documentation_url values of errors not tied to one operation.
const (
	docsRoot         = "https://docs.github.com/rest"
	docsRateLimits   = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
	docsPrimaryLimit = docsRateLimits + "#about-the-primary-rate-limits"
	// go-github v60 recognises a secondary limit by this URL's suffix.
	docsSecondaryLimit = docsRateLimits + "#about-secondary-rate-limits"
)

// Operations lists the implemented operations.
func Operations() []string {
	return []string{OpGetRateLimit, OpListIssues, OpCreateIssue, OpGetIssue, OpUpdateIssue,
		OpListComments, OpCreateComment, OpListLabels, OpAddLabels, OpSearchIssues}
}

// docsURL is each operation's documentation page, as GitHub puts it in
// documentation_url of its errors (the description's externalDocs).
var docsURL = map[string]string{
	OpGetRateLimit:  "https://docs.github.com/rest/rate-limit/rate-limit#get-rate-limit-status-for-the-authenticated-user",
	OpListIssues:    "https://docs.github.com/rest/issues/issues#list-repository-issues",
	OpCreateIssue:   "https://docs.github.com/rest/issues/issues#create-an-issue",
	OpGetIssue:      "https://docs.github.com/rest/issues/issues#get-an-issue",
	OpUpdateIssue:   "https://docs.github.com/rest/issues/issues#update-an-issue",
	OpListComments:  "https://docs.github.com/rest/issues/comments#list-issue-comments",
	OpCreateComment: "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
	OpListLabels:    "https://docs.github.com/rest/issues/labels#list-labels-for-an-issue",
	OpAddLabels:     "https://docs.github.com/rest/issues/labels#add-labels-to-an-issue",
	OpSearchIssues:  "https://docs.github.com/rest/search/search#search-issues-and-pull-requests",
}

// DocumentationURL is the documentation page of an operation, as the
// fake's errors name it.
func DocumentationURL(op string) string { return docsURL[op] }

// route is a resolved API request.
type route struct {
	op     string // "" when nothing matched
	owner  string // from /repos/{owner}/{repo}/...
	repo   string
	repoID int64 // from /repositories/{id}/...
	number int   // the issue number, when the path has one
}

func (rt route) opName() string {
	if rt.op == "" {
		return OpUnknown
	}
	return rt.op
}

// resource is the rate-limit resource the operation counts against.
func (rt route) resource() string {
	if rt.op == OpSearchIssues {
		return resourceSearch
	}
	return resourceCore
}

// createsContent reports whether GitHub counts the operation against its
// secondary limit on content creation (the description says so of these two).
func (rt route) createsContent() bool {
	return rt.op == OpCreateIssue || rt.op == OpCreateComment
}

// resolve matches a path (without the /api/v3 prefix) to an operation.
// GitHub answers 404 for a method a path does not support, so a mismatch
// resolves to nothing.
func resolve(method, path string) route {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(segs) == 1 && segs[0] == "rate_limit":
		if method == http.MethodGet {
			return route{op: OpGetRateLimit}
		}
		return route{}
	case len(segs) == 2 && segs[0] == "search" && segs[1] == "issues":
		if method == http.MethodGet {
			return route{op: OpSearchIssues}
		}
		return route{}
	}
	var rt route
	var tail []string
	switch {
	case len(segs) >= 4 && segs[0] == "repos" && segs[1] != "" && segs[2] != "":
		rt.owner, rt.repo, tail = segs[1], segs[2], segs[3:]
	case len(segs) >= 3 && segs[0] == "repositories":
		id, err := strconv.ParseInt(segs[1], 10, 64)
		if err != nil || id <= 0 {
			return route{}
		}
		rt.repoID, tail = id, segs[2:]
	default:
		return route{}
	}
	if tail[0] != "issues" {
		return route{}
	}
	if len(tail) == 1 {
		switch method {
		case http.MethodGet:
			rt.op = OpListIssues
		case http.MethodPost:
			rt.op = OpCreateIssue
		}
		return rt
	}
	n, err := strconv.Atoi(tail[1])
	if err != nil || n <= 0 || len(tail) > 3 {
		return route{}
	}
	rt.number = n
	switch {
	case len(tail) == 2 && method == http.MethodGet:
		rt.op = OpGetIssue
	case len(tail) == 2 && method == http.MethodPatch:
		rt.op = OpUpdateIssue
	case len(tail) == 3 && tail[2] == "comments" && method == http.MethodGet:
		rt.op = OpListComments
	case len(tail) == 3 && tail[2] == "comments" && method == http.MethodPost:
		rt.op = OpCreateComment
	case len(tail) == 3 && tail[2] == "labels" && method == http.MethodGet:
		rt.op = OpListLabels
	case len(tail) == 3 && tail[2] == "labels" && method == http.MethodPost:
		rt.op = OpAddLabels
	}
	return rt
}
