package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
