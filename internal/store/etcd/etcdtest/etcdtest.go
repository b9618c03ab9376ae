// Package etcdtest starts a real etcd server (the `etcd` binary, Debian
// package etcd-server) on free loopback ports with a temporary data dir, for
// tests: the store conformance suite, and multi-host tests where several
// stratus servers share one etcd.
//
// A test binary usually shares one server among its tests: keep a Shared in
// the test package, call Get(t) where a test needs etcd (it starts the server
// on first use, or skips, failing under CI=true, when etcd is not installed)
// and Stop it from TestMain after m.Run.
package etcdtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/testenv"
)

// Install says how to get the etcd binary.
const Install = "apt-get install etcd-server"

// Options configure a server.
type Options struct {
	// Binary is the etcd program. Default: "etcd" on PATH.
	Binary string
	// ProgressNotifyInterval is how often watchers that asked for progress
	// notifications get one. Default 100 ms (etcd's own default is 10 min).
	ProgressNotifyInterval time.Duration
	// MaxTxnOps raises etcd's cap on operations per transaction. Default 1024.
	MaxTxnOps int
	// StartTimeout bounds the wait for the server to answer. Default 20 s.
	StartTimeout time.Duration
}

// Server is a running etcd.
type Server struct {
	// Endpoints are the client URLs ("http://127.0.0.1:PORT").
	Endpoints []string
	// DataDir is the server's data directory (removed by Stop).
	DataDir string

	cmd    *exec.Cmd
	exited chan struct{}
	output *limitedBuffer
}

// Start runs an etcd server and waits until it answers its health check.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Binary == "" {
		opts.Binary = "etcd"
	}
	if opts.ProgressNotifyInterval <= 0 {
		opts.ProgressNotifyInterval = 100 * time.Millisecond
	}
	if opts.MaxTxnOps <= 0 {
		opts.MaxTxnOps = 1024
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 20 * time.Second
	}
	bin, err := exec.LookPath(opts.Binary)
	if err != nil {
		return nil, fmt.Errorf("etcd not found (install: %s): %w", Install, err)
	}
	var lastErr error
	// A free port can be taken between choosing and binding it: retry.
	for range 3 {
		s, err := start(ctx, bin, opts)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func start(ctx context.Context, bin string, opts Options) (*Server, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "etcdtest-")
	if err != nil {
		return nil, err
	}
	client := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peer := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	cmd := exec.Command(bin,
		"--name=etcdtest",
		"--data-dir="+dir,
		"--listen-client-urls="+client,
		"--advertise-client-urls="+client,
		"--listen-peer-urls="+peer,
		"--initial-advertise-peer-urls="+peer,
		"--initial-cluster=etcdtest="+peer,
		"--initial-cluster-state=new",
		"--experimental-watch-progress-notify-interval="+opts.ProgressNotifyInterval.String(),
		"--max-txn-ops="+strconv.Itoa(opts.MaxTxnOps),
		"--logger=zap",
		"--log-outputs=stderr",
		"--log-level=warn",
	)
	out := &limitedBuffer{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	// If the test binary dies, etcd goes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start etcd: %w", err)
	}
	s := &Server{Endpoints: []string{client}, DataDir: dir, cmd: cmd, exited: make(chan struct{}), output: out}
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitHealthy(ctx, client, opts.StartTimeout); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("%w; etcd output:\n%s", err, out.String())
	}
	return s, nil
}

func (s *Server) waitHealthy(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/health", nil)
		if resp, err := hc.Do(req); err == nil {
			ok := resp.StatusCode == http.StatusOK
			_ = resp.Body.Close()
			if ok {
				return nil
			}
		}
		select {
		case <-s.exited:
			return errors.New("etcd exited during start")
		case <-ctx.Done():
			return fmt.Errorf("etcd not healthy within %s", timeout)
		case <-tick.C:
		}
	}
}

// Stop ends the server (SIGTERM, then SIGKILL after 5 s) and removes its
// data dir.
func (s *Server) Stop() error {
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	return os.RemoveAll(s.DataDir)
}

// Output returns the server's recent log output, for failure messages.
func (s *Server) Output() string { return s.output.String() }

func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Shared is one etcd server for a whole test binary, started on first use.
// The zero value is ready; set Options before the first Get.
type Shared struct {
	Options Options

	once sync.Once
	srv  *Server
	err  error
}

// Get returns the shared server, starting it on the first call. Without an
// etcd binary the test is skipped (failed under CI=true); when etcd is
// installed but does not start, the test fails.
func (sh *Shared) Get(t testing.TB) *Server {
	t.Helper()
	bin := sh.Options.Binary
	if bin == "" {
		bin = "etcd"
	}
	testenv.LookPath(t, bin, Install)
	sh.once.Do(func() {
		sh.srv, sh.err = Start(context.Background(), sh.Options)
	})
	if sh.err != nil {
		t.Fatalf("etcdtest: %v", sh.err)
	}
	return sh.srv
}

// Stop stops the server if it was started.
func (sh *Shared) Stop() {
	sh.once.Do(func() {}) // no start after Stop
	if sh.srv != nil {
		_ = sh.srv.Stop()
	}
}

// limitedBuffer keeps the last max bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
