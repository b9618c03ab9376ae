package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/datadir"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// stratusCmd runs the binary with HOME set (so the default data dir and
// kubeconfig are the test's) and returns its combined output.
func stratusCmd(t *testing.T, home string, extraEnv []string, args ...string) (string, error) {
	t.Helper()
	bin := stratusBinary(t) // built first: the build is not the command's time
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(append(os.Environ(), "HOME="+home), extraEnv...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// kubectlCmd runs kubectl 1.33 with the given environment.
func kubectlCmd(t *testing.T, home string, extraEnv []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectl133, args...)
	cmd.Env = append(append(os.Environ(), "HOME="+home, "KUBECACHEDIR="+filepath.Join(home, "kubecache")), extraEnv...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestNewcomerLifeCycle walks what a newcomer meets: `up --detach`, the
// banner's env lines naming the data dir, `status`, kubectl without the
// eval (a hint, not "could not find the requested resource"), a second up
// on busy ports (named flag, nothing started), `env kubectl --merge` and
// `--unmerge`, exec and LoadBalancer explained, then `stop`.
func TestNewcomerLifeCycle(t *testing.T) {
	testenv.Need(t, fileExists(kubectl133), kubectl133+" not found (the Google Cloud SDK ships it)")
	home := t.TempDir()
	dir := filepath.Join(t.TempDir(), "cloud one")
	httpAddr, kubeAddr := freeAddr(t), freeAddr(t)
	up := []string{"up", "--detach", "--data-dir", dir, "--http-addr", httpAddr, "--kube-addr", kubeAddr}
	out, err := stratusCmd(t, home, nil, up...)
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, datadir.LogFile))
		t.Fatalf("up --detach: %v\n%s\nits log:\n%s", err, out, log)
	}
	t.Cleanup(func() { _, _ = stratusCmd(t, home, nil, "stop", "--data-dir", dir) })
	quoted := shellQuote(dir)
	for _, want := range []string{
		"env kubectl --data-dir " + quoted + `)"; kubectl get nodes`,
		"env cloudstack --data-dir " + quoted,
		"env gcloud --data-dir " + quoted,
		"pod runtime: sim",
		"Running in the background (pid ",
		"stop --data-dir " + quoted,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("detached banner lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "time=") {
		t.Errorf("detached banner shows log lines:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, datadir.PIDFile)); err != nil || strings.TrimSpace(string(b)) == "" {
		t.Fatalf("pid file: %q %v", b, err)
	}

	out, err = stratusCmd(t, home, nil, "status", "--data-dir", dir)
	if err != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	for _, want := range []string{"is running from " + dir, "kube-apiserver", "https://" + kubeAddr, "controller-manager", "agent", "dashboard", "ready\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}

	// kubectl pointed at the HTTP port (what it does with no kubeconfig,
	// when that port is 8080) is told where the API is.
	out, err = kubectlCmd(t, home, nil, "--server", "http://"+httpAddr, "get", "pods")
	if err == nil || !strings.Contains(out, "the Kubernetes API is at https://"+kubeAddr) || !strings.Contains(out, "env kubectl --data-dir") {
		t.Errorf("kubectl on the HTTP port: err=%v\n%s", err, out)
	}

	// A second up on the same ports (another data dir) names the flags
	// and starts nothing: its data dir gets no store.
	dir2 := filepath.Join(t.TempDir(), "two")
	out, err = stratusCmd(t, home, nil, "up", "--data-dir", dir2, "--http-addr", httpAddr, "--kube-addr", kubeAddr)
	if err == nil || !strings.Contains(out, "--http-addr "+httpAddr+" is already in use") || !strings.Contains(out, "--kube-addr "+kubeAddr+" is already in use") {
		t.Errorf("up on busy ports: err=%v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir2, "stratus.db")); !os.IsNotExist(err) {
		t.Errorf("up on busy ports opened a store: %v", err)
	}

	// --merge adds a context beside the user's own; --unmerge takes it out.
	kcfg := filepath.Join(home, "kubeconfig")
	if err := os.WriteFile(kcfg, []byte(otherKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	kenv := []string{"KUBECONFIG=" + kcfg}
	if out, err := stratusCmd(t, home, kenv, "env", "kubectl", "--merge", "--data-dir", dir); err != nil || !strings.Contains(out, `"stratus-cloud-one"`) {
		t.Fatalf("env kubectl --merge: %v\n%s", err, out)
	}
	if out, err := kubectlCmd(t, home, kenv, "config", "current-context"); err != nil || strings.TrimSpace(out) != "stratus-cloud-one" {
		t.Fatalf("current context after merge: %v %q", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "kubeconfig")); err != nil || strings.Contains(string(b), "stratus-cloud-one") {
		t.Fatalf("--merge wrote into the data dir's own kubeconfig: %v\n%s", err, b)
	}
	if out, err := kubectlCmd(t, home, kenv, "get", "nodes"); err != nil || !strings.Contains(out, "Ready") {
		t.Fatalf("kubectl get nodes through the merged context: %v\n%s", err, out)
	}

	// exec works; LoadBalancer without a cloud says so.
	kubectl := func(args ...string) string {
		t.Helper()
		out, err := kubectlCmd(t, home, kenv, args...)
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	kubectl("run", "web", "--image=nginx", "--port=80")
	kubectl("wait", "--for=condition=Ready", "pod/web", "--timeout=60s")
	if out, err := kubectlCmd(t, home, kenv, "exec", "web", "--", "true"); err != nil {
		t.Errorf("kubectl exec: err=%v\n%s", err, out)
	}
	// the components' writes carry their names as a cluster's do
	if out := kubectl("get", "pod", "web", "--show-managed-fields", "-o", "jsonpath={.metadata.managedFields[*].manager}"); out != "kubectl-run kubelet" {
		t.Errorf("managers of pod web: %q, want kubectl-run kubelet", out)
	}
	// the first pod a newcomer runs prints what its command prints
	if out := kubectl("run", "hello", "-i", "--rm", "--restart=Never", "--image=busybox", "--", "echo", "hello from stratus"); !strings.Contains(out, "hello from stratus") {
		t.Errorf("kubectl run -i --rm -- echo: %q", out)
	}
	kubectl("expose", "pod", "web", "--type=LoadBalancer", "--port=80")
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := kubectl("get", "events", "--field-selector", "involvedObject.kind=Service,involvedObject.name=web", "-o", "jsonpath={.items[*].reason}: {.items[*].message}")
		if strings.Contains(out, "NoLoadBalancer: no cloud load balancer is wired") && strings.Contains(out, "node ports") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no NoLoadBalancer event on the LoadBalancer service: %q", out)
		}
		time.Sleep(100 * time.Millisecond)
	}

	if out, err := stratusCmd(t, home, kenv, "env", "kubectl", "--unmerge", "--data-dir", dir); err != nil || !strings.Contains(out, "Deleted context") {
		t.Fatalf("env kubectl --unmerge: %v\n%s", err, out)
	}
	if out := kubectl("config", "get-contexts", "-o", "name"); strings.TrimSpace(out) != "other" {
		t.Fatalf("contexts after unmerge: %q", out)
	}

	out, err = stratusCmd(t, home, nil, "stop", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "stopped stratus") {
		t.Fatalf("stop: %v\n%s", err, out)
	}
	if out, err := stratusCmd(t, home, nil, "status", "--data-dir", dir); err == nil || !strings.Contains(out, "not running") {
		t.Fatalf("status after stop: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, datadir.PIDFile)); !os.IsNotExist(err) {
		t.Errorf("pid file left after stop: %v", err)
	}
}

const otherKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: other
  cluster:
    server: https://192.0.2.1:6443
users:
- name: other
  user:
    token: abc
contexts:
- name: other
  context:
    cluster: other
    user: other
current-context: other
`

// TestEnvListsClients: `stratus env` alone says what it can print.
func TestEnvListsClients(t *testing.T) {
	out, err := stratusCmd(t, t.TempDir(), nil, "env")
	if err != nil {
		t.Fatalf("env: %v\n%s", err, out)
	}
	for _, want := range []string{"cloudstack", "gcloud", "kubectl", `eval "$(`} {
		if !strings.Contains(out, want) {
			t.Errorf("env listing lacks %q:\n%s", want, out)
		}
	}
}
