// Package procs runs triage services as separate operating-system
// processes, the shape of a deployment: the process-level tests and the
// benchmark's --processes mode start them through here, and read the CPU
// time each has used.
package procs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is one service running as its own process.
type Proc struct {
	Name string
	cmd  *exec.Cmd
	url  chan string   // the service's base URL, from its "started" log line
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, set before done closes
	mu   sync.Mutex
	logs bytes.Buffer // stderr: zap JSON lines
}

// Services are the five stages, in the order they are started.
var Services = []string{"intake", "queue", "enricher", "router", "bugfiler"}

// Command says how to run a service as a process: the executable and the
// arguments that come before the service's own flags.
type Command func(service string) (path string, args []string)

// TriageRun runs services as `triage run <service>` with the triage binary
// at exe.
func TriageRun(exe string) Command {
	return func(service string) (string, []string) { return exe, []string{"run", service} }
}

// TriageDev runs the triage binary at exe's development servers (`triage
// natsd`, `triage esdev`) by the same name.
func TriageDev(exe string) Command {
	return func(server string) (string, []string) { return exe, []string{server} }
}

// Binaries runs each service's own binary from dir, as deployments do.
func Binaries(dir string) Command {
	return func(service string) (string, []string) { return filepath.Join(dir, service), nil }
}

// Build compiles the five per-service binaries (services/<name>/cmd/<name>)
// into dir, from the repository at root.
func Build(ctx context.Context, root, dir string) error {
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, s := range Services {
		args = append(args, "./services/"+s+"/cmd/"+s)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// Start runs the service name with run, flags and env added to this
// process's environment, and collects its stderr.
func Start(run Command, name string, flags, env []string) (*Proc, error) {
	exe, args := run(name)
	cmd := exec.Command(exe, append(args, flags...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("%s: stderr pipe: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, cmd: cmd, url: make(chan string, 1), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			p.mu.Lock()
			p.logs.Write(line)
			p.logs.WriteByte('\n')
			p.mu.Unlock()
			var entry struct{ Msg, URL string }
			if bytes.Contains(line, []byte(`"started"`)) && json.Unmarshal(line, &entry) == nil && entry.Msg == "started" && entry.URL != "" {
				select {
				case p.url <- entry.URL:
				default:
				}
			}
		}
		// A line too long for the scanner ends the loop: keep reading, or
		// the child would block on a full pipe and never exit.
		_, _ = io.Copy(io.Discard, stderr)
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// CPU returns the user plus system CPU time the process has used so far.
func (p *Proc) CPU() (time.Duration, error) {
	d, err := ProcessCPU(p.cmd.Process.Pid)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", p.Name, err)
	}
	return d, nil
}

// Exited is closed once the process has ended.
func (p *Proc) Exited() <-chan struct{} { return p.done }

// Logs returns what the process has written to stderr so far.
func (p *Proc) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// URL waits until the service says it has started and returns its base URL.
func (p *Proc) URL(ctx context.Context) (string, error) {
	select {
	case u := <-p.url:
		p.url <- u
		return u, nil
	case <-p.done:
		return "", fmt.Errorf("%s exited before starting: %v\n%s", p.Name, p.err, p.Logs())
	case <-ctx.Done():
		return "", fmt.Errorf("%s did not start: %w\n%s", p.Name, ctx.Err(), p.Logs())
	}
}

// WaitReady polls baseURL's /readyz until it answers 200, the process
// exits, or ctx ends.
func (p *Proc) WaitReady(ctx context.Context, baseURL string) error {
	return p.WaitOK(ctx, baseURL+"/readyz")
}

// WaitOK polls url until it answers 200, the process exits, or ctx ends:
// for a server without /readyz.
func (p *Proc) WaitOK(ctx context.Context, url string) error {
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s at %s not ready: %w\n%s", p.Name, url, ctx.Err(), p.Logs())
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready: %v\n%s", p.Name, p.err, p.Logs())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop sends sig and waits for the process to exit, returning how it ended.
func (p *Proc) Stop(ctx context.Context, sig syscall.Signal) error {
	if err := p.cmd.Process.Signal(sig); err != nil {
		select {
		case <-p.done: // already gone
			return p.err
		default:
		}
		return fmt.Errorf("signal %s: %w", p.Name, err)
	}
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return fmt.Errorf("%s did not exit after %v: %w", p.Name, sig, ctx.Err())
	}
}

// Kill ends the process at once if it is still running, and waits for it.
func (p *Proc) Kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}
