// Package shareddata finds the read-only ../shared folder (vendors' contracts
// and datasets) that sits beside the repository root. The root is found from
// go.work, not from the package folder, so tests in any module agree on it.
package shareddata

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// EnvDir overrides where the shared folder is looked for.
const EnvDir = "TRIAGE_SHARED_DIR"

// RepoRoot walks up from the working directory to the folder holding go.work.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.work above the working directory")
		}
		dir = parent
	}
}

// Dir returns the shared folder: $TRIAGE_SHARED_DIR, else ../shared beside the
// repository root.
func Dir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return d, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(filepath.Dir(root), "shared")
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("shared folder beside the repository: %w", err)
	}
	return dir, nil
}
