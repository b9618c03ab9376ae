package docker

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

func TestStatusOf(t *testing.T) {
	start := "2026-01-02T03:04:05.123456789Z"
	end := "2026-01-02T03:04:09Z"
	zero := "0001-01-01T00:00:00Z"
	tests := []struct {
		name  string
		state container.State
		want  runtime.Status
	}{
		{"created", container.State{Status: "created", StartedAt: zero, FinishedAt: zero}, runtime.Status{State: runtime.StateCreated}},
		{"running", container.State{Status: "running", Running: true, StartedAt: start, FinishedAt: zero},
			runtime.Status{State: runtime.StateRunning, StartedAt: parseTime(start)}},
		{"paused counts as running", container.State{Status: "paused", StartedAt: start, FinishedAt: zero},
			runtime.Status{State: runtime.StateRunning, StartedAt: parseTime(start)}},
		{"completed", container.State{Status: "exited", StartedAt: start, FinishedAt: end},
			runtime.Status{State: runtime.StateExited, StartedAt: parseTime(start), FinishedAt: parseTime(end), Reason: "Completed"}},
		{"error", container.State{Status: "exited", ExitCode: 2, StartedAt: start, FinishedAt: end},
			runtime.Status{State: runtime.StateExited, ExitCode: 2, StartedAt: parseTime(start), FinishedAt: parseTime(end), Reason: "Error"}},
		{"oom", container.State{Status: "exited", ExitCode: 137, OOMKilled: true, StartedAt: start, FinishedAt: end},
			runtime.Status{State: runtime.StateExited, ExitCode: 137, StartedAt: parseTime(start), FinishedAt: parseTime(end), Reason: "OOMKilled"}},
		{"start error", container.State{Status: "exited", ExitCode: 127, Error: "exec: no such file", StartedAt: start, FinishedAt: end},
			runtime.Status{State: runtime.StateExited, ExitCode: 127, StartedAt: parseTime(start), FinishedAt: parseTime(end), Reason: "StartError", Message: "exec: no such file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.state
			got := statusOf(container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{ID: "x", State: &s}})
			tc.want.ID = "x"
			if got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestPullBackoff(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(time.Unix(1000, 0))
	b := newPullBackoff(clk)
	steps := []struct {
		advance time.Duration
		fail    bool // record a failure after checking
		want    bool // in back-off at the check
	}{
		{0, true, false},
		{9 * time.Second, false, true},
		{time.Second, true, false}, // 10 s passed; fails again → 20 s
		{19 * time.Second, false, true},
		{time.Second, true, false}, // → 40 s
		{39 * time.Second, false, true},
		{time.Second, false, false},
	}
	for i, s := range steps {
		clk.SetTime(clk.Now().Add(s.advance))
		if got := b.inBackoff("k"); got != s.want {
			t.Fatalf("step %d: inBackoff %v, want %v", i, got, s.want)
		}
		if s.fail {
			b.failed("k")
		}
	}
	for range 10 {
		b.failed("k")
	}
	if e := b.m["k"]; e.delay != pullBackoffMax {
		t.Errorf("delay %v, want the cap %v", e.delay, pullBackoffMax)
	}
	b.succeeded("k")
	if b.inBackoff("k") {
		t.Error("in back-off after a successful pull")
	}
}

func TestLimitWriter(t *testing.T) {
	var b bytes.Buffer
	w := &limitWriter{w: &b, left: 5}
	if n, err := w.Write([]byte("abc")); n != 3 || err != nil {
		t.Fatal(n, err)
	}
	if n, err := w.Write([]byte("defg")); n != 2 || !errors.Is(err, errLimit) {
		t.Fatal(n, err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, errLimit) {
		t.Fatal(err)
	}
	if b.String() != "abcde" {
		t.Fatal(b.String())
	}
}

func TestContainerName(t *testing.T) {
	s := runtime.ContainerSpec{PodName: "web-1", PodNamespace: "kube_system", PodUID: "0123456789abcdef", Attempt: 2}
	got := containerName("stratus", "nginx", s)
	prefix := "stratus_nginx_web-1_kube-system_01234567_2_"
	if !strings.HasPrefix(got, prefix) || len(got) != len(prefix)+8 {
		t.Fatalf("name %q", got)
	}
	if containerName("stratus", "nginx", s) == got {
		t.Error("two names alike")
	}
}

// TestPauseProgram runs the sandbox programs: natively for this host's
// architecture, and for the other under qemu-user when it is installed.
// Each must load, and wait rather than exit or spin.
func TestPauseProgram(t *testing.T) {
	if _, ok := pauseProgram("s390x"); ok {
		t.Error("pause program for an unknown architecture")
	}
	if goruntime.GOOS != "linux" {
		t.Skip("not Linux")
	}
	for _, tc := range []struct{ arch, qemu string }{{"amd64", "qemu-x86_64-static"}, {"arm64", "qemu-aarch64-static"}} {
		t.Run(tc.arch, func(t *testing.T) {
			elf, ok := pauseProgram(tc.arch)
			if !ok {
				t.Fatalf("no pause program for %s", tc.arch)
			}
			path := filepath.Join(t.TempDir(), "pause")
			if err := os.WriteFile(path, elf, 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(path)
			if tc.arch != goruntime.GOARCH {
				q, err := exec.LookPath(tc.qemu)
				if err != nil {
					t.Skipf("not %s and no %s", tc.arch, tc.qemu)
				}
				cmd = exec.Command(q, path)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				t.Fatalf("pause exited by itself: %v", err)
			case <-time.After(300 * time.Millisecond):
			}
			_ = cmd.Process.Kill()
			<-done
			if u := cmd.ProcessState.UserTime(); u > 200*time.Millisecond {
				t.Errorf("pause spent %v of CPU time in 300 ms: it spins", u)
			}
		})
	}
}

// TestExtraHosts: aliases are written as given, except those at a
// loopback address, which go to the address of a pod behind them when
// this runtime runs one.
func TestExtraHosts(t *testing.T) {
	sandboxes := map[string]string{"127.128.0.5": "172.17.0.5", "127.128.0.6": "172.17.0.6"}
	addr := func(podIP string) string { return sandboxes[podIP] }
	tests := []struct {
		name        string
		aliases     []runtime.HostAlias
		want        []string
		unreachable int
	}{
		{"none", nil, nil, 0},
		{"not loopback: as given", []runtime.HostAlias{{IP: "10.1.2.3", Hostnames: []string{"foo", "foo.local"}, Backends: []string{"127.128.0.5"}}},
			[]string{"foo:10.1.2.3", "foo.local:10.1.2.3"}, 0},
		{"cluster IP: its first backend that runs here", []runtime.HostAlias{{IP: "127.100.0.9", Hostnames: []string{"backend", "web"}, Backends: []string{"127.128.9.9", "127.128.0.6", "127.128.0.5"}}},
			[]string{"backend:172.17.0.6", "web:172.17.0.6"}, 0},
		{"a pod IP of this runtime", []runtime.HostAlias{{IP: "127.128.0.5", Hostnames: []string{"peer"}}},
			[]string{"peer:172.17.0.5"}, 0},
		{"loopback nobody runs: as given", []runtime.HostAlias{{IP: "127.100.0.7", Hostnames: []string{"gone"}, Backends: []string{"127.128.9.9"}}},
			[]string{"gone:127.100.0.7"}, 1},
		{"IPv6 loopback", []runtime.HostAlias{{IP: "::1", Hostnames: []string{"six"}}}, []string{"six:::1"}, 1},
		{"order kept, empty names skipped", []runtime.HostAlias{
			{IP: "10.0.0.1", Hostnames: []string{"b", ""}},
			{IP: "127.100.0.1", Hostnames: []string{"a"}, Backends: []string{"127.128.0.5"}},
		}, []string{"b:10.0.0.1", "a:172.17.0.5"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := extraHosts(tc.aliases, addr)
			if strings.Join(got.entries, " ") != strings.Join(tc.want, " ") {
				t.Errorf("entries %q, want %q", got.entries, tc.want)
			}
			if len(got.unreachable) != tc.unreachable {
				t.Errorf("unreachable %v, want %d", got.unreachable, tc.unreachable)
			}
		})
	}
}
