package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/testenv"
)

const kubectl133 = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33"

// run runs a client with the env lines `stratus env` printed, and returns
// its standard output.
func run(t *testing.T, vars map[string]string, home string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "HOME="+home)
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// TestUpWithRealClients starts the binary as a user would and points the
// real clients at it with `stratus env`: the cloudstack CLI, kubectl and
// gcloud. What they create survives a restart on the same data dir.
func TestUpWithRealClients(t *testing.T) {
	cs := testenv.LookPath(t, "cloudstack", "apt-get install cs")
	testenv.Need(t, fileExists(kubectl133), kubectl133+" not found (the Google Cloud SDK ships it)")
	gcloud := testenv.LookPath(t, "gcloud", "the Google Cloud SDK")

	dir := filepath.Join(t.TempDir(), "data")
	home := t.TempDir()
	p := startUp(t, dir, "--runtime", "sim")
	p.waitReady(t, 60*time.Second)

	csEnv := env(t, dir, "cloudstack")
	zones := run(t, csEnv, home, cs, "listZones")
	var zl struct {
		Count int `json:"count"`
		Zone  []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"zone"`
	}
	if err := json.Unmarshal([]byte(zones), &zl); err != nil || zl.Count == 0 {
		t.Fatalf("cloudstack listZones: %v\n%s", err, zones)
	}
	run(t, csEnv, home, cs, "createSSHKeyPair", "name=survivor")

	kEnv := env(t, dir, "kubectl")
	if out := run(t, kEnv, home, kubectl133, "get", "nodes"); !strings.Contains(out, "Ready") {
		t.Fatalf("kubectl get nodes:\n%s", out)
	}
	run(t, kEnv, home, kubectl133, "create", "configmap", "survivor", "--from-literal=a=b")
	// The cluster does the work: a deployment's pods run, and a NodePort
	// service answers on the host through the service proxy.
	run(t, kEnv, home, kubectl133, "create", "deployment", "web", "--image=nginx", "--replicas=2", "--port=80")
	run(t, kEnv, home, kubectl133, "expose", "deployment", "web", "--type=NodePort", "--port=80")
	run(t, kEnv, home, kubectl133, "wait", "--for=condition=Available", "deployment/web", "--timeout=60s")
	port := run(t, kEnv, home, kubectl133, "get", "service", "web", "-o", "jsonpath={.spec.ports[0].nodePort}")
	// Node ports listen on the instance's node address (127.0.0.1 unless
	// another stratus on this machine holds that slot).
	nodeIP := run(t, kEnv, home, kubectl133, "get", "nodes", "-o", `jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + net.JoinHostPort(nodeIP, port) + "/")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), "default/web-") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node port %s does not answer from a pod: %v", port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	gEnv := env(t, dir, "gcloud")
	if out := run(t, gEnv, home, gcloud, "compute", "zones", "list", "--format=value(name)"); !strings.Contains(out, gEnv["CLOUDSDK_COMPUTE_ZONE"]) {
		t.Fatalf("gcloud compute zones list lacks the default zone %q:\n%s", gEnv["CLOUDSDK_COMPUTE_ZONE"], out)
	}

	p.stop(t)
	p2 := startUp(t, dir, "--runtime", "sim")
	p2.waitReady(t, 60*time.Second)
	if out := run(t, env(t, dir, "cloudstack"), home, cs, "listSSHKeyPairs", "name=survivor"); !strings.Contains(out, `"survivor"`) {
		t.Fatalf("key pair lost across restart:\n%s", out)
	}
	if out := run(t, env(t, dir, "kubectl"), home, kubectl133, "get", "configmap", "survivor", "-o", "jsonpath={.data.a}"); out != "b" {
		t.Fatalf("configmap lost across restart: %q", out)
	}
	p2.stop(t)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
