// Package browser drives headless Chromium against the web UI, for the
// browser tests: a browser per test with a fresh profile, a tab per person
// (each with its own cookies), waits with deadlines, and full-page
// screenshots saved where people look for them. Development only.
package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/triage-pipeline/triage/libs/dev/shareddata"
)

// EnvChromium names the browser to run; otherwise chromium, then
// chromium-browser and google-chrome, are looked for on PATH.
const EnvChromium = "TRIAGE_CHROMIUM"

// EnvArtifacts is where screenshots go; otherwise artifacts/screenshots
// under the repository root.
const EnvArtifacts = "TRIAGE_ARTIFACTS"

// Chromium finds the browser to run.
func Chromium() (string, error) {
	if p := os.Getenv(EnvChromium); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium found: install it (apt-get install chromium) or set " + EnvChromium)
}

// Start runs headless Chromium for the test with a fresh profile in a
// temporary directory, and returns the browser's context. When the test
// ends the browser is closed and its process waited for. Without a
// browser the test is skipped, except on CI (CI=true), where .ci/run
// installs one and its absence is a failure.
func Start(tb testing.TB) context.Context {
	tb.Helper()
	path, err := Chromium()
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatal(err)
		}
		tb.Skip(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox cannot start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-dev-shm-usage", true),
		// Without these Chromium reaches out to Google's services, which
		// this machine's closed network refuses, and it stalls.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, stopAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browserCtx, stopBrowser := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(browserCtx); err != nil {
		stopBrowser()
		stopAlloc()
		tb.Fatalf("start Chromium (%s): %v", path, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(browserCtx, 20*time.Second)
		defer cancel()
		if err := chromedp.Cancel(ctx); err != nil && !errors.Is(err, context.Canceled) {
			tb.Logf("close Chromium: %v", err)
		}
		stopBrowser()
		stopAlloc() // waits for the browser process to exit
	})
	return browserCtx
}

// Tab opens a tab in a browser context of its own (its own cookies), so
// each person of a test signs in apart; it is closed when the test ends.
func Tab(tb testing.TB, browserCtx context.Context) context.Context {
	tb.Helper()
	tab, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(tab); err != nil {
		cancel()
		tb.Fatalf("open a tab: %v", err)
	}
	tb.Cleanup(cancel)
	return tab
}

// Person sets how the tab's reader is: the language the browser asks
// pages in (Accept-Language, and the locale scripts format with) and the
// time zone of the clock.
func Person(lang, zone string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
			Headers: network.Headers{"Accept-Language": lang}}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, t, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: lang}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone})
		return err
	})
}

// Do runs steps in the tab within d, failing the test with what it was
// doing when they fail or time out.
func Do(tb testing.TB, tab context.Context, d time.Duration, what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tab, d)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

// Run runs one action that returns a value, within d.
func Run[T any](tb testing.TB, tab context.Context, d time.Duration, what string, action chromedp.Action[T]) T {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tab, d)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
	return v
}

// WaitText waits up to d for the element sel to contain text, and fails
// the test with what the element held instead.
func WaitText(tb testing.TB, tab context.Context, d time.Duration, sel, text string) {
	tb.Helper()
	s, _ := json.Marshal(sel)
	want, _ := json.Marshal(text)
	ctx, cancel := context.WithTimeout(tab, d)
	defer cancel()
	expr := fmt.Sprintf(`(document.querySelector(%s)?.textContent || "").includes(%s)`, s, want)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(d), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		got, _ := chromedp.Run(tab, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%s)?.textContent || "(no such element)"`, s)))
		tb.Fatalf("waited %s for %s to contain %q; it holds %q (%v)", d, sel, text, got, err)
	}
}

// ScreenshotDir is where screenshots are saved: $TRIAGE_ARTIFACTS, else
// artifacts/screenshots under the repository root.
func ScreenshotDir() (string, error) {
	dir := os.Getenv(EnvArtifacts)
	if dir == "" {
		root, err := shareddata.RepoRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "artifacts", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("screenshot directory: %w", err)
	}
	return dir, nil
}

// Screenshot saves a full-page PNG of the tab as name.png in ScreenshotDir
// and returns its path.
func Screenshot(tb testing.TB, tab context.Context, name string) string {
	tb.Helper()
	dir, err := ScreenshotDir()
	if err != nil {
		tb.Fatal(err)
	}
	png := Run(tb, tab, 30*time.Second, "screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.Fatalf("save screenshot: %v", err)
	}
	tb.Logf("screenshot: %s", path)
	return path
}
