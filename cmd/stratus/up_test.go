package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/datadir"
)

func TestUpStopsCleanlyAndRestarts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := startUp(t, dir)
	p.waitReady(t, 60*time.Second)
	banner := <-p.banner
	for _, want := range []string{"is up", dir, "Metrics", "Press Ctrl-C"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	resp, err := http.Get("http://" + p.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}

	// A second stratus on the same data dir refuses at once.
	out, err := exec.Command(stratusBinary(t), "up", "--data-dir", dir, "--http-addr", freeAddr(t), "--kube-addr", freeAddr(t)).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use by another running stratus") {
		t.Fatalf("second up on the same data dir: err=%v out=%s", err, out)
	}

	p.stop(t)
	if _, err := os.Stat(filepath.Join(dir, "state.json")); !os.IsNotExist(err) {
		t.Fatalf("state file left behind after a clean stop: %v", err)
	}
	// The next up with the same data dir starts again.
	p2 := startUp(t, dir)
	p2.waitReady(t, 60*time.Second)
	p2.stop(t)
}

func TestEnvWithoutServer(t *testing.T) {
	out, err := exec.Command(stratusBinary(t), "env", "kubectl", "--data-dir", t.TempDir()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no stratus is running") {
		t.Fatalf("env without a server: err=%v out=%s", err, out)
	}
}

func TestUpRejectsBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--store", "nosuch"}, "--store"},
		{[]string{"--log-level", "loud"}, "--log-level"},
		{[]string{"--log-format", "xml"}, "--log-format"},
		{[]string{"--output", "xml"}, "--output"},
		{[]string{"--net-slot", "many"}, "--net-slot"},
		{[]string{"--net-slot", "99"}, "network slot 99"},
	} {
		args := append([]string{"up", "--data-dir", t.TempDir(), "--http-addr", freeAddr(t), "--kube-addr", freeAddr(t)}, tc.args...)
		out, err := exec.Command(stratusBinary(t), args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("up %v: err=%v out=%s", tc.args, err, out)
		}
	}
}

func TestPrintJoinCommand(t *testing.T) {
	for _, tc := range []struct {
		name    string
		st      datadir.State
		want    string
		wantErr bool
	}{
		{"plain", datadir.State{KubeURL: "https://127.0.0.1:6443", JoinToken: "abc.def"}, "stratus agent --server https://127.0.0.1:6443 --token abc.def\n", false},
		{"quoted", datadir.State{KubeURL: "https://127.0.0.1:6443", JoinToken: "a b'c"}, "stratus agent --server https://127.0.0.1:6443 --token 'a b'\\''c'\n", false},
		{"no kube", datadir.State{HTTPURL: "http://127.0.0.1:8080"}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			err := printJoinCommand(&b, tc.st)
			if (err != nil) != tc.wantErr || b.String() != tc.want {
				t.Fatalf("got %q, %v; want %q (error %v)", b.String(), err, tc.want, tc.wantErr)
			}
		})
	}
}
