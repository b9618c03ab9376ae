package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/cloudstack-go/v2/cloudstack"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	compute "google.golang.org/api/compute/v1"
	"google.golang.org/api/option"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// seedFile is what a CI suite would keep next to its tests: an account
// with keys it hard-codes, a GCE project, a key pair, a security group, a
// network and a VM, and Kubernetes manifests.
const seedFile = `# cloud state
apiVersion: seed.stratus.io/v1
kind: Account
name: ci
apiKey: ci-api-key-0123456789
secretKey: ci-secret-key-0123456789
---
apiVersion: seed.stratus.io/v1
kind: GCEProject
name: ci-project
apiKey: ci-gce-key-0123456789
secretKey: ci-gce-secret-0123456789
---
apiVersion: seed.stratus.io/v1
kind: KeyPair
account: ci
name: ci-key
publicKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f ci@example
---
apiVersion: seed.stratus.io/v1
kind: SecurityGroup
account: ci
name: web
ingress:
  - {protocol: tcp, startPort: 80, endPort: 80, cidr: 0.0.0.0/0}
---
apiVersion: seed.stratus.io/v1
kind: Network
account: ci
name: ci-net
zone: Sandbox-simulator
---
apiVersion: seed.stratus.io/v1
kind: VirtualMachine
account: ci
name: ci-vm
zone: Sandbox-simulator
offering: Micro
template: Debian 12
networks: [ci-net]
keyPair: ci-key
---
# Kubernetes manifests
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: seeded}
data: {mode: test}
---
apiVersion: v1
kind: Namespace
metadata: {name: seeded}
`

// TestSeed: `stratus up --seed` brings the file's state up in every API,
// read by the real clients (kubectl, the CloudStack Go SDK with the fixed
// keys, Google's compute client with a token for the fixed keys);
// `stratus apply -f` of the same file changes nothing; a bad file is
// refused naming its document and field, with nothing applied, and one
// whose writes fail midway is undone; `stratus reset` goes back to the
// seeded state.
func TestSeed(t *testing.T) {
	kubectl := testenv.LookPath(t, "kubectl", "the kubectl binary")
	dir := t.TempDir()
	file := filepath.Join(dir, "seed.yaml")
	if err := os.WriteFile(file, []byte(seedFile), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	up := startUp(t, data, "--runtime", "sim", "--seed", file)
	up.waitReady(t, 60e9)
	defer up.stop(t)
	kenv := env(t, data, "kubectl")
	kube := func(args ...string) (string, error) {
		c := exec.Command(kubectl, args...)
		c.Env = append(os.Environ(), "KUBECONFIG="+kenv["KUBECONFIG"])
		out, err := c.CombinedOutput()
		return string(out), err
	}

	// Kubernetes: kubectl reads the manifests.
	out, err := kube("get", "configmap", "settings", "-n", "seeded", "-o", "jsonpath={.data.mode}")
	if err != nil || out != "test" {
		t.Fatalf("kubectl get configmap: %q %v", out, err)
	}
	// CloudStack: the SDK with the hard-coded keys sees the account's VM.
	csURL := env(t, data, "cloudstack")["CLOUDSTACK_API_URL"]
	cs := cloudstack.NewAsyncClient(csURL, "ci-api-key-0123456789", "ci-secret-key-0123456789", false)
	vms, err := cs.VirtualMachine.ListVirtualMachines(cs.VirtualMachine.NewListVirtualMachinesParams())
	if err != nil {
		t.Fatal(err)
	}
	if vms.Count != 1 || vms.VirtualMachines[0].Name != "ci-vm" || vms.VirtualMachines[0].State != "Running" ||
		vms.VirtualMachines[0].Keypairs != "ci-key" || vms.VirtualMachines[0].Nic[0].Networkname != "ci-net" {
		b, _ := json.Marshal(vms)
		t.Fatalf("the ci account's VMs: %s", b)
	}
	sgs, err := cs.SecurityGroup.ListSecurityGroups(cs.SecurityGroup.NewListSecurityGroupsParams())
	if err != nil {
		t.Fatal(err)
	}
	var web *cloudstack.SecurityGroup
	for _, sg := range sgs.SecurityGroups {
		if sg.Name == "web" {
			web = sg
		}
	}
	if web == nil || len(web.Ingressrule) != 1 || web.Ingressrule[0].Startport != 80 {
		t.Fatalf("security group web: %+v", web)
	}
	// GCE: a token for the project's fixed keys reads the project.
	httpURL := "http://" + up.http
	ts := (&clientcredentials.Config{ClientID: "ci-gce-key-0123456789", ClientSecret: "ci-gce-secret-0123456789", TokenURL: httpURL + "/oauth2/token"}).TokenSource(context.Background())
	svc, err := compute.NewService(context.Background(), option.WithEndpoint(httpURL+"/compute/v1/"), option.WithTokenSource(oauth2.ReuseTokenSource(nil, ts)))
	if err != nil {
		t.Fatal(err)
	}
	if p, err := svc.Projects.Get("ci-project").Do(); err != nil || p.Name != "ci-project" {
		t.Fatalf("GCE project: %+v %v", p, err)
	}

	// Again: nothing changes.
	apply := func(file string, extra ...string) (string, error) {
		out, err := exec.Command(stratusBinary(t), append([]string{"apply", "-f", file, "--data-dir", data}, extra...)...).CombinedOutput()
		return string(out), err
	}
	out, err = apply(file)
	if err != nil {
		t.Fatalf("apply again: %v\n%s", err, out)
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		// The API server writes a Namespace again on a no-op server-side
		// apply (its resourceVersion moves; a ConfigMap's does not): an
		// apiserver matter, not the seed's.
		if !strings.Contains(l, "unchanged") && !strings.HasPrefix(l, "Namespace ") {
			t.Errorf("apply again changed something: %q", l)
		}
	}

	// A bad file: the error names the document, line and field; nothing
	// of it is applied.
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: not-applied, namespace: seeded}
---
apiVersion: seed.stratus.io/v1
kind: VirtualMachine
name: nope
zone: Sandbox-simulator
offering: Micro
template: No Such Template
`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = apply(bad)
	if err == nil || !strings.Contains(out, `bad.yaml:5: document 2 (VirtualMachine "nope"), field template: no template named "No Such Template"`) {
		t.Errorf("bad file: %v\n%s", err, out)
	}
	if out, err := kube("get", "configmap", "not-applied", "-n", "seeded"); err == nil || !strings.Contains(out, "NotFound") {
		t.Errorf("a refused file's ConfigMap exists: %s", out)
	}
	// An unknown field is named too, before the server is asked.
	if err := os.WriteFile(bad, []byte("apiVersion: seed.stratus.io/v1\nkind: Account\nname: x\nkeys: y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := apply(bad); err == nil || !strings.Contains(out, `bad.yaml:1: document 1 (Account "x"), field keys: unknown field`) {
		t.Errorf("unknown field: %v\n%s", err, out)
	}

	// Writes that fail midway (every VM start fails) are undone: the new
	// account made before the VM is gone again.
	adminKey, adminSecret := env(t, data, "cloudstack")["CLOUDSTACK_API_KEY"], env(t, data, "cloudstack")["CLOUDSTACK_SECRET_KEY"]
	root := csclient.New(csURL, adminKey, adminSecret, nil)
	if err := root.Do(context.Background(), "configureSimulator", url.Values{"name": {"StartCommand"}, "value": {"result:fail"}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(`apiVersion: seed.stratus.io/v1
kind: Account
name: undone
---
apiVersion: seed.stratus.io/v1
kind: VirtualMachine
account: undone
name: fails
zone: Sandbox-simulator-basic
offering: Micro
template: Debian 12
`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := apply(bad); err == nil || !strings.Contains(out, `document 2 (VirtualMachine "fails")`) || !strings.Contains(out, "nothing was applied") {
		t.Errorf("failing VM: %v\n%s", err, out)
	}
	accs, err := cloudstack.NewAsyncClient(csURL, adminKey, adminSecret, false).Account.ListAccounts(&cloudstack.ListAccountsParams{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accs.Accounts {
		if a.Name == "undone" {
			t.Error("account undone exists after a failed apply")
		}
	}

	// Reset goes back to the seeded state (the fault configured since is
	// gone with the rest).
	if out, err := kube("create", "configmap", "later", "-n", "seeded"); err != nil {
		t.Fatal(out)
	}
	if out, err := exec.Command(stratusBinary(t), "reset", "--data-dir", data).CombinedOutput(); err != nil {
		t.Fatalf("reset: %v\n%s", err, out)
	}
	if out, err := kube("get", "configmap", "-n", "seeded", "-o", "name"); err != nil || !strings.Contains(out, "configmap/settings") || strings.Contains(out, "later") {
		t.Errorf("after reset, configmaps in seeded: %q %v", out, err)
	}
	if vms, err := cs.VirtualMachine.ListVirtualMachines(cs.VirtualMachine.NewListVirtualMachinesParams()); err != nil || vms.Count != 1 {
		t.Errorf("after reset, the ci account's VMs: %+v %v", vms, err)
	}
}
