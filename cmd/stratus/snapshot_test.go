package main

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestResetAndSnapshotCommands drives `stratus snapshot` and `stratus
// reset` against an ephemeral instance, checking with kubectl.
func TestResetAndSnapshotCommands(t *testing.T) {
	testenv.Need(t, fileExists(kubectl133), kubectl133+" not found (the Google Cloud SDK ships it)")
	e, err := startEphemeral(t)
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	kEnv := map[string]string{"KUBECONFIG": e.info.Kubernetes.Kubeconfig}
	stratus := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(stratusBinary(t), append(args, "--data-dir", e.info.DataDir)...).CombinedOutput()
		if err != nil {
			t.Fatalf("stratus %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	configMaps := func() string {
		return run(t, kEnv, home, kubectl133, "get", "configmaps", "-o", "jsonpath={.items[*].metadata.name}")
	}
	run(t, kEnv, home, kubectl133, "create", "configmap", "first")
	stratus("snapshot", "save", "one")
	run(t, kEnv, home, kubectl133, "create", "configmap", "second")
	if out := stratus("snapshot", "list"); !strings.Contains(out, "one") {
		t.Fatalf("snapshot list:\n%s", out)
	}
	stratus("snapshot", "restore", "one")
	if got := configMaps(); !strings.Contains(got, "first") || strings.Contains(got, "second") {
		t.Fatalf("after restore: %q", got)
	}
	stratus("reset")
	if got := configMaps(); strings.Contains(got, "first") {
		t.Fatalf("after reset: %q", got)
	}
	stratus("snapshot", "rm", "one")
	if out := stratus("snapshot", "list"); strings.Contains(out, "one") {
		t.Fatalf("snapshot list after rm:\n%s", out)
	}
	// The admin API wants its token.
	resp, err := http.Post(e.info.HTTPURL+"/stratus/v1/reset", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("reset without a token: %d, want 401", resp.StatusCode)
	}
	// A bad name is the API's 400, and nothing changes.
	out, err := exec.Command(stratusBinary(t), "snapshot", "save", "bad!name", "--data-dir", e.info.DataDir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "bad snapshot name") {
		t.Fatalf("snapshot save bad!name: %v %s", err, out)
	}
	e.stop(t)
}
