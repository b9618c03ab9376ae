package apiserver_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

const sdkBin = "/usr/lib/google-cloud-sdk/bin/"

// kubectl runs one versioned kubectl binary against a server, with its own
// HOME (discovery cache) and the server's kubeconfig.
type kubectl struct {
	t    *testing.T
	bin  string
	home string
	cfg  string
	dir  string
}

func newKubectl(t *testing.T, version string, srv *apiserver.Server) *kubectl {
	t.Helper()
	bin := sdkBin + "kubectl." + version
	if _, err := os.Stat(bin); err != nil {
		bin = testenv.LookPath(t, "kubectl."+version, "install the Google Cloud SDK kubectl component (versioned kubectl binaries)")
	}
	return &kubectl{t: t, bin: bin, home: t.TempDir(), cfg: srv.KubeconfigPath(), dir: t.TempDir()}
}

func (k *kubectl) run(stdin string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.bin, args...)
	cmd.Env = []string{"HOME=" + k.home, "KUBECONFIG=" + k.cfg, "PATH=/usr/bin:/bin"}
	cmd.Dir = k.dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// ok runs kubectl and fails the test when it fails.
func (k *kubectl) ok(args ...string) string {
	k.t.Helper()
	out, errs, err := k.run("", args...)
	if err != nil {
		k.t.Fatalf("kubectl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errs)
	}
	return out
}

// fails runs kubectl, expects failure and returns stderr.
func (k *kubectl) fails(args ...string) string {
	k.t.Helper()
	out, errs, err := k.run("", args...)
	if err == nil {
		k.t.Fatalf("kubectl %s succeeded, want failure\nstdout:\n%s", strings.Join(args, " "), out)
	}
	return errs
}

func (k *kubectl) file(name, content string) string {
	p := filepath.Join(k.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		k.t.Fatal(err)
	}
	return p
}

func contains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: output lacks %q:\n%s", what, w, got)
		}
	}
}
