package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	osexec "os/exec"
	"time"

	"github.com/creack/pty"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

// Exec implements runtime.Runtime: the command runs as a host process
// beside the container's, in its working dir with its env. With TTY it
// runs on a pseudo-terminal of its own (github.com/creack/pty), as
// `kubectl exec -it` expects: one output stream, line discipline and echo
// by the terminal, and resizes applied to it.
func (r *Runtime) Exec(ctx context.Context, id string, cmd []string, s runtime.Streams) (int, error) {
	c, err := r.get(id)
	if err != nil {
		return 0, err
	}
	if st := c.Status(); st.State != runtime.StateRunning {
		return 0, fmt.Errorf("exec runtime: container %q is not running", id)
	}
	if len(cmd) == 0 {
		return 0, errors.New("exec runtime: no command")
	}
	path, err := osexec.LookPath(cmd[0])
	if err != nil {
		return 0, fmt.Errorf("exec runtime: %w", err)
	}
	x := osexec.CommandContext(ctx, path, cmd[1:]...)
	x.Args[0] = cmd[0]
	x.Dir = c.cmd.Dir
	x.Env = c.cmd.Env
	x.Stdout = s.Stdout
	x.Stderr = s.Stderr
	if s.TTY {
		x.Stderr = s.Stdout
	}
	x.WaitDelay = 2 * time.Second
	if s.TTY {
		return execTTY(x, s)
	}
	var stdin io.WriteCloser
	if s.Stdin != nil {
		if stdin, err = x.StdinPipe(); err != nil {
			return 0, err
		}
	}
	if s.Resize != nil {
		go func() {
			for range s.Resize {
				// drained: there is no pty to resize
			}
		}()
	}
	if err := x.Start(); err != nil {
		return 0, fmt.Errorf("exec runtime: %w", err)
	}
	if stdin != nil {
		go func() {
			_, _ = io.Copy(stdin, s.Stdin)
			_ = stdin.Close()
		}()
	}
	return exitCode(x.Wait())
}

// firstSizeWait is how long a terminal exec waits for the client's first
// size before starting the command.
const firstSizeWait = 500 * time.Millisecond

// execTTY runs x on a new pseudo-terminal: s.Stdin is its keyboard,
// s.Stdout its screen, s.Resize its size. It ends when x does, once the
// terminal's output is read to the end.
func execTTY(x *osexec.Cmd, s runtime.Streams) (int, error) {
	x.Stdin, x.Stdout, x.Stderr = nil, nil, nil
	// The terminal gets the size the client sends first (kubectl sends it
	// at once, on its own stream) before the command starts, so a command
	// that reads its size at once sees the client's; a client that sends
	// none within a moment gets the pty's default.
	var size *pty.Winsize
	if s.Resize != nil {
		select {
		case sz, ok := <-s.Resize:
			if ok {
				size = &pty.Winsize{Cols: sz.Width, Rows: sz.Height}
			}
		case <-time.After(firstSizeWait):
		}
	}
	tty, err := pty.StartWithSize(x, size)
	if err != nil {
		return 0, fmt.Errorf("exec runtime: %w", err)
	}
	defer tty.Close()
	if s.Resize != nil {
		go func() {
			for sz := range s.Resize {
				_ = pty.Setsize(tty, &pty.Winsize{Cols: sz.Width, Rows: sz.Height})
			}
		}()
	}
	if s.Stdin != nil {
		go func() { _, _ = io.Copy(tty, s.Stdin) }()
	}
	out := make(chan struct{})
	go func() {
		defer close(out)
		w := s.Stdout
		if w == nil {
			w = io.Discard
		}
		_, _ = io.Copy(w, tty) // ends with EIO once the process and its children closed the terminal
	}()
	code, err := exitCode(x.Wait())
	select {
	case <-out:
	case <-time.After(2 * time.Second): // a child kept the terminal open
	}
	return code, err
}

// exitCode is the exit code of a command's Wait error, as kubelet's.
func exitCode(err error) (int, error) {
	var ee *osexec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return ee.ExitCode(), nil
	case errors.As(err, &ee):
		return 128 + 9, nil // killed by a signal
	}
	return 0, err
}

// Attach implements runtime.Runtime: the container's output from now on,
// and the client's input on the container's stdin when the container keeps
// it open (stdin: true). The client's end of input leaves the container's
// stdin open for the next attach, as the kubelet does without stdinOnce.
func (r *Runtime) Attach(ctx context.Context, id string, s runtime.Streams) error {
	c, err := r.get(id)
	if err != nil {
		return err
	}
	if c.stdin != nil && s.Stdin != nil {
		in := s.Stdin
		s.Stdin = nil
		go func() {
			c.attachMu.Lock()
			defer c.attachMu.Unlock()
			_, _ = io.Copy(c.stdin, in)
		}()
	}
	return runtime.AttachOutput(ctx, r, id, s)
}
