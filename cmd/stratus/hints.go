package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/stratus-cloud/stratus/internal/httpserver"
)

// selfCommand is how the user can run this binary again from the shell
// they started it in: "stratus" when that is this binary on PATH, else a
// path relative to the working directory ("./bin/stratus" after `make
// run`), else the absolute path.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "stratus"
	}
	if onPath, err := exec.LookPath("stratus"); err == nil {
		a, errA := os.Stat(onPath)
		b, errB := os.Stat(exe)
		if errA == nil && errB == nil && os.SameFile(a, b) {
			return "stratus"
		}
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, exe); err == nil && !strings.HasPrefix(rel, "..") {
			return shellQuote("./" + rel)
		}
	}
	return shellQuote(exe)
}

// subCommand is the command line of a stratus subcommand ("env kubectl",
// "status") for a data dir, which is named unless it is the default one.
func subCommand(sub, dataDir string) string {
	cmd := selfCommand() + " " + sub
	if abs, err := filepath.Abs(dataDir); err == nil {
		dataDir = abs
	}
	if def, err := filepath.Abs(defaultDataDir()); err != nil || def != dataDir {
		cmd += " --data-dir " + shellQuote(dataDir)
	}
	return cmd
}

// evalLine is the line that points a client's environment at stratus.
func evalLine(client, dataDir string) string {
	return `eval "$(` + subCommand("env "+client, dataDir) + `)"`
}

// checkPorts makes sure the addresses stratus will listen on are free
// before anything starts, and names the flag that changes a busy one.
func checkPorts(addrs ...[2]string) error {
	var errs []error
	for _, fa := range addrs {
		flag, addr := fa[0], fa[1]
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			ln.Close()
			continue
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			errs = append(errs, fmt.Errorf("%s %s: %w", flag, addr, err))
			continue
		}
		hint := ""
		if host, _, err := net.SplitHostPort(addr); err == nil {
			if free, err := net.Listen("tcp", net.JoinHostPort(host, "0")); err == nil {
				hint = fmt.Sprintf(" (%s is free now)", free.Addr())
				free.Close()
			}
		}
		errs = append(errs, fmt.Errorf("%s %s is already in use, by another stratus or another program; "+
			"'stratus status' shows what runs from a data dir; choose another address with %s%s", flag, addr, flag, hint))
	}
	return errors.Join(errs...)
}

// mountKubeHint answers Kubernetes clients that reached the HTTP front
// (kubectl with no kubeconfig tries localhost:8080) with where the
// Kubernetes API is and the line that points kubectl at it.
func (w *wiring) mountKubeHint() {
	h := httpserver.KubeHint(func() string {
		where := "this stratus does not serve the Kubernetes API"
		if w.kubeURL != nil {
			where = "the Kubernetes API is at " + w.kubeURL()
		}
		return "this is stratus's HTTP front (CloudStack, GCE, dashboard), not the Kubernetes API; " + where +
			`; point kubectl at it with: ` + evalLine("kubectl", w.dir.Path())
	})
	for _, p := range httpserver.KubeHintPatterns {
		w.http.Handle(p, "kube-hint", h)
	}
}

// runtimeName is the pod runtime of this host's node agent, once chosen.
func (w *wiring) runtimeName() string {
	if w.host == nil {
		return ""
	}
	select {
	case <-w.host.opened:
		return w.host.name
	default:
		return w.o.runtime
	}
}
