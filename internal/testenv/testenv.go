// Package testenv helps tests that need an outside program (etcd, kubectl,
// gcloud, chromium, docker): they skip with a clear reason on a developer's
// machine that lacks it, and fail under CI=true so CI never goes green by
// skipping.
package testenv

import (
	"log/slog"
	"os"
	"os/exec"
	"testing"
	"time"
)

// InCI reports whether the tests run under CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Need skips (or, in CI, fails) the test with reason when ok is false.
func Need(t testing.TB, ok bool, reason string) {
	t.Helper()
	if ok {
		return
	}
	if InCI() {
		t.Fatalf("CI=true and %s", reason)
	}
	t.Skip(reason)
}

// LookPath returns the path of the named program, or skips (fails in CI)
// naming what to install.
func LookPath(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	Need(t, err == nil, name+" not found on PATH (install: "+install+")")
	return p
}

// Eventually polls cond every few milliseconds until it holds, and fails
// the test when within passes first: the one poller of the tests.
func Eventually(tb testing.TB, within time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Logger is the one logger of the tests: silent, unless STRATUS_TEST_LOG is
// set, when it writes debug lines to stderr so a failing test can be rerun
// with the parts' own account of what happened.
func Logger() *slog.Logger {
	if os.Getenv("STRATUS_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}
