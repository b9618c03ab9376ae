package sim

import (
	"path"
	"strings"
)

// A run-to-completion or ephemeral container whose command the sim shell
// (shell.go) fully understands runs it when it starts and exits with its
// status at once, as the real program would: `kubectl run -i --rm
// --restart=Never --image=busybox t -- echo hi` prints "hi", `-- sh -c
// "exit 3"` fails with code 3, and `kubectl debug POD --image=busybox --
// true` ends. The exit-after and exit-code annotations still override.
// Any other command keeps the sim's behaviour: it "runs" until it completes
// after CompleteAfter with code 0 (or for ever, in a restarting pod).

// scriptCommands are the shell's commands that finish at once and read no
// input: a command line made only of them can run as a container's main
// process. sleep (real time) and tar (reads stdin) are left out.
var scriptCommands = map[string]bool{
	"true": true, ":": true, "false": true, "exit": true, "echo": true,
	"hostname": true, "pwd": true, "env": true, "printenv": true,
	"cat": true, "ls": true, "mkdir": true, "rm": true,
}

// scriptable reports whether argv is a command the sim shell runs as a
// real shell would: a known command, or `sh -c LIST` of known commands
// without pipes, substitutions, globs or background jobs.
func scriptable(argv []string) bool {
	if len(argv) == 0 {
		return false
	}
	switch path.Base(argv[0]) {
	case "sh", "bash", "ash":
		return len(argv) >= 2 && argv[1] == "-c" && scriptableList(argv[2])
	}
	return scriptCommands[path.Base(argv[0])]
}

func scriptableList(line string) bool {
	bare := strings.NewReplacer("&&", ";", "||", ";").Replace(line)
	if strings.ContainsAny(bare, "|&<`()*?[#~!\n") || strings.Contains(bare, "$(") {
		return false
	}
	words, err := splitWords(line, &shell{})
	if err != nil {
		return false
	}
	first := true
	for _, w := range words {
		switch {
		case w.op:
			first = true
		case first:
			if !scriptCommands[path.Base(w.s)] {
				return false
			}
			first = false
		case strings.Contains(w.s, ">") && w.s != ">" && w.s != ">>":
			return false
		}
	}
	return true
}

// runScript runs argv in c's shell, its output going to c's log; c.mu is
// held.
func (r *Runtime) runScript(c *container, argv []string) int {
	if c.fs == nil {
		c.fs = newSimFS()
	}
	return newShell(c).run(argv, nil, &c.logs, &c.logs)
}
