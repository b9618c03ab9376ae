package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestLibcloudVMsJoin: Debian's python3-libcloud provisions as the seed did
// (a key pair, a security group with TCP/UDP/ICMP rules, VMs with
// cloud-config user data); the VMs whose user data runs `stratus
// join-command`'s line become nodes (client-go and kubectl see them with
// their labels, capacity, addresses and provider id), the one without it
// and the one with a wrong token do not; stopping, starting and
// destroying the VMs through libcloud reaches their nodes.
func TestLibcloudVMsJoin(t *testing.T) {
	testenv.Need(t, exec.Command("/usr/bin/python3", "-c", "import libcloud").Run() == nil, "python3-libcloud missing (apt-get install python3-libcloud)")
	testenv.Need(t, fileExists(kubectl133), kubectl133+" not found (the Google Cloud SDK ships it)")
	home := t.TempDir()
	c := startJoinable(t)
	p, csEnv, kEnv, kc := c.p, c.csEnv, c.kEnv, c.kc
	libcloud := func(args ...string) {
		t.Helper()
		vars := map[string]string{"JOIN": c.join}
		for k, v := range csEnv {
			vars[k] = v
		}
		out := run(t, vars, home, "/usr/bin/python3", append([]string{"testdata/libcloud_join.py"}, args...)...)
		if !strings.HasSuffix(strings.TrimSpace(out), "OK") {
			t.Fatalf("libcloud %v:\n%s", args, out)
		}
	}
	ctx := context.Background()
	waitNode := func(name, what string, cond func(n *corev1.Node, err error) bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			n, err := kc.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if cond(n, err) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %s: not %s: %v %+v", name, what, err, n)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	ready := func(n *corev1.Node) bool {
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				return c.Status == corev1.ConditionTrue
			}
		}
		return false
	}
	shutdown := func(n *corev1.Node) bool {
		for _, tt := range n.Spec.Taints {
			if tt.Key == "node.cloudprovider.kubernetes.io/shutdown" {
				return true
			}
		}
		return false
	}

	start := time.Now()
	libcloud("create")
	for _, name := range []string{"k8s-1", "k8s-2"} {
		waitNode(name, "Ready", func(n *corev1.Node, err error) bool { return err == nil && ready(n) })
	}
	t.Logf("4 VMs created and 2 nodes Ready in %v", time.Since(start))
	n, err := kc.CoreV1().Nodes().Get(ctx, "k8s-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	addrs := map[corev1.NodeAddressType]string{}
	for _, a := range n.Status.Addresses {
		addrs[a.Type] = a.Address
	}
	for k, want := range map[string]string{
		"kubernetes.io/hostname": "k8s-1", "topology.kubernetes.io/zone": "Sandbox-simulator-basic",
		"topology.kubernetes.io/region": "Local", "node.kubernetes.io/instance-type": "Medium",
	} {
		if n.Labels[k] != want {
			t.Errorf("label %s = %q, want %q", k, n.Labels[k], want)
		}
	}
	if c, m := n.Status.Capacity.Cpu().Value(), n.Status.Capacity.Memory().Value(); c != 2 || m != 4096<<20 {
		t.Errorf("capacity %d CPUs, %d bytes; want Medium's 2 and 4 GiB", c, m)
	}
	if addrs[corev1.NodeInternalIP] == "" || strings.HasPrefix(addrs[corev1.NodeInternalIP], "127.") {
		t.Errorf("InternalIP %q: want the VM's guest address", addrs[corev1.NodeInternalIP])
	}
	if !strings.HasPrefix(n.Spec.ProviderID, "cloudstack://Sandbox-simulator-basic/") {
		t.Errorf("providerID %q", n.Spec.ProviderID)
	}
	out := run(t, kEnv, home, kubectl133, "get", "nodes", "-o", "wide", "--no-headers")
	if !strings.Contains(out, "k8s-1") || !strings.Contains(out, addrs[corev1.NodeInternalIP]) {
		t.Errorf("kubectl get nodes -o wide:\n%s", out)
	}

	// stop: the shutdown taint and NotReady within seconds; start: back
	start = time.Now()
	libcloud("stop", "k8s-1")
	waitNode("k8s-1", "shut down", func(n *corev1.Node, err error) bool { return err == nil && shutdown(n) && !ready(n) })
	t.Logf("stopped VM's node tainted and NotReady in %v", time.Since(start))
	libcloud("start", "k8s-1")
	waitNode("k8s-1", "back", func(n *corev1.Node, err error) bool { return err == nil && !shutdown(n) && ready(n) })
	// destroy: the node is deleted
	start = time.Now()
	libcloud("destroy", "k8s-2")
	waitNode("k8s-2", "deleted", func(_ *corev1.Node, err error) bool { return apierrors.IsNotFound(err) })
	t.Logf("destroyed VM's node deleted in %v", time.Since(start))

	// by now the VM without a join line and the one with a wrong token
	// have long been Running: neither is a node
	for _, name := range []string{"etcd-1", "bad-1"} {
		if _, err := kc.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("%s is a node (%v)", name, err)
		}
	}
	p.stop(t) // its log is complete (and no longer written) once stopped
	if !strings.Contains(p.stderr.String(), "the API server refused the token") {
		t.Errorf("no log line says why bad-1 did not join")
	}
}

// joinable is a running `stratus up` with what the join tests use: the
// join line and the clients' environments, and a client-go client.
type joinable struct {
	p           *upProcess
	join        string
	csEnv, kEnv map[string]string
	kc          kubernetes.Interface
}

func startJoinable(t testing.TB) joinable {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	p := startUp(t, dir, "--runtime", "sim")
	p.waitReady(t, 60*time.Second)
	join, err := exec.Command(stratusBinary(t), "join-command", "--data-dir", dir).Output()
	if err != nil {
		t.Fatal(err)
	}
	kEnv := env(t, dir, "kubectl")
	cfg, err := clientcmd.BuildConfigFromFlags("", kEnv["KUBECONFIG"])
	if err != nil {
		t.Fatal(err)
	}
	return joinable{p: p, join: strings.TrimSpace(string(join)), csEnv: env(t, dir, "cloudstack"), kEnv: kEnv, kc: kubernetes.NewForConfigOrDie(cfg)}
}

// TestGcloudVMJoins: a VM made through the GCE gateway by gcloud with
// `--metadata-from-file user-data=…` joins too: the gateway hands the user
// data to CloudStack, where the join finds it.
func TestGcloudVMJoins(t *testing.T) {
	gcloud := testenv.LookPath(t, "gcloud", "the Google Cloud SDK")
	c := startJoinable(t)
	home := t.TempDir()
	ud := filepath.Join(home, "user-data")
	if err := os.WriteFile(ud, []byte("#cloud-config\nruncmd:\n  - [sh, -c, \"echo joining\"]\n  - "+c.join+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gEnv := env(t, c.p.dataDir, "gcloud")
	run(t, gEnv, home, gcloud, "compute", "instances", "create", "gce-1", "--image", "debian-12", "--metadata-from-file", "user-data="+ud)
	ctx := context.Background()
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := c.kc.CoreV1().Nodes().Get(ctx, "gce-1", metav1.GetOptions{})
		if err == nil && strings.HasPrefix(n.Spec.ProviderID, "cloudstack://") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gce-1 did not join: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
