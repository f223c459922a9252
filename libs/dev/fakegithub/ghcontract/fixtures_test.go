package ghcontract_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/fakegithub"
	"github.com/triage-pipeline/triage/libs/dev/fakegithub/ghcontract"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// recorded is one exchange of an octokit fixture (nock's format).
type recorded struct {
	Method     string          `json:"method"`
	Path       string          `json:"path"`
	Body       json.RawMessage `json:"body"`
	Status     int             `json:"status"`
	Response   json.RawMessage `json:"response"`
	RawHeaders []string        `json:"rawHeaders"`
	ReqHeaders map[string]any  `json:"reqheaders"`
	header     http.Header     // RawHeaders, parsed
}

// The fixtures' placeholder tokens and the users they stood for.
var fixtureTokens = map[string]string{
	"0000000000000000000000000000000000000001": "octokit-fixture-user-a",
	"0000000000000000000000000000000000000002": "octokit-fixture-user-b",
}

// notEmitted are headers api.github.com sent that the fake leaves out.
var notEmitted = map[string]string{
	"X-Oauth-Scopes":          "sent for classic personal access tokens only; the fake's tokens have no scopes",
	"X-Accepted-Oauth-Scopes": "as X-OAuth-Scopes",
	"Connection":              "added by the recording proxy, not by GitHub",
}

// presenceMustMatch are headers whose presence carries meaning: the fake
// must send each exactly when GitHub did.
var presenceMustMatch = []string{"Etag", "Location", "Link", "Retry-After", "Cache-Control", "Content-Type"}

// valuesMustMatch are headers whose values must be GitHub's.
var valuesMustMatch = []string{"Content-Type", "Cache-Control", "Vary", "X-Github-Media-Type", "X-Ratelimit-Limit", "X-Ratelimit-Resource"}

// extraKeys are body keys the fake sends that the 2022 recordings lack.
var extraKeys = map[string]string{
	"search_type": "required by the current description of GET /search/issues (newer than the recording)",
	"status":      "in the current description's basic-error; GitHub's errors carry it since 2024",
}

// comparedValues are keys whose values must equal the recorded ones (the
// rest are ids, URLs and times, which differ by nature).
var comparedValues = map[string]bool{
	"number": true, "title": true, "state": true, "body": true, "name": true, "color": true, "default": true,
	"description": true, "locked": true, "comments": true, "total_count": true, "incomplete_results": true,
	"score": true, "state_reason": true, "login": true, "type": true, "site_admin": true, "gravatar_id": true,
	"active_lock_reason": true, "closed_at": true, "assignee": true, "milestone": true,
}

func loadFixture(t *testing.T, name string) []recorded {
	t.Helper()
	path := testkit.SharedPath(t, "contracts", "github", "recorded", "octokit-fixtures", name+".raw-fixture.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []recorded
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for i := range out {
		h := http.Header{}
		for j := 0; j+1 < len(out[i].RawHeaders); j += 2 {
			h.Add(out[i].RawHeaders[j], out[i].RawHeaders[j+1])
		}
		out[i].header = h
	}
	return out
}

var (
	fixtureRepo  = regexp.MustCompile(`^/repos/(octokit-fixture-org)/(tmp-scenario-[^/?]+)`)
	repositoryID = regexp.MustCompile(`/repositories/([0-9]+)/`)
)

// TestRecordedExchanges replays the issue exchanges of octokit's fixtures
// (recorded from api.github.com) against the fake, in order, with the
// recorded requests, and compares what comes back: status, headers (the
// Link and Location values after mapping the host and repository id),
// body keys at every level, and the values that do not differ by nature.
func TestRecordedExchanges(t *testing.T) {
	for _, name := range []string{"add-labels-to-issue", "paginate-issues", "search-issues"} {
		t.Run(name, func(t *testing.T) {
			fx := loadFixture(t, name)
			var owner, repo string
			var recordedID string
			for _, x := range fx {
				if m := fixtureRepo.FindStringSubmatch(x.Path); m != nil && owner == "" {
					owner, repo = m[1], m[2]
				}
				if m := repositoryID.FindStringSubmatch(x.Path); m != nil {
					recordedID = m[1]
				}
			}
			tokens := map[string]string{}
			for tok, login := range fixtureTokens {
				tokens[tok] = login
			}
			// Search sees new issues at once here; the lag has its own test.
			s, base := startFake(t, fakegithub.Options{Tokens: tokens, Repos: []string{owner + "/" + repo}, SearchLag: -1})
			v := ghcontract.Shared(t)
			hc := &http.Client{Transport: transport(t)}
			fakeID := ""
			replayed := 0
			for i, x := range fx {
				path := x.Path
				if !strings.Contains(path, "/issues") {
					continue // creating and deleting the scratch repository
				}
				if recordedID != "" && strings.Contains(path, "/repositories/"+recordedID+"/") {
					if fakeID == "" {
						t.Fatalf("exchange %d follows a link before the fake gave one", i)
					}
					path = strings.Replace(path, "/repositories/"+recordedID+"/", "/repositories/"+fakeID+"/", 1)
				}
				auth, _ := x.ReqHeaders["authorization"].(string)
				body := ""
				if len(x.Body) > 0 && string(x.Body) != `""` {
					body = string(x.Body)
				}
				req, err := http.NewRequest(strings.ToUpper(x.Method), base+path, strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", auth)
				req.Header.Set("Accept", "application/vnd.github.v3+json")
				if body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatalf("exchange %d %s %s: %v", i, x.Method, path, err)
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				if fakeID == "" {
					if m := repositoryID.FindStringSubmatch(resp.Header.Get("Link")); m != nil {
						fakeID = m[1]
					}
				}
				norm := func(s string) string {
					s = strings.ReplaceAll(s, base, "https://api.github.com")
					if fakeID != "" {
						s = strings.ReplaceAll(s, "/repositories/"+fakeID+"/", "/repositories/"+recordedID+"/")
					}
					return s
				}
				what := fmt.Sprintf("exchange %d (%s %s)", i, x.Method, x.Path)
				if resp.StatusCode != x.Status {
					t.Errorf("%s: status %d, recorded %d: %s", what, resp.StatusCode, x.Status, got)
					continue
				}
				for _, d := range headerDiff(x.header, resp.Header, norm) {
					t.Errorf("%s: %s", what, d)
				}
				var want, have any
				if err := json.Unmarshal(x.Response, &want); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(got, &have); err != nil {
					t.Fatalf("%s: answer is not JSON: %s", what, got)
				}
				for _, d := range shapeDiff("", want, have) {
					t.Errorf("%s: %s", what, d)
				}
				// What the fake answered must also conform to the description.
				vreq, _ := http.NewRequest(req.Method, base+path, nil)
				if err := v.ValidateResponse(vreq, []byte(body), resp.StatusCode, resp.Header, got); err != nil {
					t.Errorf("%s: %v", what, err)
				}
				replayed++
			}
			if replayed == 0 {
				t.Fatal("no exchange replayed")
			}
			if name == "paginate-issues" && len(s.Issues(owner, repo)) != 13 {
				t.Errorf("the fake holds %d issues, want the 13 recorded", len(s.Issues(owner, repo)))
			}
		})
	}
}

// headerDiff compares the fake's headers with the recorded ones.
func headerDiff(want, got http.Header, norm func(string) string) []string {
	var diffs []string
	for name := range want {
		if _, ok := notEmitted[name]; ok {
			continue
		}
		if len(got.Values(name)) == 0 {
			diffs = append(diffs, "header "+name+" recorded but not sent")
		}
	}
	for _, name := range presenceMustMatch {
		if (want.Get(name) == "") != (got.Get(name) == "") {
			diffs = append(diffs, fmt.Sprintf("header %s: recorded %q, sent %q", name, want.Get(name), got.Get(name)))
		}
	}
	for _, name := range valuesMustMatch {
		if w, g := strings.Join(want.Values(name), ", "), strings.Join(got.Values(name), ", "); w != g {
			diffs = append(diffs, fmt.Sprintf("header %s: recorded %q, sent %q", name, w, g))
		}
	}
	for _, name := range []string{"Link", "Location"} {
		if w, g := want.Get(name), norm(got.Get(name)); w != g {
			diffs = append(diffs, fmt.Sprintf("header %s:\n  recorded %s\n  sent     %s", name, w, g))
		}
	}
	if _, err := strconv.ParseInt(got.Get("X-Ratelimit-Reset"), 10, 64); err != nil {
		diffs = append(diffs, "X-RateLimit-Reset is not a number")
	} else if reset, _ := strconv.ParseInt(got.Get("X-Ratelimit-Reset"), 10, 64); time.Until(time.Unix(reset, 0)) > time.Hour+time.Second {
		diffs = append(diffs, "X-RateLimit-Reset is more than an hour away")
	}
	return diffs
}

// TestRecordedErrorEnvelope compares the fake's 404 with the one recorded
// from api.github.com (for an endpoint the fake does not serve, so only
// the envelope is compared: headers and keys).
func TestRecordedErrorEnvelope(t *testing.T) {
	var want *recorded
	fx := loadFixture(t, "branch-protection")
	for i := range fx {
		if fx[i].Status == http.StatusNotFound {
			want = &fx[i]
		}
	}
	if want == nil {
		t.Fatal("no 404 in the branch-protection fixture")
	}
	_, base := startFake(t, fakegithub.Options{Repos: []string{"octo-org/scratch"}})
	hc := &http.Client{Transport: transport(t)}
	resp, got := rawExchange(t, hc, "GET", base+"/repos/octo-org/scratch/issues/404", fakegithub.DefaultToken, "")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, d := range headerDiff(want.header, resp.Header, func(s string) string { return s }) {
		t.Error(d)
	}
	var w, g map[string]any
	if err := json.Unmarshal(want.Response, &w); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	for _, d := range shapeDiff("", w, g) {
		t.Error(d)
	}
}

func kind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	}
	return "null"
}

// shapeDiff compares two decoded bodies by keys and value kinds at every
// level, and by value for comparedValues.
func shapeDiff(path string, want, got any) []string {
	if kind(want) != kind(got) {
		return []string{fmt.Sprintf("%s: %s recorded, %s sent", path, kind(want), kind(got))}
	}
	var diffs []string
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		var sorted []string
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			wv, inW := w[k]
			gv, inG := g[k]
			switch {
			case !inG:
				diffs = append(diffs, fmt.Sprintf("%s.%s: recorded, not sent", path, k))
			case !inW:
				if _, ok := extraKeys[k]; !ok {
					diffs = append(diffs, fmt.Sprintf("%s.%s: sent, not recorded", path, k))
				}
			default:
				if comparedValues[k] && kind(wv) != "object" && kind(wv) != "array" && wv != gv {
					diffs = append(diffs, fmt.Sprintf("%s.%s: recorded %v, sent %v", path, k, wv, gv))
					continue
				}
				diffs = append(diffs, shapeDiff(path+"."+k, wv, gv)...)
			}
		}
	case []any:
		g := got.([]any)
		if len(w) != len(g) {
			return []string{fmt.Sprintf("%s: %d items recorded, %d sent", path, len(w), len(g))}
		}
		for i := range w {
			diffs = append(diffs, shapeDiff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
	}
	return diffs
}
