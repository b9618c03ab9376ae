package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The end-to-end tests run the real binary, as a user would.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// stratusBinary builds the binary once per test run; STRATUS_TEST_BINARY
// names a built one instead (benchmarks alternate an old and a new build).
func stratusBinary(tb testing.TB) string {
	tb.Helper()
	if bin := os.Getenv("STRATUS_TEST_BINARY"); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "stratus-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "stratus")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// upProcess is a running `stratus up`.
type upProcess struct {
	cmd     *exec.Cmd
	dataDir string
	http    string
	kube    string
	banner  chan string
	stderr  *strings.Builder
	done    chan error
}

func startUp(tb testing.TB, dataDir string, extra ...string) *upProcess {
	tb.Helper()
	p := &upProcess{dataDir: dataDir, http: freeAddr(tb), kube: freeAddr(tb), banner: make(chan string, 1), stderr: &strings.Builder{}, done: make(chan error, 1)}
	args := append([]string{"up", "--data-dir", dataDir, "--http-addr", p.http, "--kube-addr", p.kube}, extra...)
	p.cmd = exec.Command(stratusBinary(tb), args...)
	p.cmd.Env = append(os.Environ(), "HOME="+dataDir)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	p.cmd.Stderr = &syncWriter{b: p.stderr}
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		var b strings.Builder
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
			if strings.HasPrefix(sc.Text(), "Press Ctrl-C") {
				p.banner <- b.String()
			}
		}
		io.Copy(io.Discard, stdout)
		p.done <- p.cmd.Wait()
	}()
	tb.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

type syncWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// waitReady polls /readyz until it answers 200.
func (p *upProcess) waitReady(tb testing.TB, timeout time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+p.http+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case err := <-p.done:
			p.done <- err
			tb.Fatalf("stratus up exited before ready: %v\n%s", err, p.stderr.String())
		case <-ctx.Done():
			tb.Fatalf("stratus up not ready within %v\n%s", timeout, p.stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// stop sends SIGINT and waits for a clean exit.
func (p *upProcess) stop(tb testing.TB) {
	tb.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		tb.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			tb.Fatalf("stratus up did not exit cleanly: %v\n%s", err, p.stderr.String())
		}
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		tb.Fatalf("stratus up did not stop within 20s after SIGINT\n%s", p.stderr.String())
	}
}

// env runs `stratus env client` and returns the exported variables.
func env(tb testing.TB, dataDir, client string) map[string]string {
	tb.Helper()
	out, err := exec.Command(stratusBinary(tb), "env", client, "--data-dir", dataDir).Output()
	if err != nil {
		tb.Fatalf("stratus env %s: %v", client, err)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		kv, ok := strings.CutPrefix(line, "export ")
		if !ok {
			tb.Fatalf("env line without export: %q", line)
		}
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = strings.Trim(v, "'")
	}
	return vars
}
