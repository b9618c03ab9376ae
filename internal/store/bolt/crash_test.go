package bolt

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/stratus-cloud/stratus/internal/store"
)

// The crash test's child: it re-runs this test binary with these set.
const (
	envCrashPath = "STRATUS_BOLT_CRASH_PATH"
	envCrashRun  = "STRATUS_BOLT_CRASH_RUN"
)

// TestCrashChild is the child side of TestCrash: it writes as fast as it
// can from several goroutines and prints each acknowledged write
// ("P key rev", "D key rev") only after Txn returned, and each delete it
// asks for ("W key") before asking. It never ends by
// itself; the parent kills it.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(envCrashPath)
	if path == "" {
		t.Skip("only run as TestCrash's child")
	}
	run := os.Getenv(envCrashRun)
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		line := fmt.Sprintf(format+"\n", args...)
		outMu.Lock()
		_, _ = os.Stdout.WriteString(line) // one write: whole lines or nothing
		outMu.Unlock()
	}
	// Odd rounds checkpoint the log into the file every few batches, so
	// kills land in checkpoints too; even rounds keep the default.
	var cp int64
	if n, _ := strconv.Atoi(run); n%2 == 1 {
		cp = 16 << 10
	}
	s, err := Open(path, Options{LockTimeout: 5 * time.Second, CheckpointBytes: cp})
	if err != nil {
		say("ERR %v", strings.ReplaceAll(err.Error(), "\n", " "))
		os.Exit(3)
	}
	rev, _ := s.Rev(context.Background())
	say("READY %d", rev)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []string
			for i := 0; ; i++ {
				key := fmt.Sprintf("/crash/%s/%d/%d", run, g, i)
				ops := []store.Op{store.Create(key, []byte(key))}
				var del string
				if i%5 == 4 && len(mine) > 2 {
					del = mine[len(mine)-3]
					ops = append(ops, store.Delete(del))
				}
				if del != "" {
					// Once asked, the delete may commit even if the kill
					// comes before its acknowledgement.
					say("W %s", del)
				}
				res, err := s.Txn(ctx, ops...)
				if err != nil {
					say("ERR %v", err)
					os.Exit(3)
				}
				// One write for the whole transaction, so a kill cannot
				// cut its acknowledgement in half.
				if del != "" {
					say("P %s %d\nD %s %d", key, res.Rev, del, res.Rev)
				} else {
					say("P %s %d", key, res.Rev)
				}
				mine = append(mine, key)
			}
		}()
	}
	wg.Wait()
}

// TestCrash SIGKILLs a writing child at random moments, many times over,
// and after each kill checks that every acknowledged write is in the file,
// the revision never went back, and the file opens cleanly.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test in -short mode")
	}
	path := filepath.Join(t.TempDir(), "stratus.db")
	// key -> acknowledged revision; -1: deleted; -2: a delete was asked for
	// but not acknowledged, so the key may or may not be there.
	want := map[string]int64{}
	var maxAcked int64
	budget := time.Now().Add(12 * time.Second)
	rounds, acks := 0, 0
	var all []string
	defer func() {
		if t.Failed() { // the child's last words, for the post-mortem
			for _, l := range all[max(0, len(all)-100):] {
				t.Log(l)
			}
		}
	}()
	for ; rounds < 40 && time.Now().Before(budget); rounds++ {
		lines, err := crashRound(t, path, rounds)
		if err != nil {
			t.Fatalf("round %d: %v", rounds, err)
		}
		all = append(all, lines...)
		for _, l := range lines {
			f := strings.Fields(l)
			switch {
			case len(f) == 2 && f[0] == "READY":
				r, _ := strconv.ParseInt(f[1], 10, 64)
				if r < maxAcked {
					t.Fatalf("round %d: reopened at revision %d, below acknowledged %d", rounds, r, maxAcked)
				}
			case len(f) == 2 && f[0] == "W":
				if want[f[1]] >= 0 {
					want[f[1]] = -2
				}
			case len(f) == 3 && (f[0] == "P" || f[0] == "D"):
				r, err := strconv.ParseInt(f[2], 10, 64)
				if err != nil {
					t.Fatalf("bad line %q", l)
				}
				if f[0] == "P" {
					want[f[1]] = r
				} else {
					want[f[1]] = -1
				}
				maxAcked = max(maxAcked, r)
				acks++
			case strings.HasPrefix(l, "ERR"):
				t.Fatalf("round %d: child: %s", rounds, l)
			}
		}
		checkFile(t, path, want, maxAcked)
	}
	if acks == 0 {
		t.Fatal("the child never acknowledged a write")
	}
	t.Logf("%d kills, %d acknowledged writes, all present after each; revision %d", rounds, acks, maxAcked)
}

// crashRound runs one child, kills it at a random moment and returns the
// complete lines it printed.
func crashRound(t *testing.T, path string, round int) ([]string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v=false", "-test.count=1")
	cmd.Env = append(os.Environ(), envCrashPath+"="+path, envCrashRun+"="+strconv.Itoa(round))
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	lineCh := make(chan string, 1024)
	go func() {
		defer close(lineCh)
		r := bufio.NewReader(out)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return // a fragment without its newline was never printed whole
			}
			lineCh <- strings.TrimSuffix(l, "\n")
		}
	}()
	// One round in five is killed early, maybe while opening; the rest
	// after a random stretch of writing.
	var kill <-chan time.Time
	early := round%5 == 1
	if early {
		kill = time.After(time.Duration(rand.IntN(30)) * time.Millisecond)
	}
	var lines []string
	deadline := time.After(20 * time.Second)
	for kill != nil || !early {
		select {
		case l, ok := <-lineCh:
			if !ok {
				_ = cmd.Wait()
				return lines, fmt.Errorf("child exited by itself: %v", lines[max(0, len(lines)-3):])
			}
			lines = append(lines, l)
			if strings.HasPrefix(l, "READY") && !early {
				kill = time.After(time.Duration(rand.IntN(250)) * time.Millisecond)
				early = true // from here, wait for the timer
			}
		case <-kill:
			kill = nil
		case <-deadline:
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return nil, fmt.Errorf("child not ready in time")
		}
	}
	_ = cmd.Process.Kill()
	for l := range lineCh {
		lines = append(lines, l)
	}
	_ = cmd.Wait()
	return lines, nil
}

// checkFile opens the store and compares it with what was acknowledged,
// then runs bbolt's own consistency check on the file.
func checkFile(t *testing.T, path string, want map[string]int64, maxAcked int64) {
	t.Helper()
	if _, err := os.Stat(path); os.IsNotExist(err) && len(want) == 0 {
		return // killed before the file was made
	}
	s, err := Open(path, testOptions())
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	ctx := context.Background()
	if r, _ := s.Rev(ctx); r < maxAcked {
		t.Fatalf("revision %d after reopen, acknowledged %d", r, maxAcked)
	}
	res, err := s.List(ctx, "/crash/", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	have := make(map[string]*store.KV, len(res.KVs))
	for _, kv := range res.KVs {
		have[kv.Key] = kv
	}
	for k, r := range want {
		kv, ok := have[k]
		switch {
		case r == -2:
		case r == -1 && ok:
			t.Fatalf("%s: acknowledged delete, still there", k)
		case r >= 0 && !ok:
			t.Fatalf("%s: acknowledged at revision %d, missing after the kill", k, r)
		case r >= 0 && (kv.ModRev != r || string(kv.Value) != k):
			t.Fatalf("%s: acknowledged at revision %d, found %+v", k, r, kv)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, PreLoadFreelist: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	}); err != nil {
		t.Fatalf("bbolt check: %v", err)
	}
}
