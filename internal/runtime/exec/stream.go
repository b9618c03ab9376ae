package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	osexec "os/exec"
	"time"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

// Exec implements runtime.Runtime: the command runs as a host process
// beside the container's, in its working dir with its env. There is no
// terminal: with TTY the output is merged into stdout and resizes are
// ignored (no pty is allocated).
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
	err = x.Wait()
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

// Attach implements runtime.Runtime: the container's output from now on;
// its stdin is not kept open.
func (r *Runtime) Attach(ctx context.Context, id string, s runtime.Streams) error {
	return runtime.AttachOutput(ctx, r, id, s)
}
