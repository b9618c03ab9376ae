package sim

import (
	"archive/tar"
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

func testShell() *shell {
	return &shell{fs: newSimFS(), env: []runtime.EnvVar{{Name: "A", Value: "1"}}, hostname: "pod-a", cwd: "/"}
}

func TestShell(t *testing.T) {
	for _, tc := range []struct {
		line, stdin, out string
		code             int
	}{
		{"echo hello world", "", "hello world\n", 0},
		{"echo -n x", "", "x", 0},
		{`echo "a  b" 'c d' $A ${A}x $?`, "", "a  b c d 1 1x 0\n", 0},
		{"hostname; pwd", "", "pod-a\n/\n", 0},
		{"false || echo no && echo yes", "", "no\nyes\n", 0},
		{"true && false", "", "", 1},
		{"exit 7; echo unreachable", "", "", 7},
		{"cat", "in\n", "in\n", 0},
		{"echo hi > /tmp/f; cat /tmp/f; echo more >> /tmp/f; cat /tmp/f", "", "hi\nhi\nmore\n", 0},
		{"mkdir -p /a/b; ls /a", "", "b\n", 0},
		{"nosuch", "", "", 127},
		{"sh -c 'echo inner; exit 2'", "", "inner\n", 2},
		{"printenv A", "", "1\n", 0},
	} {
		sh := testShell()
		var out bytes.Buffer
		code := sh.runList(tc.line, strings.NewReader(tc.stdin), &out, &out)
		if tc.code == 127 {
			if code != 127 || !strings.Contains(out.String(), "not found") {
				t.Errorf("%q: %d %q", tc.line, code, out.String())
			}
			continue
		}
		if out.String() != tc.out || code != tc.code {
			t.Errorf("%q: %d %q, want %d %q", tc.line, code, out.String(), tc.code, tc.out)
		}
	}
}

// TestShellTar: what kubectl cp runs, both ways.
func TestShellTar(t *testing.T) {
	var archive bytes.Buffer
	tw := tar.NewWriter(&archive)
	_ = tw.WriteHeader(&tar.Header{Name: "d/f.txt", Mode: 0o644, Size: 5, Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte("hello"))
	_ = tw.Close()
	sh := testShell()
	if code := sh.run([]string{"tar", "-xmf", "-", "-C", "/tmp"}, &archive, nil, nil); code != 0 {
		t.Fatalf("extract: %d", code)
	}
	var out bytes.Buffer
	if sh.run([]string{"cat", "/tmp/d/f.txt"}, nil, &out, nil); out.String() != "hello" {
		t.Fatalf("cat after extract: %q", out.String())
	}
	out.Reset()
	if code := sh.run([]string{"tar", "cf", "-", "/tmp/d"}, nil, &out, nil); code != 0 {
		t.Fatalf("create: %d", code)
	}
	tr := tar.NewReader(&out)
	var names []string
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, h.Name)
	}
	if strings.Join(names, ",") != "tmp/d/,tmp/d/f.txt" {
		t.Errorf("archive holds %v", names)
	}
}

// FuzzShell: no command line or stdin makes the shell panic or hang.
func FuzzShell(f *testing.F) {
	for _, s := range []string{"echo a; b && c || d", `echo "x$A${A}$?" 'y'`, "tar xf - -C /", "cat > /f", "sh -c 'sh -c \"exit 3\"'", "ls -l /tmp /nope", `"unterminated`, "${"} {
		f.Add(s, "stdin")
	}
	f.Fuzz(func(t *testing.T, line, stdin string) {
		if strings.Contains(line, "sleep") || strings.Count(line, "sh") > 4 {
			t.Skip()
		}
		sh := testShell()
		var out bytes.Buffer
		_ = sh.runList(line, strings.NewReader(stdin), &out, &out)
		_ = sh.interactive(strings.NewReader(line+"\n"+stdin), &out, &out, true)
	})
}

// TestExecAttach: exec answers through the shell; attach to a shell
// container reads commands from stdin.
func TestExecAttach(t *testing.T) {
	r := New(Options{})
	defer r.Close()
	ctx := context.Background()
	st, err := r.Start(ctx, runtime.ContainerSpec{PodNamespace: "ns", PodName: "p", Name: "c", Image: "busybox"}, func(runtime.Status) {})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code, err := r.Exec(ctx, st.ID, []string{"sh", "-c", "echo $HOSTNAME; exit 4"}, runtime.Streams{Stdout: &out})
	if err != nil || code != 4 || out.String() != "p\n" {
		t.Fatalf("exec: %d %v %q", code, err, out.String())
	}
	out.Reset()
	if err := r.Attach(ctx, st.ID, runtime.Streams{Stdin: strings.NewReader("echo in\nexit\n"), Stdout: &out}); err != nil || out.String() != "in\n" {
		t.Fatalf("attach: %v %q", err, out.String())
	}
}
