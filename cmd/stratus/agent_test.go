package main

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/datadir"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestAgentJoins: `stratus agent` in another process joins the cluster of
// a running `stratus up` with the join token given to up (--token, a
// bootstrap token, exchanged for the node's own certificate), and its
// node turns Ready; of the two servers it is given, the first does not
// answer. The API's certificate carries the --tls-san names.
func TestAgentJoins(t *testing.T) {
	testenv.Need(t, fileExists(kubectl133), kubectl133+" not found (the Google Cloud SDK ships it)")
	dir := filepath.Join(t.TempDir(), "data")
	const token = "abcdef.0123456789abcdef"
	p := startUp(t, dir, "--runtime", "sim", "--token", token, "--tls-san", "stratus.test,10.11.12.13", "--tls-san", "other.test")
	p.waitReady(t, 60*time.Second)
	st, err := datadir.ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.JoinToken != token {
		t.Fatalf("join token %q, want the one given to --token", st.JoinToken)
	}
	if banner := <-p.banner; !strings.Contains(banner, "--token "+st.JoinToken) {
		t.Fatalf("banner does not show the join token:\n%s", banner)
	}
	jc, err := exec.Command(stratusBinary(t), "join-command", "--data-dir", dir).Output()
	if err != nil {
		t.Fatalf("join-command: %v", err)
	}
	if want := "stratus agent --server " + st.KubeURL + " --token " + token + "\n"; string(jc) != want {
		t.Fatalf("join-command printed %q, want %q", jc, want)
	}
	ca, err := os.ReadFile(filepath.Join(dir, "kube", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	for _, name := range []string{"stratus.test", "10.11.12.13", "other.test", "127.0.0.1", "localhost"} {
		c, err := tls.Dial("tcp", strings.TrimPrefix(st.KubeURL, "https://"), &tls.Config{RootCAs: roots, ServerName: name})
		if err != nil {
			t.Errorf("TLS as %s: %v", name, err)
			continue
		}
		_ = c.Close()
	}

	dead := "https://" + freeAddr(t) // nothing listens there
	agent := exec.Command(stratusBinary(t), "agent", "--server", dead+","+st.KubeURL, "--token", st.JoinToken,
		"--cert-dir", t.TempDir(), "--name", "joined-node", "--runtime", "sim", "--ca-file", filepath.Join(dir, "kube", "ca.crt"))
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

	// The joined agent serves HTTPS with a certificate the server signed
	// for it: exec reaches a pod there.
	// (a long-running pod: under sim a restartPolicy Never pod completes
	// after its short simulated run, and exec into it would race that)
	run(t, kEnv, home, kubectl133, "run", "j", "--image=busybox", `--overrides={"spec":{"nodeName":"joined-node"}}`)
	run(t, kEnv, home, kubectl133, "wait", "--for=condition=Ready", "pod/j", "--timeout=60s")
	if got := run(t, kEnv, home, kubectl133, "exec", "j", "--", "echo", "from the joined node"); got != "from the joined node\n" {
		t.Errorf("exec on the joined node: %q\nagent output:\n%s", got, out.String())
	}

	// A wrong token is refused.
	bad := exec.Command(stratusBinary(t), "agent", "--server", st.KubeURL, "--token", "wrong",
		"--cert-dir", t.TempDir(), "--name", "intruder", "--runtime", "sim", "--ca-file", filepath.Join(dir, "kube", "ca.crt"))
	if b, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(b), "provide credentials") {
		t.Fatalf("agent with a wrong token: err=%v\n%s", err, b)
	}
}
