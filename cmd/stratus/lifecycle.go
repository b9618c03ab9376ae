package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratus-cloud/stratus/internal/datadir"
)

// The life-cycle commands minikube and kind users expect: `up --detach`,
// `status` and `stop`.

func newStatusCmd() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether stratus runs from a data dir, its addresses and each part's readiness",
		Long: `Show whether a stratus runs from the data directory and, if so, its addresses
and the readiness of each of its parts (from its /readyz?verbose). Exits 0 when
it runs and is ready, 1 otherwise.`,
		Example: `  stratus status
  stratus status --data-dir /tmp/cloud`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStatus(cmd.Context(), cmd.OutOrStdout(), dataDir)
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", defaultDataDir(), "data directory of the stratus to look at")
	return cmd
}

// partAddress says where a part of `stratus up` answers, for status.
func partAddress(part string, st datadir.State) string {
	switch part {
	case "cloud":
		return st.HTTPURL + "/client/api (CloudStack)"
	case "kube-apiserver":
		return st.KubeURL
	case "gce":
		return st.HTTPURL + "/compute/v1/"
	case "dashboard":
		return st.HTTPURL + "/client/"
	case "http":
		return st.HTTPURL + " (/metrics, /healthz, /readyz)"
	}
	return ""
}

// holderOf returns the data dir's absolute path and the pid of the
// stratus running from it (0: none).
func holderOf(dataDir string) (string, int, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return "", 0, err
	}
	pid, err := datadir.Holder(abs)
	return abs, pid, err
}

func runStatus(ctx context.Context, w io.Writer, dataDir string) error {
	abs, pid, err := holderOf(dataDir)
	if err != nil {
		return err
	}
	if pid == 0 {
		fmt.Fprintf(w, "stratus is not running from %s\n", abs)
		return errors.New("not running; start it with 'stratus up' (or 'stratus up --detach')")
	}
	st, err := datadir.ReadState(abs)
	if err != nil {
		fmt.Fprintf(w, "stratus (pid %d) is starting from %s\n", pid, abs)
		return errors.New("not ready yet")
	}
	fmt.Fprintf(w, "stratus is running from %s (pid %d)\n", abs, pid)
	if log := filepath.Join(abs, datadir.LogFile); fileExistsFor(log, pid, abs) {
		fmt.Fprintf(w, "  %-20s %s\n", "log", log)
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, st.HTTPURL+"/readyz?verbose", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("ask %s/readyz: %w", st.HTTPURL, err)
	}
	defer resp.Body.Close()
	ready := resp.StatusCode == http.StatusOK
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		var state, name string
		switch {
		case strings.HasPrefix(line, "[+]"):
			state, name = "ready", strings.TrimSuffix(line[3:], " ok")
		case strings.HasPrefix(line, "[-]"):
			state, name = "NOT READY", strings.TrimSuffix(line[3:], " not ready")
		default:
			continue
		}
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("  %-20s %-10s %s", name, state, partAddress(name, st)), " "))
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if !ready {
		return errors.New("not ready")
	}
	fmt.Fprintln(w, "ready")
	return nil
}

// fileExistsFor reports whether the detached run's log belongs to pid
// (the pid file names it).
func fileExistsFor(log string, pid int, dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, datadir.PIDFile))
	if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(pid) {
		return false
	}
	_, err = os.Stat(log)
	return err == nil
}

func newStopCmd() *cobra.Command {
	var dataDir string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "stop",
		Short: "Stop the stratus running from a data dir (e.g. one started with 'up --detach')",
		Long: `Stop the stratus running from the data directory, as Ctrl-C would: it stops
every part cleanly and keeps its state for the next 'stratus up'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStop(cmd.Context(), cmd.OutOrStdout(), dataDir, timeout)
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", defaultDataDir(), "data directory of the stratus to stop")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait for it to stop")
	return cmd
}

func runStop(ctx context.Context, w io.Writer, dataDir string, timeout time.Duration) error {
	abs, pid, err := holderOf(dataDir)
	if err != nil {
		return err
	}
	if pid == 0 {
		fmt.Fprintf(w, "stratus is not running from %s; nothing to stop\n", abs)
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop pid %d: %w", pid, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		held, err := datadir.Holder(abs)
		if err != nil {
			return err
		}
		if held != pid {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stratus (pid %d) still runs after %v; 'kill -9 %d' ends it without a clean stop", pid, timeout, pid)
		case <-tick.C:
		}
	}
	removeOwnPIDFile(abs, pid)
	fmt.Fprintf(w, "stopped stratus (pid %d) running from %s\n", pid, abs)
	return nil
}

// removeOwnPIDFile removes the data dir's pid file if it names pid.
func removeOwnPIDFile(dir string, pid int) {
	p := filepath.Join(dir, datadir.PIDFile)
	if b, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(pid) {
		_ = os.Remove(p)
	}
}

// runDetached starts `stratus up` with the same flags in the background,
// in a session of its own, writing to the data dir's log file and its pid
// to the pid file; it returns once that stratus is up (its banner is
// printed, or with jsonOut its `--output json` line alone) or has failed
// (its log's end is printed).
func runDetached(ctx context.Context, stdout io.Writer, dataDir string, jsonOut bool) error {
	abs, pid, err := holderOf(dataDir)
	if err != nil {
		return err
	}
	if pid != 0 {
		return fmt.Errorf("%w: %s (pid %d); stop it with '%s' or use another --data-dir", datadir.ErrInUse, abs, pid, subCommand("stop", abs))
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var args []string
	for _, a := range os.Args[1:] {
		if a == "--detach" || strings.HasPrefix(a, "--detach=") {
			continue
		}
		args = append(args, a)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return err
	}
	logPath := filepath.Join(abs, datadir.LogFile)
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	pid = cmd.Process.Pid
	pidPath := filepath.Join(abs, datadir.PIDFile)
	if err := os.WriteFile(pidPath, []byte(strconv.Itoa(pid)+"\n"), 0o600); err != nil {
		_ = cmd.Process.Kill()
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		b, _ := os.ReadFile(logPath)
		if jsonOut {
			if line, ok := detachedJSON(string(b)); ok {
				fmt.Fprintln(stdout, line)
				return nil
			}
		} else if banner, ok := detachedBanner(string(b)); ok {
			fmt.Fprint(stdout, banner)
			fmt.Fprintf(stdout, "Running in the background (pid %d); log: %s\nStop it with: %s\n", pid, logPath, subCommand("stop", abs))
			return nil
		}
		select {
		case err := <-exited:
			_ = os.Remove(pidPath)
			b, _ := os.ReadFile(logPath)
			return fmt.Errorf("stratus up exited (%v); the end of %s:\n%s", err, logPath, lastLines(string(b), 20))
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGTERM)
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// detachedBanner picks the banner out of a log that holds log lines too,
// once it is complete, without its "Press Ctrl-C" line.
func detachedBanner(log string) (string, bool) {
	end := strings.Index(log, "\nPress Ctrl-C to stop.\n")
	if end < 0 {
		return "", false
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(log[:end+1], "\n") {
		if strings.HasPrefix(line, "time=") || strings.HasPrefix(line, "{") || line == "" {
			continue
		}
		b.WriteString(line)
	}
	return b.String(), true
}

// detachedJSON picks the `up --output json` line out of a log that holds
// log lines too (JSON ones start with "time", that line with "pid").
func detachedJSON(log string) (string, bool) {
	for _, line := range strings.SplitAfter(log, "\n") {
		if strings.HasPrefix(line, `{"pid":`) && strings.HasSuffix(line, "\n") {
			return strings.TrimSuffix(line, "\n"), true
		}
	}
	return "", false
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
