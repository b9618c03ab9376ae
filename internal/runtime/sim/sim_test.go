package sim

import (
	"context"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/stratus-cloud/stratus/internal/runtime"
	"github.com/stratus-cloud/stratus/internal/runtime/runtimetest"
)

func spec(name string, ann map[string]string) runtime.ContainerSpec {
	return runtime.ContainerSpec{PodNamespace: "default", PodName: "pod-" + name, PodUID: "uid-" + name, Name: name, Image: "nginx", Annotations: ann}
}

func TestConformance(t *testing.T) {
	runtimetest.Run(t, runtimetest.Harness{
		New: func(t *testing.T) runtime.Runtime {
			return New(Options{Ports: true, StartLatency: 10 * time.Millisecond})
		},
		LongRunning: func(name string) runtime.ContainerSpec { return spec(name, nil) },
		Exiting: func(name, output string, code int) runtime.ContainerSpec {
			return spec(name, map[string]string{AnnotationExitAfter: "20ms", AnnotationExitCode: itoa(code), AnnotationOutput: output})
		},
		WithPort: func(name, ip string, port int32) runtime.ContainerSpec {
			s := spec(name, nil)
			s.PodIP = ip
			s.Ports = []runtime.Port{{Port: port}}
			return s
		},
	})
}

func itoa(i int) string { return string(rune('0' + i)) }

func TestBehaviourFromAnnotations(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	rt := New(Options{Clock: clk, StartLatency: time.Second})
	defer rt.Close()
	ctx := context.Background()

	tests := []struct {
		name      string
		ann       map[string]string
		complete  bool // the pod runs to completion
		atStart   runtime.State
		advance   time.Duration
		after     runtime.State
		exitCode  int
		wantError bool
	}{
		{name: "default latency", atStart: runtime.StateCreated, advance: time.Second, after: runtime.StateRunning},
		{name: "no latency", ann: map[string]string{AnnotationStartLatency: "0s"}, atStart: runtime.StateRunning, after: runtime.StateRunning},
		{name: "exits later", ann: map[string]string{AnnotationStartLatency: "0s", AnnotationExitAfter: "5s", AnnotationExitCode: "2"}, atStart: runtime.StateRunning, advance: 5 * time.Second, after: runtime.StateExited, exitCode: 2},
		{name: "always fails", ann: map[string]string{AnnotationStartLatency: "0s", AnnotationFailureRate: "1"}, atStart: runtime.StateExited, after: runtime.StateExited, exitCode: 1},
		{name: "runs to completion", ann: map[string]string{AnnotationStartLatency: "0s"}, complete: true, atStart: runtime.StateRunning, advance: DefaultCompleteAfter, after: runtime.StateExited},
		{name: "runs to completion, then fails", ann: map[string]string{AnnotationStartLatency: "0s", AnnotationExitCode: "3"}, complete: true, atStart: runtime.StateRunning, advance: DefaultCompleteAfter, after: runtime.StateExited, exitCode: 3},
		{name: "runs to completion later", ann: map[string]string{AnnotationStartLatency: "0s", AnnotationExitAfter: "1m"}, complete: true, atStart: runtime.StateRunning, advance: time.Minute, after: runtime.StateExited},
		{name: "bad annotation", ann: map[string]string{AnnotationExitAfter: "soon"}, wantError: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			notified := make(chan runtime.Status, 4)
			sp := spec("c", tc.ann)
			sp.RunToCompletion = tc.complete
			st, err := rt.Start(ctx, sp, func(s runtime.Status) { notified <- s })
			if tc.wantError {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.State != tc.atStart {
				t.Fatalf("at start %s, want %s", st.State, tc.atStart)
			}
			if tc.advance > 0 {
				clk.Step(tc.advance)
				select {
				case <-notified:
				case <-time.After(5 * time.Second):
					t.Fatal("no notification after the clock moved")
				}
			}
			got, _ := rt.Status(ctx, st.ID)
			if got.State != tc.after || got.ExitCode != tc.exitCode {
				t.Fatalf("after: %s code %d, want %s code %d", got.State, got.ExitCode, tc.after, tc.exitCode)
			}
		})
	}
}

func TestListenerLimit(t *testing.T) {
	rt := New(Options{Ports: true, MaxListeners: 1})
	defer rt.Close()
	for i, ip := range []string{"127.0.0.1", "127.0.0.2"} {
		s := spec(itoa(i), nil)
		s.PodIP = ip
		s.Ports = []runtime.Port{{Port: 0}}
		if _, err := rt.Start(context.Background(), s, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := rt.Listeners(); n != 1 {
		t.Fatalf("%d listeners, want 1", n)
	}
}

func BenchmarkStart(b *testing.B) {
	rt := New(Options{})
	defer rt.Close()
	s := spec("c", nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		st, err := rt.Start(ctx, s, nil)
		if err != nil {
			b.Fatal(err)
		}
		_ = rt.Remove(ctx, st.ID)
	}
}
