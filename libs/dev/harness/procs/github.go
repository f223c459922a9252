package procs

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/triage-pipeline/triage/libs/dev/fakegithub"
)

// GitHubRepo is the repository of the fake GitHub that services run as
// processes file on.
const GitHubRepo = "triage-demo/pos"

// FakeGitHub serves the fake GitHub for a bug filer run as a process and
// returns the filer's flags and environment (the token and the webhook
// secret travel in the environment, as in a deployment). Point its webhook
// at the filer once the filer's address is known (SetWebhook with the
// returned secret); Close it when done.
func FakeGitHub() (gh *fakegithub.Server, flags, env []string, secret string, err error) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	secret = hex.EncodeToString(b[:])
	if gh, err = fakegithub.New(fakegithub.Options{Repos: []string{GitHubRepo}}); err != nil {
		return nil, nil, nil, "", err
	}
	u, err := gh.Start("127.0.0.1:0")
	if err != nil {
		return nil, nil, nil, "", fmt.Errorf("fake github: %w", err)
	}
	return gh, []string{"--github-url", u + "/", "--github-repo", GitHubRepo},
		[]string{"TRIAGE_GITHUB_TOKEN=" + fakegithub.DefaultToken, "TRIAGE_GITHUB_WEBHOOK_SECRET=" + secret}, secret, nil
}
