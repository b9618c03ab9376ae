package sim

import (
	"archive/tar"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

// The sim runtime runs no processes, so exec and attach are answered by a
// small shell over an in-memory file system per container. It knows:
//
//	echo [-n] ARGS…        cat [FILE…] (stdin without files)
//	ls [-l] [-a] [PATH…]   env, printenv [NAME]   hostname   pwd
//	true, false, exit [N]  sleep N   mkdir [-p] DIR…   rm [-r] [-f] PATH…
//	sh|bash|ash -c "LIST"  (and without -c: reads commands from stdin)
//	tar c|x [v] [f -] [-C DIR] [-m] [PATH…]   (what `kubectl cp` runs)
//
// A LIST is commands separated by ";", "&&" or "||"; words are split on
// blanks with '…' and "…" quoting; "> FILE" and ">> FILE" redirect stdout;
// $NAME and ${NAME} expand from the container's env, $? to the last
// status. Anything else answers "sh: CMD: not found" with status 127, as
// a shell would.

// simFS is a container's file system: regular files by absolute path and
// the directories that exist.
type simFS struct {
	mu    sync.Mutex
	files map[string][]byte
	dirs  map[string]bool
}

func newSimFS() *simFS {
	return &simFS{files: map[string][]byte{}, dirs: map[string]bool{"/": true, "/tmp": true, "/etc": true, "/root": true}}
}

func (fs *simFS) mkdirAll(p string) {
	for p != "/" && p != "." && p != "" {
		fs.dirs[p] = true
		p = path.Dir(p)
	}
}

// shell runs commands for one container.
type shell struct {
	fs       *simFS
	env      []runtime.EnvVar
	hostname string
	cwd      string
	status   int
	exited   bool
}

func newShell(c *container) *shell {
	env := append([]runtime.EnvVar{{Name: "PATH", Value: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		{Name: "HOSTNAME", Value: c.spec.PodName}, {Name: "HOME", Value: "/root"}}, c.spec.Env...)
	cwd := c.spec.WorkingDir
	if cwd == "" {
		cwd = "/"
	}
	return &shell{fs: c.fs, env: env, hostname: c.spec.PodName, cwd: cwd}
}

func (sh *shell) getenv(name string) (string, bool) {
	for i := len(sh.env) - 1; i >= 0; i-- {
		if sh.env[i].Name == name {
			return sh.env[i].Value, true
		}
	}
	return "", false
}

func (sh *shell) abs(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = path.Join(sh.cwd, p)
	}
	return path.Clean(p)
}

// run executes argv with the given streams and returns its status.
func (sh *shell) run(argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(argv) == 0 {
		return 0
	}
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	name := path.Base(argv[0])
	args := argv[1:]
	switch name {
	case "true", ":":
		return 0
	case "false":
		return 1
	case "exit":
		sh.exited = true
		if len(args) > 0 {
			n, err := strconv.Atoi(args[0])
			if err != nil {
				fmt.Fprintf(stderr, "sh: exit: Illegal number: %s\n", args[0])
				return 2
			}
			return n & 0xff
		}
		return sh.status
	case "echo":
		nl := true
		if len(args) > 0 && args[0] == "-n" {
			nl, args = false, args[1:]
		}
		fmt.Fprint(stdout, strings.Join(args, " "))
		if nl {
			fmt.Fprintln(stdout)
		}
		return 0
	case "hostname":
		fmt.Fprintln(stdout, sh.hostname)
		return 0
	case "pwd":
		fmt.Fprintln(stdout, sh.cwd)
		return 0
	case "env", "printenv":
		if len(args) > 0 {
			v, ok := sh.getenv(args[0])
			if !ok {
				return 1
			}
			fmt.Fprintln(stdout, v)
			return 0
		}
		seen := map[string]bool{}
		for _, e := range sh.env {
			v, _ := sh.getenv(e.Name)
			if !seen[e.Name] {
				seen[e.Name] = true
				fmt.Fprintf(stdout, "%s=%s\n", e.Name, v)
			}
		}
		return 0
	case "sleep":
		if len(args) > 0 {
			if f, err := strconv.ParseFloat(args[0], 64); err == nil && f > 0 {
				time.Sleep(time.Duration(min(f, 3600) * float64(time.Second)))
			}
		}
		return 0
	case "cat":
		if len(args) == 0 || (len(args) == 1 && args[0] == "-") {
			_, _ = io.Copy(stdout, stdin)
			return 0
		}
		code := 0
		for _, a := range args {
			sh.fs.mu.Lock()
			b, ok := sh.fs.files[sh.abs(a)]
			isDir := sh.fs.dirs[sh.abs(a)]
			sh.fs.mu.Unlock()
			switch {
			case isDir:
				fmt.Fprintf(stderr, "cat: read error: Is a directory\n")
				code = 1
			case !ok:
				fmt.Fprintf(stderr, "cat: can't open '%s': No such file or directory\n", a)
				code = 1
			default:
				_, _ = stdout.Write(b)
			}
		}
		return code
	case "ls":
		return sh.ls(args, stdout, stderr)
	case "mkdir":
		sh.fs.mu.Lock()
		defer sh.fs.mu.Unlock()
		for _, a := range args {
			if !strings.HasPrefix(a, "-") {
				sh.fs.mkdirAll(sh.abs(a))
			}
		}
		return 0
	case "rm":
		sh.fs.mu.Lock()
		defer sh.fs.mu.Unlock()
		for _, a := range args {
			if strings.HasPrefix(a, "-") {
				continue
			}
			p := sh.abs(a)
			delete(sh.fs.files, p)
			delete(sh.fs.dirs, p)
			for k := range sh.fs.files {
				if strings.HasPrefix(k, p+"/") {
					delete(sh.fs.files, k)
				}
			}
		}
		return 0
	case "sh", "bash", "ash":
		if len(args) >= 2 && args[0] == "-c" {
			return sh.runList(args[1], stdin, stdout, stderr)
		}
		return sh.interactive(stdin, stdout, stderr, false)
	case "tar":
		return sh.tar(args, stdin, stdout, stderr)
	}
	fmt.Fprintf(stderr, "sh: %s: not found\n", argv[0])
	return 127
}

func (sh *shell) ls(args []string, stdout, stderr io.Writer) int {
	long := false
	var paths []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			long = long || strings.Contains(a, "l")
			continue
		}
		paths = append(paths, a)
	}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	sh.fs.mu.Lock()
	defer sh.fs.mu.Unlock()
	code := 0
	for _, a := range paths {
		p := sh.abs(a)
		if b, ok := sh.fs.files[p]; ok {
			sh.lsEntry(stdout, a, len(b), false, long)
			continue
		}
		if !sh.fs.dirs[p] {
			fmt.Fprintf(stderr, "ls: %s: No such file or directory\n", a)
			code = 1
			continue
		}
		names := map[string]bool{}
		prefix := strings.TrimSuffix(p, "/") + "/"
		for k := range sh.fs.files {
			if rest, ok := strings.CutPrefix(k, prefix); ok && rest != "" {
				first, _, _ := strings.Cut(rest, "/")
				names[first] = names[first] || strings.Contains(rest, "/")
			}
		}
		for k := range sh.fs.dirs {
			if rest, ok := strings.CutPrefix(k, prefix); ok && rest != "" {
				first, _, _ := strings.Cut(rest, "/")
				names[first] = true
			}
		}
		keys := make([]string, 0, len(names))
		for k := range names {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sh.lsEntry(stdout, k, len(sh.fs.files[prefix+k]), names[k], long)
		}
	}
	return code
}

func (sh *shell) lsEntry(w io.Writer, name string, size int, dir, long bool) {
	if !long {
		fmt.Fprintln(w, name)
		return
	}
	mode := "-rw-r--r--"
	if dir {
		mode = "drwxr-xr-x"
	}
	fmt.Fprintf(w, "%s    1 root     root     %8d Jan  1 00:00 %s\n", mode, size, name)
}

// tar creates (c) or extracts (x) an archive on stdout/stdin, as
// `kubectl cp` runs it: `tar cf - PATH` and `tar -xmf - -C DIR`.
func (sh *shell) tar(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var create, extract bool
	dir := sh.cwd
	var paths []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-C" && i+1 < len(args):
			dir = sh.abs(args[i+1])
			i++
		case a == "-f" && i+1 < len(args):
			i++ // only "-" (stdin/stdout) is supported
		case strings.HasPrefix(a, "--"):
		case i == 0 || strings.HasPrefix(a, "-"):
			flags := strings.TrimPrefix(a, "-")
			create = create || strings.Contains(flags, "c")
			extract = extract || strings.Contains(flags, "x")
			if strings.HasSuffix(flags, "f") && i+1 < len(args) {
				i++
			}
		default:
			paths = append(paths, a)
		}
	}
	switch {
	case create:
		tw := tar.NewWriter(stdout)
		sh.fs.mu.Lock()
		defer sh.fs.mu.Unlock()
		for _, p := range paths {
			ap := sh.abs(p)
			name := strings.TrimPrefix(p, "/")
			if b, ok := sh.fs.files[ap]; ok {
				_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)})
				_, _ = tw.Write(b)
				continue
			}
			if !sh.fs.dirs[ap] {
				fmt.Fprintf(stderr, "tar: %s: No such file or directory\n", p)
				_ = tw.Close()
				return 1
			}
			keys := make([]string, 0)
			for k := range sh.fs.dirs {
				if k == ap || strings.HasPrefix(k, ap+"/") {
					keys = append(keys, k)
				}
			}
			for k := range sh.fs.files {
				if strings.HasPrefix(k, ap+"/") {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			for _, k := range keys {
				rel := strings.TrimPrefix(path.Join(name, strings.TrimPrefix(k, ap)), "/")
				if b, ok := sh.fs.files[k]; ok {
					_ = tw.WriteHeader(&tar.Header{Name: rel, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)})
					_, _ = tw.Write(b)
				} else {
					_ = tw.WriteHeader(&tar.Header{Name: rel + "/", Mode: 0o755, Typeflag: tar.TypeDir, ModTime: time.Unix(0, 0)})
				}
			}
		}
		if err := tw.Close(); err != nil {
			return 1
		}
		return 0
	case extract:
		tr := tar.NewReader(stdin)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return 0
			}
			if err != nil {
				fmt.Fprintf(stderr, "tar: %v\n", err)
				return 1
			}
			p := path.Join(dir, path.Clean("/"+h.Name))
			sh.fs.mu.Lock()
			switch h.Typeflag {
			case tar.TypeDir:
				sh.fs.mkdirAll(p)
			case tar.TypeReg:
				sh.fs.mu.Unlock()
				b, err := io.ReadAll(io.LimitReader(tr, 64<<20))
				sh.fs.mu.Lock()
				if err == nil {
					sh.fs.mkdirAll(path.Dir(p))
					sh.fs.files[p] = b
				}
			}
			sh.fs.mu.Unlock()
		}
	}
	fmt.Fprintln(stderr, "tar: must specify one of -c, -x")
	return 1
}

// runList runs a command list ("a; b && c || d", with > and >> redirects).
func (sh *shell) runList(line string, stdin io.Reader, stdout, stderr io.Writer) int {
	words, err := splitWords(line, sh)
	if err != nil {
		fmt.Fprintf(stderr, "sh: %v\n", err)
		return 2
	}
	op := ";"
	var cur []string
	flush := func() {
		skip := (op == "&&" && sh.status != 0) || (op == "||" && sh.status == 0)
		if len(cur) > 0 && !skip && !sh.exited {
			sh.status = sh.runRedirected(cur, stdin, stdout, stderr)
		}
		cur = nil
	}
	for _, w := range words {
		if w.op {
			flush()
			op = w.s
			continue
		}
		cur = append(cur, w.s)
	}
	flush()
	return sh.status
}

func (sh *shell) runRedirected(argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	for i, a := range argv {
		if (a == ">" || a == ">>") && i+1 < len(argv) {
			var buf bytes.Buffer
			code := sh.run(argv[:i], stdin, &buf, stderr)
			p := sh.abs(argv[i+1])
			sh.fs.mu.Lock()
			if a == ">>" {
				buf = *bytes.NewBuffer(append(slices.Clone(sh.fs.files[p]), buf.Bytes()...))
			}
			sh.fs.mkdirAll(path.Dir(p))
			sh.fs.files[p] = buf.Bytes()
			sh.fs.mu.Unlock()
			return code
		}
	}
	return sh.run(argv, stdin, stdout, stderr)
}

// interactive reads command lines from stdin until EOF or exit; with a
// prompt it prints "/ # " as busybox's shell does on a terminal.
func (sh *shell) interactive(stdin io.Reader, stdout, stderr io.Writer, prompt bool) int {
	br := bufio.NewReader(stdin)
	for !sh.exited {
		if prompt {
			fmt.Fprintf(stdout, "%s # ", sh.cwd)
		}
		line, err := br.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if strings.TrimSpace(line) != "" {
			sh.status = sh.runList(line, nil, stdout, stderr)
		}
		if err != nil {
			break
		}
	}
	return sh.status
}

type word struct {
	s  string
	op bool // ";", "&&", "||"
}

// splitWords splits a command line into words and operators, with quotes
// and $ expansion.
func splitWords(line string, sh *shell) ([]word, error) {
	var out []word
	var cur strings.Builder
	inWord := false
	emit := func() {
		if inWord {
			out = append(out, word{s: cur.String()})
			cur.Reset()
			inWord = false
		}
	}
	expand := func(s string, i int) (string, int) {
		// s[i] == '$'
		if i+1 < len(s) && s[i+1] == '?' {
			return strconv.Itoa(sh.status), i + 2
		}
		if i+1 < len(s) && s[i+1] == '{' {
			end := strings.IndexByte(s[i:], '}')
			if end > 0 {
				v, _ := sh.getenv(s[i+2 : i+end])
				return v, i + end + 1
			}
		}
		j := i + 1
		for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
			j++
		}
		if j == i+1 {
			return "$", i + 1
		}
		v, _ := sh.getenv(s[i+1 : j])
		return v, j
	}
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			emit()
			i++
		case c == ';':
			emit()
			out = append(out, word{s: ";", op: true})
			i++
		case c == '&' && i+1 < len(line) && line[i+1] == '&', c == '|' && i+1 < len(line) && line[i+1] == '|':
			emit()
			out = append(out, word{s: line[i : i+2], op: true})
			i += 2
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quoted string")
			}
			cur.WriteString(line[i+1 : i+1+end])
			inWord = true
			i += end + 2
		case c == '"':
			i++
			inWord = true
			for {
				if i >= len(line) {
					return nil, fmt.Errorf("unterminated quoted string")
				}
				if line[i] == '"' {
					i++
					break
				}
				if line[i] == '$' {
					v, n := expand(line, i)
					cur.WriteString(v)
					i = n
					continue
				}
				if line[i] == '\\' && i+1 < len(line) {
					i++
				}
				cur.WriteByte(line[i])
				i++
			}
		case c == '$':
			v, n := expand(line, i)
			cur.WriteString(v)
			inWord = true
			i = n
		case c == '\\' && i+1 < len(line):
			cur.WriteByte(line[i+1])
			inWord = true
			i += 2
		default:
			cur.WriteByte(c)
			inWord = true
			i++
		}
	}
	emit()
	return out, nil
}
