package exec

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/runtime"
	"github.com/stratus-cloud/stratus/internal/runtime/runtimetest"
)

func TestConformance(t *testing.T) {
	runtimetest.Run(t, runtimetest.Harness{
		New: func(t *testing.T) runtime.Runtime { return New(Options{Dir: t.TempDir()}) },
		LongRunning: func(name string) runtime.ContainerSpec {
			return runtime.ContainerSpec{PodName: "p-" + name, Name: name, Command: []string{"sleep", "60"}}
		},
		Exiting: func(name, output string, code int) runtime.ContainerSpec {
			return runtime.ContainerSpec{PodName: "p-" + name, Name: name, Command: []string{"sh", "-c", fmt.Sprintf("echo %q; exit %d", output, code)}}
		},
	})
}

func TestEnvAndWorkingDir(t *testing.T) {
	rt := New(Options{})
	defer rt.Close()
	dir := t.TempDir()
	done := make(chan runtime.Status, 1)
	st, err := rt.Start(context.Background(), runtime.ContainerSpec{
		PodName: "envpod", Name: "c",
		Command: []string{"sh", "-c"}, Args: []string{`echo "$GREETING $HOSTNAME $(pwd)"`},
		Env:        []runtime.EnvVar{{Name: "GREETING", Value: "hi"}},
		WorkingDir: dir,
	}, func(s runtime.Status) { done <- s })
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("no exit")
	}
	var b strings.Builder
	if err := rt.Logs(context.Background(), st.ID, runtime.LogOptions{TailLines: -1}, &b); err != nil {
		t.Fatal(err)
	}
	if want := "hi envpod " + dir + "\n"; b.String() != want {
		t.Fatalf("output %q, want %q", b.String(), want)
	}
}

func TestNoSuchProgram(t *testing.T) {
	rt := New(Options{})
	defer rt.Close()
	if _, err := rt.Start(context.Background(), runtime.ContainerSpec{Name: "c", Image: "no-such-program-xyz"}, nil); err == nil {
		t.Fatal("started a program that does not exist")
	}
}

func TestStopEscalatesToKill(t *testing.T) {
	rt := New(Options{})
	defer rt.Close()
	st, err := rt.Start(context.Background(), runtime.ContainerSpec{Name: "c", Command: []string{"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var b strings.Builder
		_ = rt.Logs(context.Background(), st.ID, runtime.LogOptions{TailLines: -1}, &b)
		if strings.Contains(b.String(), "ready") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("container never became ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t0 := time.Now()
	if err := rt.Stop(context.Background(), st.ID, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	got, _ := rt.Status(context.Background(), st.ID)
	if got.State != runtime.StateExited || got.ExitCode != 137 {
		t.Fatalf("after stop: %+v", got)
	}
	if time.Since(t0) < 200*time.Millisecond {
		t.Fatal("killed before the grace period")
	}
}

// TestExecTTY: exec with TTY runs on a terminal of its own (kubectl exec
// -it): the command sees a terminal on stdin and stdout, of the size the
// client sent, input is echoed by the terminal, and stderr comes on the
// one output stream; without TTY there is none.
func TestExecTTY(t *testing.T) {
	rt := New(Options{Dir: t.TempDir()})
	defer rt.Close()
	ctx := context.Background()
	st, err := rt.Start(ctx, runtime.ContainerSpec{PodName: "ttypod", Name: "c", Command: []string{"sleep", "60"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rt.Stop(ctx, st.ID, time.Second) }()
	script := `if [ -t 0 ] && [ -t 1 ]; then echo terminal; else echo none; fi; stty size; read line; echo "got $line" >&2; exit 3`
	for _, c := range []struct {
		name     string
		tty      bool
		code     int
		want     []string
		wantNone []string
	}{
		{"tty", true, 3, []string{"terminal", "30 100", "hello\r\n", "got hello"}, []string{"none"}},
		{"no tty", false, 3, []string{"none"}, []string{"terminal", "30 100"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			resize := make(chan runtime.TermSize, 1)
			resize <- runtime.TermSize{Width: 100, Height: 30}
			close(resize)
			var out, errOut strings.Builder
			code, err := rt.Exec(ctx, st.ID, []string{"sh", "-c", script}, runtime.Streams{
				Stdin: strings.NewReader("hello\n"), Stdout: &out, Stderr: &errOut, TTY: c.tty, Resize: resize})
			if err != nil || code != c.code {
				t.Fatalf("exit %d, %v; want %d (output %q, stderr %q)", code, err, c.code, out.String(), errOut.String())
			}
			all := out.String() + errOut.String()
			for _, w := range c.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output %q lacks %q", out.String(), w)
				}
			}
			for _, w := range c.wantNone {
				if strings.Contains(all, w) {
					t.Errorf("output %q has %q", all, w)
				}
			}
			if c.tty && errOut.Len() > 0 {
				t.Errorf("stderr apart from the terminal: %q", errOut.String())
			}
		})
	}
}
