package sim

import (
	"bytes"
	"context"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

func TestScriptable(t *testing.T) {
	tests := []struct {
		argv []string
		want bool
	}{
		{[]string{"echo", "hi"}, true},
		{[]string{"/bin/true"}, true},
		{[]string{"sh", "-c", "echo a && false || echo b; exit 3"}, true},
		{[]string{"sh", "-c", `echo "$HOSTNAME" > /tmp/x; cat /tmp/x`}, true},
		{[]string{"sh", "-c", "echo a | grep a"}, false},
		{[]string{"sh", "-c", "echo $(date)"}, false},
		{[]string{"sh", "-c", "echo a>b"}, false},
		{[]string{"sh", "-c", "sleep 10"}, false},
		{[]string{"sh", "-c", "nginx &"}, false},
		{[]string{"sh"}, false},
		{[]string{"perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"}, false},
		{[]string{"sleep", "3600"}, false},
		{nil, false},
	}
	for _, tc := range tests {
		if got := scriptable(tc.argv); got != tc.want {
			t.Errorf("scriptable(%q) = %v, want %v", tc.argv, got, tc.want)
		}
	}
}

func TestScriptRuns(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		cmd       []string
		complete  bool
		ephemeral bool
		ann       map[string]string
		exits     bool
		code      int
		logs      string // exact, or "" to skip
		header    bool   // the sim's own start line is logged
	}{
		{name: "echo prints", cmd: []string{"echo", "hello", "world"}, complete: true, exits: true, logs: "hello world\n"},
		{name: "shell list fails", cmd: []string{"sh", "-c", "echo a && false"}, complete: true, exits: true, code: 1, logs: "a\n"},
		{name: "exit code", cmd: []string{"sh", "-c", "exit 3"}, complete: true, exits: true, code: 3, logs: ""},
		{name: "annotation wins", cmd: []string{"true"}, complete: true, ann: map[string]string{AnnotationExitCode: "4"}, exits: true, code: 4},
		{name: "unknown program keeps the sim", cmd: []string{"perl", "-e", "1"}, complete: true, exits: true, header: true},
		{name: "exit-after annotation delays the exit", cmd: []string{"echo", "x"}, complete: true, ann: map[string]string{AnnotationExitAfter: "1s"}, exits: true, logs: "x\n"},
		{name: "restarting pod keeps running", cmd: []string{"echo", "hi"}, exits: false, header: true},
		{name: "ephemeral command exits", cmd: []string{"true"}, ephemeral: true, exits: true},
		{name: "ephemeral shell stays", ephemeral: true, exits: false, header: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
			rt := New(Options{Clock: clk})
			defer rt.Close()
			sp := spec("c", tc.ann)
			sp.Image, sp.Command = "busybox", tc.cmd
			sp.RunToCompletion, sp.Ephemeral = tc.complete, tc.ephemeral
			notified := make(chan runtime.Status, 4)
			st, err := rt.Start(ctx, sp, func(s runtime.Status) { notified <- s })
			if err != nil {
				t.Fatal(err)
			}
			clk.Step(DefaultCompleteAfter)
			if tc.exits && st.State != runtime.StateExited { // the sim's own completion notifies
				select {
				case <-notified:
				case <-time.After(5 * time.Second):
					t.Fatal("did not exit")
				}
			}
			got, _ := rt.Status(ctx, st.ID)
			if exited := got.State == runtime.StateExited; exited != tc.exits || (exited && got.ExitCode != tc.code) {
				t.Fatalf("state %s code %d, want exited=%v code %d", got.State, got.ExitCode, tc.exits, tc.code)
			}
			var logs bytes.Buffer
			if err := rt.Logs(ctx, st.ID, runtime.LogOptions{TailLines: -1}, &logs); err != nil {
				t.Fatal(err)
			}
			if hasHeader := bytes.HasPrefix(logs.Bytes(), []byte("sim: container c of pod")); hasHeader != tc.header {
				t.Errorf("logs %q: sim start line %v, want %v", logs.String(), hasHeader, tc.header)
			}
			if tc.logs != "" && logs.String() != tc.logs {
				t.Errorf("logs %q, want %q", logs.String(), tc.logs)
			}
		})
	}
}
