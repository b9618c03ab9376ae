package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// serverProfile takes a CPU profile of the server running from dataDir
// while a benchmark runs, when STRATUS_BENCH_PROFILE names a directory
// (STRATUS_BENCH_PROFILE_SECONDS long, default 10): it starts one through
// the admin API and returns the function that waits for it and saves it
// as DIR/NAME.pb.gz. Without the variable it does nothing.
func serverProfile(tb testing.TB, dataDir, name string) (wait func()) {
	tb.Helper()
	dir := os.Getenv("STRATUS_BENCH_PROFILE")
	if dir == "" {
		return func() {}
	}
	secs := 10
	if v, err := strconv.Atoi(os.Getenv("STRATUS_BENCH_PROFILE_SECONDS")); err == nil && v > 0 {
		secs = v
	}
	ac, err := newAdminClient(dataDir)
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs+30)*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, ac.url+"debug/pprof/profile?seconds="+strconv.Itoa(secs), nil)
		if err != nil {
			done <- err
			return
		}
		req.Header.Set("Authorization", "Bearer "+ac.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s: %s", resp.Status, b)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name+".pb.gz"), b, 0o644)
		}
		done <- err
	}()
	return func() {
		if err := <-done; err != nil {
			tb.Logf("profile %s: %v", name, err)
		}
	}
}
