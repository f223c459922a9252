package bugfiler

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zricethezav/gitleaks/v8/detect"

	"github.com/triage-pipeline/triage/libs/dev/fakegithub"
	"github.com/triage-pipeline/triage/libs/events"
)

// codeBlocks matches fenced code blocks (the fence of redact.CodeBlock).
var codeBlocks = regexp.MustCompile("(?s)(`{3,})\n.*?\n`{3,}\n")

// Secrets, personal data and hostile markdown in what customers wrote,
// the engineer's notes and the logs never reach GitHub.
func TestNothingSecretReachesGitHub(t *testing.T) {
	t.Parallel()
	e := newEnv(t, unpaced)
	e.filer(fast, "--redact-names", "Sakura Sushi", "--redact-names", "さくら寿司")
	// Assembled at run time, so this file holds no secret scanners flag.
	aws := "AKIA" + "IOSFODNN7" + "EXAMPLE"
	awsSecret := "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
	ghp := "ghp_" + strings.Repeat("aB3dE5gH7j", 3) + "KLMNOP"
	ghs := "ghs_" + strings.Repeat("Zy9xW8vU7t", 3) + "QRSTUV"
	jwt := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" + ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0" + ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	secrets := []string{aws, awsSecret, ghp, ghs, jwt, "hanako@example.jp", "090-1234-5678", "4111 1111 1111 1111", "203.0.113.77", "Sakura Sushi", "さくら寿司"}
	hostile := []string{"@acme/payments-team", "@octocat", "closes #2", "<img src=x onerror=alert(1)>", "<!-- triage:fingerprint=evil -->"}
	e.confirm("payment-secrets", "t-sec", "rst-9", func(b *events.BugReport) {
		b.Reported = []string{"Sakura Sushi (さくら寿司) says card 4111 1111 1111 1111 was declined; call 090-1234-5678 or hanako@example.jp " +
			strings.Join(hostile, " ")}
		b.Notes = "Gateway logs show Authorization: Bearer " + jwt + " and key " + aws + " secret " + awsSecret + "; cc @acme/payments-team, closes #2 <img src=x onerror=alert(1)>"
		b.Excerpts = []events.LogExcerpt{{ID: "l1", Timestamp: time.Now(), Level: "ERROR", Service: "payment-gateway",
			Message: "upstream 203.0.113.77 rejected token " + ghp + " and " + ghs}}
		b.Title = "[payment] declined for Sakura Sushi @octocat"
	})
	e.filedTickets("payment-secrets", 1, 30*time.Second)
	reqs := e.gh.RequestsTo(fakegithub.OpCreateIssue)
	if len(reqs) == 0 {
		t.Fatal("nothing was sent to GitHub")
	}
	det, err := detect.NewDetectorDefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		var sent struct{ Title, Body string }
		if err := json.Unmarshal(r.Body, &sent); err != nil {
			t.Fatal(err)
		}
		body := sent.Title + "\n" + sent.Body
		for _, s := range secrets {
			if strings.Contains(body, s) || strings.Contains(body, strings.ReplaceAll(s, "/", `\/`)) {
				t.Errorf("GitHub received %q", s)
			}
		}
		// Outside code blocks (which GitHub shows verbatim) nothing may
		// ping, link, close or render.
		prose := codeBlocks.ReplaceAllString(body, "")
		for _, h := range []string{"@acme/payments-team", "@octocat", "closes #2", "<img"} {
			if strings.Contains(prose, h) {
				t.Errorf("GitHub received %q un-neutralised outside a code block", h)
			}
		}
		if strings.Contains(body, "<!-- triage:fingerprint=evil") {
			t.Error("customer text forged the fingerprint marker")
		}
		if findings := det.DetectString(body); len(findings) > 0 {
			t.Errorf("gitleaks finds %d secrets in what GitHub received: %v", len(findings), findings[0].RuleID)
		}
	}
	is := e.gh.Issues("acme", "pos")[0]
	if n := strings.Count(is.Body, "<!-- triage:fingerprint="); n != 1 {
		t.Errorf("the body holds %d fingerprint markers, want only ours", n)
	}
}
