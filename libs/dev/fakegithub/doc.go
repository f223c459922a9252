// Package fakegithub is a fake GitHub REST API for tests, the local run
// and benchmarks: the issues subset the bug filer uses (go-github v60),
// answering as api.github.com does (statuses, headers, error bodies,
// pagination, rate limits, webhooks), checked against GitHub's published
// description and recorded answers by the ghcontract sub-package.
//
// Use it in process:
//
//	s, _ := fakegithub.New(fakegithub.Options{Repos: []string{"octo-org/pos"}})
//	base, _ := s.Start("127.0.0.1:0")
//	defer s.Close()
//	gh, _ := github.NewClient(nil).WithAuthToken(fakegithub.DefaultToken).WithEnterpriseURLs(base, base)
//
// or as an http.Handler (httptest.NewServer(s); Close it as well, for the
// webhook deliveries). The API is served both at GitHub's plain paths and
// under GitHub Enterprise's /api/v3/ prefix; ListenAndServe serves until a
// context ends, for a command.
//
// # Endpoints
//
// Named by their operationId (Op* constants; Calls and faults use them):
// GET /rate_limit; GET and POST /repos/{owner}/{repo}/issues (list with
// state, labels, sort, direction, since, creator, assignee, mentioned,
// milestone, type, per_page, page; create with title, body, labels,
// assignees); GET and PATCH .../issues/{n} (title, body, state,
// state_reason, labels, assignees); GET and POST .../issues/{n}/comments
// (since, pagination); GET and POST .../issues/{n}/labels (the object and
// both array forms); GET /search/issues. The same operations answer at
// /repositories/{id}/..., where GitHub's Link headers point.
//
// Answers: 201 with Location and ETag on creation; ETag on every other 2xx
// but search, and 304 to If-None-Match (not counted, as on GitHub); Link
// headers in GitHub's recorded form (prev, next, last, first; other
// parameters kept); GitHub's error envelope with documentation_url and
// status: 401 "Requires authentication" / "Bad credentials", 404 "Not
// Found" (also for paths and methods it does not implement), 410 for a
// deleted issue or a repository with issues disabled, 400 "Problems
// parsing JSON", 422 "Invalid request." for a body its schema check would
// refuse (title missing, wrong types) and 422 "Validation Failed" with
// errors[] for what model validation refuses (empty title: missing_field;
// title over 256 or body over 65536 characters: custom; unknown assignee,
// any milestone, bad state: invalid). Every answer carries
// X-GitHub-Request-Id, X-RateLimit-Limit/Remaining/Reset/Used/Resource,
// Content-Type application/json; charset=utf-8 and GitHub's other fixed
// headers. Authentication is "token X" or "Bearer X" with a configured
// token; anything else is a 401.
//
// Repositories exist from Options.Repos or CreateRepo; an unknown one is a
// 404 unless Options.AutoCreateRepos. Names compare without case. Labels
// named on an issue are created in the repository (colour ededed), as for
// a user with push access; an issue's labels come in creation order.
//
// # Search
//
// q takes free words and "quoted phrases" (case and punctuation ignored;
// a phrase is consecutive words), repo: (several mean any), is:issue,
// is:pr (never matches: there are no pull requests), is:open, is:closed,
// state:, type:issue, in:title,body,comments (default all three), label:
// and -label:, no:label, author: and -author:, and AND. OR, NOT and the
// other qualifiers GitHub knows (created:, user:, ...) are refused with a
// 422 naming them, rather than answered wrongly. A repo: that does not
// exist gets GitHub's 422. Results lag behind the issues as GitHub's index
// does: each change becomes searchable Options.SearchLag later (1.5 s by
// default), so a new issue is not found at once and a closed one is found
// open for a while; the list endpoint is current. Every hit scores 1;
// sort (created, updated, comments) and order apply; only the first 1000
// results are served, as on GitHub.
//
// # Limits
//
// Primary: each user's "core" requests count in an hourly window
// (Options.PrimaryLimit, 5000), search in a per-minute one
// (Options.SearchLimit, 30); over it, 403 "API rate limit exceeded for
// user ID ..." with X-RateLimit-Remaining 0. GET /rate_limit is free.
// Unauthenticated answers show GitHub's 60 (core). Secondary: creating an
// issue or a comment counts as content creation, capped per user at
// Options.ContentPerMinute (80) and ContentPerHour (500) in sliding
// windows; over them, 403 (or Options.SecondaryStatus 429) "You have
// exceeded a secondary rate limit..." with Retry-After until a slot frees.
// go-github v60 reports these as *RateLimitError and *AbuseRateLimitError
// (a 429 only as *ErrorResponse). Tests use a small limit and Options.Now.
//
// # Faults
//
// InjectFault (and POST /_fake/faults for a running demo) adds: a forced
// secondary limit for a duration (Retry-After counts down to its end); the
// primary limit exhausted until a time; 500/502/503/504; latency; a
// dropped connection (nothing done, no answer); and a lost response (the
// request is done, an issue IS created, then the connection is dropped),
// for the next Count requests, a Fraction of them chosen by a generator
// seeded with Options.Seed, some Endpoints only, For a duration:
//
//	POST   /_fake/faults {"kind":"lose_response","endpoints":["issues/create"],"fraction":0.3}
//	POST   /_fake/faults [{"kind":"secondary_limit","for":"2m"},{"kind":"latency","delay":"300ms"}]
//	GET    /_fake/faults
//	DELETE /_fake/faults
//
// Go's transport retries an idempotent request (GET) once on a reused
// connection that was dropped, so a client may never see a drop fault on
// a GET; it does not retry a POST.
//
// # Recording
//
// Requests returns every API request (method, path, query, headers with
// the Authorization value redacted, body, the status answered, or 0 and a
// note when the connection was dropped); Calls and TotalCalls count them
// per operation (GET /_fake/calls over HTTP), for "API calls per filed bug".
//
// # Webhooks
//
// Options.WebhookURL and WebhookSecret (or SetWebhook, or PUT
// /_fake/webhook) configure one webhook for every repository. When an
// issue's state changes (PATCH, CloseIssue and ReopenIssue from Go, or the
// page's buttons) an "issues" event with action "closed" or "reopened" is
// delivered in the background: the payload follows octokit's schemas
// (issue, repository, sender), with X-GitHub-Event, X-GitHub-Delivery (a
// UUID), X-Hub-Signature-256 and X-Hub-Signature (when there is a secret),
// X-GitHub-Hook-ID, X-GitHub-Hook-Installation-Target-ID/-Type, User-Agent
// GitHub-Hookshot/<hex> and Content-Type application/json. A failed
// delivery is retried (Options.WebhookAttempts, 3, with backoff from
// WebhookBackoff); GitHub itself does not retry, which WebhookAttempts 1
// reproduces. Deliveries records each with its attempts; Redeliver sends
// one again with the same X-GitHub-Delivery and SendIssueEvent sends one
// now, both synchronously. Deliveries are unordered, as GitHub's are.
// Close ends every pending delivery.
//
// # Page
//
// GET /_fake/ lists each repository's issues (number, title, state,
// labels, a link to the JSON) with a button to close or reopen
// each (as Options.Developer, sending the webhook), and the recent
// deliveries; /{owner}/{repo}/issues/{n}, each issue's html_url, shows one
// issue with its body and comments. Text is escaped by html/template;
// forms carry a per-server token.
//
// # Differences from GitHub
//
// Not implemented: pull requests, milestones, issue types, reactions,
// locking, label endpoints of the repository (create, edit, delete),
// setting or removing an issue's labels (PUT/DELETE .../labels), editing
// or deleting comments, issue events and timelines, transfers (301),
// repository endpoints, GraphQL, GitHub Apps, conditional requests by
// If-Modified-Since, media types other than JSON (body_html, body_text),
// and secondary limits other than content creation (concurrency, points,
// CPU time). Every token may use every repository, with push access.
// Webhooks are sent for "closed" and "reopened" only (not "opened",
// "edited", "labeled", ...). Reopening keeps closed_at and closed_by of
// the last close, as GitHub's recorded "reopened" payload shows.
// author_association is OWNER for the repository's owner and MEMBER for
// everyone else. Avatar URLs point at the fake. Webhook payloads use
// Options.BaseURL, else the address Start listens on, else the root of
// the latest API request, for their URLs. The request log keeps the last
// 10000 requests.
package fakegithub
