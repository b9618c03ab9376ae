package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/datadir"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestAgentJoinsWithBootstrapToken: `stratus agent` given a bootstrap
// token exchanges it for a node certificate (its CSR approved and issued)
// and its node turns Ready; the certificate lifetime it asks for is the
// one --client-certificate-lifetime names.
func TestAgentJoinsWithBootstrapToken(t *testing.T) {
	testenv.Need(t, fileExists(kubectl133), kubectl133+" not found (the Google Cloud SDK ships it)")
	dir := filepath.Join(t.TempDir(), "data")
	p := startUp(t, dir, "--runtime", "sim")
	p.waitReady(t, 60*time.Second)
	st, err := datadir.ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	kEnv := env(t, dir, "kubectl")
	home := t.TempDir()
	secret := filepath.Join(t.TempDir(), "bootstrap.yaml")
	if err := os.WriteFile(secret, []byte(`apiVersion: v1
kind: Secret
metadata: {name: bootstrap-token-k7x2qa, namespace: kube-system}
type: bootstrap.kubernetes.io/token
stringData: {token-id: k7x2qa, token-secret: 9f8e7d6c5b4a3921, usage-bootstrap-authentication: "true"}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, kEnv, home, kubectl133, "apply", "-f", secret)
	const token = "k7x2qa.9f8e7d6c5b4a3921"
	agent := exec.Command(stratusBinary(t), "agent", "--server", st.KubeURL, "--token", token,
		"--name", "boot-node", "--runtime", "sim", "--ca-file", filepath.Join(dir, "kube", "ca.crt"), "--client-certificate-lifetime", "1h")
	var out strings.Builder
	agent.Stdout, agent.Stderr = &out, &out
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = agent.Process.Kill()
		_ = agent.Wait()
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := run(t, kEnv, home, kubectl133, "get", "nodes", "boot-node", "--no-headers", "--ignore-not-found")
		if strings.Contains(got, " Ready") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("boot-node not Ready:\n%s\nagent output:\n%s", got, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if csrs := run(t, kEnv, home, kubectl133, "get", "csr", "--no-headers"); !strings.Contains(csrs, "Approved,Issued") || !strings.Contains(csrs, "system:bootstrap:k7x2qa") || !strings.Contains(csrs, " 60m ") {
		t.Fatalf("CSRs:\n%s", csrs)
	}
}
