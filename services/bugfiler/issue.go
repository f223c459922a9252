package bugfiler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/redact"
)

// marker is the hidden line that carries the fingerprint in the issue's
// body: how a filer finds an issue whose creation it did not see confirmed.
// Customers' text cannot forge it: redact neutralises "<!--" in what it
// passes on.
func marker(fp string) string { return "<!-- triage:fingerprint=" + fp + " -->" }

// batchMarker names one comment's batch of tickets, to find a comment
// whose creation was not confirmed.
func batchMarker(fp string, tickets []string) string {
	ids := slices.Clone(tickets)
	sort.Strings(ids)
	sum := sha256.Sum256([]byte(fp + "\x00" + strings.Join(ids, ",")))
	return "<!-- triage:batch=" + hex.EncodeToString(sum[:8]) + " -->"
}

// clean redacts secrets and personal data, counting what it replaced.
func (s *Service) clean(text string) string {
	out, n := s.redactor.Redact(text)
	for kind, c := range n.ByKind() {
		if c > 0 {
			s.metrics.redactions.WithLabelValues(string(kind)).Add(float64(c))
		}
	}
	return out
}

// prose is text from people for markdown prose: redacted, then unable to
// ping, link, close or embed anything.
func (s *Service) prose(text string) string { return redact.Markdown(s.clean(text)) }

// inline is a short text for a title or a table cell.
func (s *Service) inline(text string) string { return redact.Inline(s.clean(text)) }

// quoted is text shown as it was (customers' words, log lines): redacted,
// in a code block it cannot break out of.
func (s *Service) quoted(text string) string { return redact.CodeBlock(s.clean(text)) }

const (
	maxReports   = 3
	maxReportLen = 1500
	maxExcerpts  = 5
	maxSigs      = 5
	maxTitleLen  = 200
)

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// labels are the issue's labels: bug, severity, component, and the
// component's own label from configuration.
func (s *Service) labels(b events.BugReport) []string {
	out := []string{"bug"}
	if b.Severity != "" {
		out = append(out, "severity:"+strings.ToLower(b.Severity))
	}
	if b.Component != "" {
		out = append(out, "component:"+b.Component)
		if l, ok := s.cfg.GitHub.ComponentLabels[b.Component]; ok {
			out = append(out, l)
		}
	}
	return out
}

// title names the component and the error, not the customer's wording.
func (s *Service) title(b events.BugReport) string {
	t := strings.TrimSpace(b.Title)
	if t == "" {
		t = "[" + b.Component + "] bug " + b.Fingerprint
	}
	return truncate(redact.Plain(s.clean(t)), maxTitleLen)
}

// issueRequest writes the issue: impact, what customers reported, the
// engineer's notes, the error signatures, log excerpts, links, and the
// hidden marker.
func (s *Service) issueRequest(r *bugRecord, tickets []confirmation, in events.BugConfirmed) *github.IssueRequest {
	b := in.Bug
	var w strings.Builder
	// The report may name more tickets than have confirmed so far (an
	// incident's): the impact counts them all.
	ids, tenants := map[string]bool{}, map[string]bool{}
	for _, c := range tickets {
		ids[c.TicketID], tenants[c.Tenant] = true, true
	}
	for _, id := range b.TicketIDs {
		ids[id] = true
	}
	for _, t := range b.Tenants {
		if t != "" {
			tenants[t] = true
		}
	}
	fmt.Fprintf(&w, "## Impact\n\n")
	fmt.Fprintf(&w, "- **Severity:** %s\n", redact.Inline(b.Severity))
	fmt.Fprintf(&w, "- **Component:** %s\n", redact.Inline(b.Component))
	fmt.Fprintf(&w, "- **Tickets:** %d, from %d tenant(s)\n", len(ids), len(tenants))
	fmt.Fprintf(&w, "- **First seen:** %s\n- **Last seen:** %s\n", stamp(b.FirstSeen), stamp(b.LastSeen))
	if len(r.Regressions) > 0 {
		fmt.Fprintf(&w, "- **Regression of** #%d, which was closed as fixed\n", r.Regressions[len(r.Regressions)-1])
	}
	if len(b.Reported) > 0 {
		fmt.Fprintf(&w, "\n## What customers reported\n\n")
		for i, rep := range b.Reported {
			if i == maxReports {
				fmt.Fprintf(&w, "_…and %d more._\n", len(b.Reported)-maxReports)
				break
			}
			fmt.Fprintf(&w, "%s\n", s.quoted(truncate(rep, maxReportLen)))
		}
	}
	if strings.TrimSpace(b.Notes) != "" {
		fmt.Fprintf(&w, "\n## Engineer's notes\n\n%s\n", s.prose(b.Notes))
	}
	if len(b.Signatures) > 0 {
		sigs := slices.Clone(b.Signatures)
		sort.SliceStable(sigs, func(i, j int) bool { return sigs[i].Count > sigs[j].Count })
		fmt.Fprintf(&w, "\n## Error signatures\n\n| count | services | first seen | last seen | template |\n|---:|---|---|---|---|\n")
		for i, sig := range sigs {
			if i == maxSigs {
				break
			}
			fmt.Fprintf(&w, "| %d | %s | %s | %s | %s |\n", sig.Count, s.inline(strings.Join(sig.Services, ", ")),
				stamp(sig.FirstSeen), stamp(sig.LastSeen), strings.ReplaceAll(s.inline(truncate(sig.Template, 300)), "|", "\\|"))
		}
	}
	if len(b.Excerpts) > 0 {
		var lines []string
		for i, e := range b.Excerpts {
			if i == maxExcerpts {
				break
			}
			lines = append(lines, fmt.Sprintf("%s %s %s %s", e.Timestamp.UTC().Format(time.RFC3339), e.Level, e.Service, e.Message))
		}
		fmt.Fprintf(&w, "\n## Log excerpts (redacted)\n\n%s\n", s.quoted(strings.Join(lines, "\n")))
	}
	fmt.Fprintf(&w, "\n## Links\n\n")
	if b.TicketURL != "" {
		fmt.Fprintf(&w, "- Ticket in the triage queue: %s\n", b.TicketURL)
	}
	if b.DiscoverURL != "" {
		// Engineers' link; the query in it is redacted like the rest.
		fmt.Fprintf(&w, "- The logs in Kibana: %s\n", s.clean(b.DiscoverURL))
	}
	fmt.Fprintf(&w, "\n_Filed by the triage bug filer; later tickets with the same bug are added as comments._\n\n%s\n", marker(r.Fingerprint))
	body := w.String()
	labels := s.labels(b)
	return &github.IssueRequest{Title: github.String(s.title(b)), Body: &body, Labels: &labels}
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04 MST")
}

// batchComment reports a batch of new tickets: how many, which new
// tenants, the latest excerpt.
func (s *Service) batchComment(r *bugRecord, batch []confirmation, mark string) string {
	var w strings.Builder
	seen := map[string]bool{}
	for _, c := range r.Tickets {
		seen[c.Tenant] = true
	}
	var fresh []string
	for _, c := range batch {
		if !seen[c.Tenant] {
			seen[c.Tenant] = true
			fresh = append(fresh, c.Tenant)
		}
	}
	fmt.Fprintf(&w, "**%d more ticket(s)** with this bug (%d in all).\n", len(batch), len(r.Tickets)+len(batch))
	if len(fresh) > 0 {
		fmt.Fprintf(&w, "\n- New tenants: %s\n", redact.Inline(strings.Join(fresh, ", ")))
	}
	for i := len(batch) - 1; i >= 0; i-- {
		if batch[i].Excerpt != "" {
			fmt.Fprintf(&w, "\nLatest log excerpt (redacted):\n\n%s\n", redact.CodeBlock(batch[i].Excerpt))
			break
		}
	}
	fmt.Fprintf(&w, "\n%s\n", mark)
	return w.String()
}

// The GitHub calls, each paced and checked for limits.

func (s *Service) createIssue(ctx context.Context, owner, repo string, req *github.IssueRequest) (*github.Issue, error) {
	if err := s.gh.before(ctx, true); err != nil {
		return nil, err
	}
	cctx, cancel := s.gh.limit(ctx)
	issue, resp, err := s.gh.client.Issues.Create(cctx, owner, repo, req)
	cancel()
	if err = s.gh.after("issues/create", resp, err); err != nil {
		return nil, err
	}
	return issue, nil
}

// findByMarker looks through the repository's issues created since the
// fingerprint was reserved (newest first) for the one carrying its marker.
func (s *Service) findByMarker(ctx context.Context, r *bugRecord) (*github.Issue, error) {
	want := marker(r.Fingerprint)
	opts := &github.IssueListByRepoOptions{
		State: "all", Sort: "created", Direction: "desc",
		Since:       r.ReservedAt.Add(-time.Hour), // since is by update time, a superset
		ListOptions: github.ListOptions{PerPage: 100},
	}
	for page := 0; page < 20; page++ {
		if err := s.gh.before(ctx, false); err != nil {
			return nil, err
		}
		cctx, cancel := s.gh.limit(ctx)
		issues, resp, err := s.gh.client.Issues.ListByRepo(cctx, r.Owner, r.Repo, opts)
		cancel()
		if err = s.gh.after("issues/list-for-repo", resp, err); err != nil {
			return nil, err
		}
		for _, is := range issues {
			if strings.Contains(is.GetBody(), want) {
				return is, nil
			}
			if is.GetCreatedAt().Before(r.ReservedAt.Add(-time.Minute)) {
				return nil, nil // older than the reservation: it was never filed
			}
		}
		if resp.NextPage == 0 {
			return nil, nil
		}
		opts.Page = resp.NextPage
	}
	return nil, nil
}

func (s *Service) createComment(ctx context.Context, r *bugRecord, body string) error {
	if err := s.gh.before(ctx, true); err != nil {
		return err
	}
	cctx, cancel := s.gh.limit(ctx)
	_, resp, err := s.gh.client.Issues.CreateComment(cctx, r.Owner, r.Repo, r.IssueNumber, &github.IssueComment{Body: &body})
	cancel()
	return s.gh.after("issues/create-comment", resp, err)
}

// commentExists looks for a batch's marker among the issue's comments.
func (s *Service) commentExists(ctx context.Context, r *bugRecord, mark string) (bool, error) {
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for page := 0; page < 20; page++ {
		if err := s.gh.before(ctx, false); err != nil {
			return false, err
		}
		cctx, cancel := s.gh.limit(ctx)
		comments, resp, err := s.gh.client.Issues.ListComments(cctx, r.Owner, r.Repo, r.IssueNumber, opts)
		cancel()
		if err = s.gh.after("issues/list-comments", resp, err); err != nil {
			return false, err
		}
		for _, c := range comments {
			if strings.Contains(c.GetBody(), mark) {
				return true, nil
			}
		}
		if resp.NextPage == 0 {
			return false, nil
		}
		opts.Page = resp.NextPage
	}
	return false, nil
}

// reopen reopens a closed issue whose bug came back, with one comment
// saying so (the comment marker makes a retry find it).
func (s *Service) reopen(ctx context.Context, r *bugRecord, conf confirmation) (*github.Issue, error) {
	if err := s.gh.before(ctx, true); err != nil {
		return nil, err
	}
	cctx, cancel := s.gh.limit(ctx)
	issue, resp, err := s.gh.client.Issues.Edit(cctx, r.Owner, r.Repo, r.IssueNumber, &github.IssueRequest{State: github.String("open")})
	cancel()
	if err = s.gh.after("issues/update", resp, err); err != nil {
		return nil, err
	}
	mark := batchMarker(r.Fingerprint, []string{"reopen", conf.TicketID})
	if found, err := s.commentExists(ctx, r, mark); err != nil || found {
		return issue, err
	}
	body := fmt.Sprintf("**Reopened:** the bug came back (a ticket from tenant %s was confirmed after this issue was closed).\n", redact.Inline(conf.Tenant))
	if conf.Excerpt != "" {
		body += "\nLatest log excerpt (redacted):\n\n" + redact.CodeBlock(conf.Excerpt) + "\n"
	}
	return issue, s.createComment(ctx, r, body+"\n"+mark+"\n")
}
