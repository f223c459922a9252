package bugfiler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triage-pipeline/triage/libs/config"
)

// The token and the webhook secret come from the environment or from
// files; without them the filer refuses to start, saying what to set.
func TestGitHubSecrets(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name               string
		env                map[string]string
		args               []string
		wantToken, wantErr string
	}{
		{name: "environment", env: map[string]string{"TRIAGE_GITHUB_TOKEN": "env-token", "TRIAGE_GITHUB_WEBHOOK_SECRET": "s"}, wantToken: "env-token"},
		{name: "token file", env: map[string]string{"TRIAGE_GITHUB_WEBHOOK_SECRET": "s"}, args: []string{"--github-token-file", tokenFile}, wantToken: "file-token"},
		{name: "no token", env: map[string]string{"TRIAGE_GITHUB_WEBHOOK_SECRET": "s"}, wantErr: "TRIAGE_GITHUB_TOKEN"},
		{name: "no webhook secret", env: map[string]string{"TRIAGE_GITHUB_TOKEN": "t"}, wantErr: "TRIAGE_GITHUB_WEBHOOK_SECRET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"TRIAGE_GITHUB_TOKEN", "TRIAGE_GITHUB_WEBHOOK_SECRET"} {
				t.Setenv(k, tc.env[k])
			}
			var cfg Config
			err := config.Load("bugfiler", &cfg, append([]string{"--github-repo", "acme/pos"}, tc.args...))
			if err == nil {
				err = cfg.GitHub.complete() // what New checks before it starts
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.GitHub.Token != tc.wantToken {
				t.Fatalf("token %q, want %q", cfg.GitHub.Token, tc.wantToken)
			}
		})
	}
}
