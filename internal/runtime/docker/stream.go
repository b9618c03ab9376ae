package docker

import (
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

// Exec implements runtime.Runtime: `docker exec` through the engine's API
// (exec create, attach, resize, inspect for the exit code).
func (r *Runtime) Exec(ctx context.Context, id string, cmd []string, s runtime.Streams) (int, error) {
	if _, err := r.get(id); err != nil {
		return 0, err
	}
	ex, err := r.cli.ContainerExecCreate(ctx, id, container.ExecOptions{Cmd: cmd, Tty: s.TTY,
		AttachStdin: s.Stdin != nil, AttachStdout: s.Stdout != nil, AttachStderr: s.Stderr != nil || (s.TTY && s.Stdout != nil)})
	if err != nil {
		return 0, fmt.Errorf("docker runtime: exec in %s: %w", shortID(id), err)
	}
	hj, err := r.cli.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{Tty: s.TTY})
	if err != nil {
		return 0, fmt.Errorf("docker runtime: exec in %s: %w", shortID(id), err)
	}
	defer hj.Close()
	if s.Resize != nil {
		go func() {
			for sz := range s.Resize {
				_ = r.cli.ContainerExecResize(ctx, ex.ID, container.ResizeOptions{Width: uint(sz.Width), Height: uint(sz.Height)})
			}
		}()
	}
	if s.Stdin != nil {
		go func() {
			_, _ = io.Copy(hj.Conn, s.Stdin)
			_ = hj.CloseWrite()
		}()
	}
	if err := copyOutput(ctx, hj.Reader, s); err != nil {
		return 0, err
	}
	insp, err := r.cli.ContainerExecInspect(ctx, ex.ID)
	if err != nil {
		return 0, fmt.Errorf("docker runtime: exec in %s: %w", shortID(id), err)
	}
	return insp.ExitCode, nil
}

// Attach implements runtime.Runtime: `docker attach` (stdin reaches the
// process when its container was created with stdin open).
func (r *Runtime) Attach(ctx context.Context, id string, s runtime.Streams) error {
	if _, err := r.get(id); err != nil {
		return err
	}
	hj, err := r.cli.ContainerAttach(ctx, id, container.AttachOptions{Stream: true,
		Stdin: s.Stdin != nil, Stdout: s.Stdout != nil, Stderr: s.Stderr != nil})
	if err != nil {
		return fmt.Errorf("docker runtime: attach %s: %w", shortID(id), err)
	}
	defer hj.Close()
	if s.Resize != nil {
		go func() {
			for sz := range s.Resize {
				_ = r.cli.ContainerResize(ctx, id, container.ResizeOptions{Width: uint(sz.Width), Height: uint(sz.Height)})
			}
		}()
	}
	if s.Stdin != nil {
		go func() {
			_, _ = io.Copy(hj.Conn, s.Stdin)
			_ = hj.CloseWrite()
		}()
	}
	return copyOutput(ctx, hj.Reader, s)
}

// copyOutput copies an attached stream to s: raw with a terminal,
// demultiplexed without.
func copyOutput(ctx context.Context, rd io.Reader, s runtime.Streams) error {
	out, errw := s.Stdout, s.Stderr
	if out == nil {
		out = io.Discard
	}
	if errw == nil {
		errw = io.Discard
	}
	done := make(chan error, 1)
	go func() {
		var err error
		if s.TTY {
			_, err = io.Copy(out, rd)
		} else {
			_, err = stdcopy.StdCopy(out, errw, rd)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == io.EOF {
			err = nil
		}
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
