package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/datadir"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestAgentJoins: `stratus agent` in another process joins the cluster of
// a running `stratus up` with the join token from the banner, and its node
// turns Ready.
func TestAgentJoins(t *testing.T) {
	testenv.Need(t, fileExists(kubectl133), kubectl133+" not found (the Google Cloud SDK ships it)")
	dir := filepath.Join(t.TempDir(), "data")
	p := startUp(t, dir, "--runtime", "sim")
	p.waitReady(t, 60*time.Second)
	st, err := datadir.ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if banner := <-p.banner; !strings.Contains(banner, "--token "+st.JoinToken) {
		t.Fatalf("banner does not show the join token:\n%s", banner)
	}

	agent := exec.Command(stratusBinary(t), "agent", "--server", st.KubeURL, "--token", st.JoinToken,
		"--name", "joined-node", "--runtime", "sim", "--ca-file", filepath.Join(dir, "kube", "ca.crt"))
	var out strings.Builder
	agent.Stdout, agent.Stderr = &out, &out
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		agent.Process.Kill()
		agent.Wait()
	}()

	kEnv := env(t, dir, "kubectl")
	home := t.TempDir()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := run(t, kEnv, home, kubectl133, "get", "nodes", "--no-headers")
		if strings.Contains(got, "joined-node") && strings.Contains(strings.SplitN(got[strings.Index(got, "joined-node"):], "\n", 2)[0], " Ready") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("joined-node not Ready:\n%s\nagent output:\n%s", got, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}

	// A wrong token is refused.
	bad := exec.Command(stratusBinary(t), "agent", "--server", st.KubeURL, "--token", "wrong",
		"--name", "intruder", "--runtime", "sim", "--ca-file", filepath.Join(dir, "kube", "ca.crt"))
	if b, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(b), "provide credentials") {
		t.Fatalf("agent with a wrong token: err=%v\n%s", err, b)
	}
}
