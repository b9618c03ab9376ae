package sim

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

// running returns a running container and its file system (made on first
// use).
func (r *Runtime) running(id string) (*container, *simFS, error) {
	c, err := r.get(id)
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status.State != runtime.StateRunning {
		return nil, nil, fmt.Errorf("sim runtime: container %q is not running", id)
	}
	if c.fs == nil {
		c.fs = newSimFS()
	}
	return c, c.fs, nil
}

// Exec implements runtime.Runtime: the simulated shell (shell.go) answers.
func (r *Runtime) Exec(ctx context.Context, id string, cmd []string, s runtime.Streams) (int, error) {
	c, _, err := r.running(id)
	if err != nil {
		return 0, err
	}
	sh := newShell(c)
	stderr := s.Stderr
	if s.TTY {
		stderr = s.Stdout
	}
	done := make(chan int, 1)
	go func() {
		if s.TTY && len(cmd) == 1 && isShell(cmd[0]) {
			done <- sh.interactive(s.Stdin, s.Stdout, stderr, true)
			return
		}
		done <- sh.run(cmd, s.Stdin, s.Stdout, stderr)
	}()
	select {
	case code := <-done:
		return code, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Attach implements runtime.Runtime: a container whose command is a shell
// and that gets stdin reads commands from it (kubectl debug -it, kubectl
// attach -i); any other gets its output followed.
func (r *Runtime) Attach(ctx context.Context, id string, s runtime.Streams) error {
	c, _, err := r.running(id)
	if err != nil {
		return err
	}
	argv := append(slices.Clone(c.spec.Command), c.spec.Args...)
	if len(argv) == 0 {
		argv = []string{c.spec.Image}
	}
	if s.Stdin == nil || !isShell(argv[0]) || len(argv) > 1 {
		return runtime.AttachOutput(ctx, r, id, s)
	}
	stderr := s.Stderr
	if s.TTY {
		stderr = s.Stdout
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		newShell(c).interactive(s.Stdin, orDiscard(s.Stdout), orDiscard(stderr), s.TTY)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// isShell: the image or program is a shell (busybox's image runs sh).
func isShell(prog string) bool {
	base, _, _ := strings.Cut(path.Base(prog), ":")
	switch base {
	case "sh", "bash", "ash", "busybox":
		return true
	}
	return false
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// DialPort implements runtime.PortDialer: a running container answers any
// port as its listeners do, with one HTTP greeting per connection, over an
// in-memory pipe (port-forward reaches sim pods whose ports are not
// declared, or when the runtime opens no sockets).
func (r *Runtime) DialPort(id string, port int) (net.Conn, error) {
	c, _, err := r.running(id)
	if err != nil {
		return nil, err
	}
	name := c.spec.PodNamespace + "/" + c.spec.PodName
	client, server := net.Pipe()
	go func() {
		defer func() { _ = server.Close() }()
		req, err := http.ReadRequest(bufio.NewReader(server))
		if err != nil {
			return // not HTTP: the connection just closes
		}
		_ = req.Body.Close()
		body := fmt.Sprintf("Hello from pod %s (stratus sim runtime)\n", name)
		resp := &http.Response{StatusCode: http.StatusOK, ProtoMajor: 1, ProtoMinor: 1, Request: req, Close: true,
			Header:        http.Header{"Content-Type": {"text/plain; charset=utf-8"}},
			ContentLength: int64(len(body)), Body: io.NopCloser(strings.NewReader(body))}
		_ = resp.Write(server)
	}()
	return client, nil
}
