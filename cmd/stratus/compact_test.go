package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestCompactCommand: `stratus compact` rewrites a stopped server's store
// file, refuses a running one's, and the server starts again on the result.
func TestCompactCommand(t *testing.T) {
	dir := t.TempDir()
	p := startUp(t, dir, "--runtime", "sim")
	p.waitReady(t, 60*time.Second)
	out, err := exec.Command(stratusBinary(t), "compact", "--data-dir", dir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use") {
		t.Fatalf("compact of a running server's dir: err=%v out=%s", err, out)
	}
	p.stop(t)
	out, err = exec.Command(stratusBinary(t), "compact", "--data-dir", dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "bytes ->") {
		t.Fatalf("compact: err=%v out=%s", err, out)
	}
	p2 := startUp(t, dir, "--runtime", "sim")
	p2.waitReady(t, 60*time.Second)
	p2.stop(t)
}
