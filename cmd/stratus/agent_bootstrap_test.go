package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/datadir"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestAgentJoinsWithBootstrapToken: `stratus agent` given a bootstrap
// token exchanges it for a node certificate (its CSR approved and issued)
// and its node turns Ready; the certificate lifetime it asks for is the
// one --client-certificate-lifetime names. Restarted after its token was
// revoked, it is the node again with the certificate it kept in
// --cert-dir; a node with no certificate kept cannot join with that token.
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
	certDir := filepath.Join(t.TempDir(), "pki")
	start := func() (*exec.Cmd, *syncBuilder) {
		agent := exec.Command(stratusBinary(t), "agent", "--server", st.KubeURL, "--token", token, "--cert-dir", certDir,
			"--name", "boot-node", "--runtime", "sim", "--ca-file", filepath.Join(dir, "kube", "ca.crt"), "--client-certificate-lifetime", "1h")
		out := &syncBuilder{}
		agent.Stdout, agent.Stderr = out, out
		if err := agent.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = agent.Process.Kill()
			_ = agent.Wait()
		})
		return agent, out
	}
	agent, out := start()
	waitReady := func(since time.Time) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			got := run(t, kEnv, home, kubectl133, "get", "lease", "-n", "kube-node-lease", "boot-node", "--ignore-not-found",
				"-o", "jsonpath={.spec.renewTime}")
			renewed, _ := time.Parse("2006-01-02T15:04:05.000000Z07:00", strings.TrimSpace(got))
			if nodes := run(t, kEnv, home, kubectl133, "get", "nodes", "boot-node", "--no-headers", "--ignore-not-found"); strings.Contains(nodes, " Ready") && renewed.After(since) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("boot-node not Ready (lease renewed %q, wanted after %v)\nagent output:\n%s", got, since, out.String())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitReady(time.Time{})
	if csrs := run(t, kEnv, home, kubectl133, "get", "csr", "--no-headers"); !strings.Contains(csrs, "Approved,Issued") || !strings.Contains(csrs, "system:bootstrap:k7x2qa") || !strings.Contains(csrs, " 60m ") {
		t.Fatalf("CSRs:\n%s", csrs)
	}

	// The token is revoked and the agent restarted: it is the node again
	// with the certificate it kept in --cert-dir, as a kubelet is.
	_ = agent.Process.Kill()
	_ = agent.Wait()
	run(t, kEnv, home, kubectl133, "delete", "secret", "-n", "kube-system", "bootstrap-token-k7x2qa")
	csrsBefore := run(t, kEnv, home, kubectl133, "get", "csr", "-o", "name")
	restarted := time.Now().Truncate(time.Second)
	_, out = start()
	waitReady(restarted)
	if !strings.Contains(out.String(), "kept certificate") {
		t.Errorf("the restarted agent did not use its kept certificate:\n%s", out.String())
	}
	if csrs := run(t, kEnv, home, kubectl133, "get", "csr", "-o", "name"); csrs != csrsBefore {
		t.Errorf("the restart asked for a certificate again:\n%s\nbefore:\n%s", csrs, csrsBefore)
	}
	// A node without a kept certificate cannot join with the revoked token.
	fresh := exec.Command(stratusBinary(t), "agent", "--server", st.KubeURL, "--token", token, "--cert-dir", t.TempDir(),
		"--name", "late-node", "--runtime", "sim", "--ca-file", filepath.Join(dir, "kube", "ca.crt"))
	if b, err := fresh.CombinedOutput(); err == nil || !strings.Contains(string(b), "Unauthorized") {
		t.Fatalf("agent joining with a revoked token: err=%v\n%s", err, b)
	}
}

// syncBuilder is a strings.Builder a running process writes to while the
// test reads it.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
