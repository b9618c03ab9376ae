package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/cloudstack-go/v2/cloudstack"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestLibcloudVMsJoin: Debian's python3-libcloud runs the README's recipe
// of the seed's provisioning (a key pair, a security group with
// TCP/UDP/ICMP rules, 3 etcd and 5 Kubernetes VMs with cloud-config user
// data): the 5 become nodes (client-go and kubectl see them with their
// labels, capacity, addresses and provider id), the 3 do not, nor does a
// VM whose join line has a wrong token, whose console (the cloudstack CLI's
// getVirtualMachineConsoleOutput) says why. Stopping, starting, rebooting
// and destroying VMs through libcloud reaches their nodes within seconds.
func TestLibcloudVMsJoin(t *testing.T) {
	testenv.Need(t, exec.Command("/usr/bin/python3", "-c", "import libcloud").Run() == nil, "python3-libcloud missing (apt-get install python3-libcloud)")
	testenv.Need(t, fileExists(kubectl133), kubectl133+" not found (the Google Cloud SDK ships it)")
	csCLI := testenv.LookPath(t, "cloudstack", "apt-get install cs")
	home := t.TempDir()
	c := startJoinable(t)
	p, csEnv, kEnv, kc := c.p, c.csEnv, c.kEnv, c.kc
	vars := map[string]string{"JOIN": c.join}
	for k, v := range csEnv {
		vars[k] = v
	}
	libcloud := func(args ...string) {
		t.Helper()
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
	shutdown := func(n *corev1.Node) bool {
		for _, tt := range n.Spec.Taints {
			if tt.Key == "node.cloudprovider.kubernetes.io/shutdown" {
				return true
			}
		}
		return false
	}

	// the README's recipe, as a user would copy it
	seed := filepath.Join(home, "seed.py")
	if err := os.WriteFile(seed, []byte(readmeBlock(t, "The seed's provisioning, rebuilt with Apache libcloud", "python")), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	run(t, vars, home, "/usr/bin/python3", seed)
	libcloud("check")
	libcloud("bad")
	k8s := []string{"k8s-1", "k8s-2", "k8s-3", "k8s-4", "k8s-5", "k8s-sh"}
	for _, name := range k8s {
		waitNode(name, "Ready", func(n *corev1.Node, err error) bool { return err == nil && nodeReady(n) == corev1.ConditionTrue })
	}
	t.Logf("10 VMs created and 6 nodes Ready in %v", time.Since(start))
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
	if !strings.Contains(out, "k8s-5") || !strings.Contains(out, addrs[corev1.NodeInternalIP]) {
		t.Errorf("kubectl get nodes -o wide:\n%s", out)
	}

	// stop: the shutdown taint and NotReady within seconds; start: back
	start = time.Now()
	libcloud("stop", "k8s-1")
	waitNode("k8s-1", "shut down", func(n *corev1.Node, err error) bool {
		return err == nil && shutdown(n) && nodeReady(n) != corev1.ConditionTrue
	})
	t.Logf("stopped VM's node tainted and NotReady in %v", time.Since(start))
	libcloud("start", "k8s-1")
	waitNode("k8s-1", "back", func(n *corev1.Node, err error) bool {
		return err == nil && !shutdown(n) && nodeReady(n) == corev1.ConditionTrue
	})

	// reboot: the node blinks, NotReady then Ready, as a watcher sees it
	w, err := kc.CoreV1().Nodes().Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=k8s-3", ResourceVersion: n.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	libcloud("reboot", "k8s-3")
	var seen []corev1.ConditionStatus
	timeout := time.After(20 * time.Second)
	for blinked := false; !blinked; {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch closed; Ready went %v", seen)
			}
			if nn, ok := ev.Object.(*corev1.Node); ok {
				if st := nodeReady(nn); len(seen) == 0 || seen[len(seen)-1] != st {
					seen = append(seen, st)
				}
				blinked = slices.Contains(seen, corev1.ConditionFalse) && seen[len(seen)-1] == corev1.ConditionTrue
			}
		case <-timeout:
			t.Fatalf("k8s-3 did not blink after its reboot: Ready went %v", seen)
		}
	}
	w.Stop()
	t.Logf("rebooted VM's node blinked (Ready went %v) in %v", seen, time.Since(start))

	// destroy: the node is deleted
	start = time.Now()
	libcloud("destroy", "k8s-2")
	waitNode("k8s-2", "deleted", func(_ *corev1.Node, err error) bool { return apierrors.IsNotFound(err) })
	t.Logf("destroyed VM's node deleted in %v", time.Since(start))

	// by now the etcd VMs and the one with a wrong token have long been
	// Running: none is a node
	for _, name := range []string{"etcd-1", "etcd-2", "etcd-3", "bad-1"} {
		if _, err := kc.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("%s is a node (%v)", name, err)
		}
	}
	// bad-1's console says why, through the cloudstack CLI
	var vms struct {
		VirtualMachine []struct {
			ID string `json:"id"`
		} `json:"virtualmachine"`
	}
	if err := json.Unmarshal([]byte(run(t, csEnv, home, csCLI, "listVirtualMachines", "name=bad-1")), &vms); err != nil || len(vms.VirtualMachine) != 1 {
		t.Fatalf("listVirtualMachines name=bad-1: %v %+v", err, vms)
	}
	raw := run(t, csEnv, home, csCLI, "getVirtualMachineConsoleOutput", "id="+vms.VirtualMachine[0].ID)
	var con struct {
		ConsoleOutput struct {
			ID     string `json:"id"`
			Output string `json:"output"`
		} `json:"consoleoutput"`
	}
	if err := json.Unmarshal([]byte(raw), &con); err != nil || con.ConsoleOutput.ID != vms.VirtualMachine[0].ID ||
		!strings.Contains(con.ConsoleOutput.Output, "stratus agent: the API server refused the token: Unauthorized (401)") ||
		strings.Contains(con.ConsoleOutput.Output, "not-the-token") {
		t.Errorf("bad-1's console output (%v):\n%s", err, raw)
	}
	p.stop(t) // its log is complete (and no longer written) once stopped
	if !strings.Contains(p.stderr.String(), "the API server refused the token") {
		t.Errorf("no log line says why bad-1 did not join")
	}
}

// nodeReady is the node's Ready condition.
func nodeReady(n *corev1.Node) corev1.ConditionStatus {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status
		}
	}
	return corev1.ConditionUnknown
}

// joinable is a running `stratus up` with what the join tests use: the
// join line and the clients' environments, and a client-go client.
type joinable struct {
	p           *upProcess
	join        string
	csEnv, kEnv map[string]string
	kc          kubernetes.Interface
}

func startJoinable(t testing.TB, upArgs ...string) joinable {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	p := startUp(t, dir, append([]string{"--runtime", "sim"}, upArgs...)...)
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
// `--metadata-from-file user-data=…` joins too, and its node carries GCE's
// provider id, gce://project/zone/instance; one whose join line has a
// wrong token joins nothing, and `gcloud compute instances
// get-serial-port-output` says why.
func TestGcloudVMJoins(t *testing.T) {
	gcloud := testenv.LookPath(t, "gcloud", "the Google Cloud SDK")
	c := startJoinable(t)
	home := t.TempDir()
	ud, bad := filepath.Join(home, "user-data"), filepath.Join(home, "bad-user-data")
	if err := os.WriteFile(ud, []byte("#cloud-config\nruncmd:\n  - [sh, -c, \"echo joining\"]\n  - "+c.join+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wrong := strings.SplitAfter(c.join, "--token ")[0] + "not-the-token"
	if err := os.WriteFile(bad, []byte("#!/bin/sh\n"+wrong+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gEnv := env(t, c.p.dataDir, "gcloud")
	run(t, gEnv, home, gcloud, "compute", "instances", "create", "gce-1", "--image", "debian-12", "--metadata-from-file", "user-data="+ud)
	run(t, gEnv, home, gcloud, "compute", "instances", "create", "gce-bad", "--image", "debian-12", "--metadata-from-file", "user-data="+bad)
	want := "gce://" + gEnv["CLOUDSDK_CORE_PROJECT"] + "/" + gEnv["CLOUDSDK_COMPUTE_ZONE"] + "/gce-1"
	ctx := context.Background()
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := c.kc.CoreV1().Nodes().Get(ctx, "gce-1", metav1.GetOptions{})
		if err == nil && n.Spec.ProviderID == want && nodeReady(n) == corev1.ConditionTrue {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gce-1 did not join as %s: %v %+v", want, err, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// the cloud controller follows a gce:// node too: stopped, it is shut down
	run(t, gEnv, home, gcloud, "compute", "instances", "stop", "gce-1")
	deadline = time.Now().Add(20 * time.Second)
	for {
		n, err := c.kc.CoreV1().Nodes().Get(ctx, "gce-1", metav1.GetOptions{})
		if err == nil && nodeReady(n) != corev1.ConditionTrue && len(n.Spec.Taints) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gce-1 stopped, its node not shut down: %v %+v", err, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// gce-bad has been Running since before gce-1 joined
	if _, err := c.kc.CoreV1().Nodes().Get(ctx, "gce-bad", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("gce-bad is a node (%v)", err)
	}
	out := run(t, gEnv, home, gcloud, "compute", "instances", "get-serial-port-output", "gce-bad")
	if !strings.Contains(out, "stratus agent: the API server refused the token: Unauthorized (401)") ||
		!strings.Contains(out, "--token <redacted>") || strings.Contains(out, "not-the-token") || !strings.Contains(out, "gce-bad login:") {
		t.Errorf("gce-bad's serial port output:\n%s", out)
	}
}

// TestHARestartBlinksNode: a host failure under a joined VM with HA (the
// "Small HA" offering) restarts the VM on another host; its node blinks,
// NotReady then Ready, within seconds, as a watcher sees, and is not left
// shut down. (A VM without HA stops instead: TestLoadBalancerService.)
func TestHARestartBlinksNode(t *testing.T) {
	c := startJoinable(t)
	cs := cloudstack.NewAsyncClient(c.csEnv["CLOUDSTACK_API_URL"], c.csEnv["CLOUDSTACK_API_KEY"], c.csEnv["CLOUDSTACK_SECRET_KEY"], false)
	zoneID, _, err := cs.Zone.GetZoneID("Sandbox-simulator")
	if err != nil {
		t.Fatal(err)
	}
	offID, _, err := cs.ServiceOffering.GetServiceOfferingID("Small HA")
	if err != nil {
		t.Fatal(err)
	}
	tmplID, _, err := cs.Template.GetTemplateID("Debian 12", "featured", zoneID)
	if err != nil {
		t.Fatal(err)
	}
	dp := cs.VirtualMachine.NewDeployVirtualMachineParams(offID, tmplID, zoneID)
	dp.SetName("ha-1")
	dp.SetUserdata(base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\n" + c.join + "\n")))
	vm, err := cs.VirtualMachine.DeployVirtualMachine(dp)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var n *corev1.Node
	testenv.Eventually(t, 20*time.Second, "ha-1 joined and Ready", func() bool {
		n, err = c.kc.CoreV1().Nodes().Get(ctx, "ha-1", metav1.GetOptions{})
		return err == nil && nodeReady(n) == corev1.ConditionTrue
	})
	w, err := c.kc.CoreV1().Nodes().Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=ha-1", ResourceVersion: n.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	fp := &cloudstack.CustomServiceParams{}
	fp.SetParam("name", "PingCommand")
	fp.SetParam("value", "result:fail")
	fp.SetParam("hostid", vm.Hostid)
	var mock map[string]any
	if err := cs.Custom.(*cloudstack.CustomService).CustomRequest("configureSimulator", fp, &mock); err != nil {
		t.Fatalf("configureSimulator: %v", err)
	}
	start := time.Now()
	var seen []corev1.ConditionStatus
	timeout := time.After(20 * time.Second)
	for blinked := false; !blinked; {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch closed; Ready went %v", seen)
			}
			if nn, ok := ev.Object.(*corev1.Node); ok {
				if st := nodeReady(nn); len(seen) == 0 || seen[len(seen)-1] != st {
					seen = append(seen, st)
				}
				blinked = slices.Contains(seen, corev1.ConditionFalse) && seen[len(seen)-1] == corev1.ConditionTrue
			}
		case <-timeout:
			t.Fatalf("ha-1 did not blink after its host failed: Ready went %v", seen)
		}
	}
	t.Logf("host failure: HA restart reached the node (Ready went %v) in %v", seen, time.Since(start))
	moved, _, err := cs.VirtualMachine.GetVirtualMachineByID(vm.Id)
	if err != nil || moved.State != "Running" || moved.Hostid == vm.Hostid {
		t.Fatalf("ha-1 not restarted elsewhere: %v %+v", err, moved)
	}
	n, err = c.kc.CoreV1().Nodes().Get(ctx, "ha-1", metav1.GetOptions{})
	if err != nil || len(n.Spec.Taints) != 0 || nodeReady(n) != corev1.ConditionTrue {
		t.Errorf("ha-1 after the HA restart: %v %+v", err, n)
	}
}

// TestConsoleOutputSurvivesRestart: the console of a VM whose join was
// refused (a wrong token) still says why after `stratus up` is stopped
// and started again on the same data dir, read with the CloudStack Go
// SDK. The VM is stopped before the restart, so no boot after it writes
// the reason again.
func TestConsoleOutputSurvivesRestart(t *testing.T) {
	c := startJoinable(t)
	sdk := func(e map[string]string) *cloudstack.CloudStackClient {
		return cloudstack.NewAsyncClient(e["CLOUDSTACK_API_URL"], e["CLOUDSTACK_API_KEY"], e["CLOUDSTACK_SECRET_KEY"], false)
	}
	cs := sdk(c.csEnv)
	zoneID, _, err := cs.Zone.GetZoneID("Sandbox-simulator-basic")
	if err != nil {
		t.Fatal(err)
	}
	offID, _, err := cs.ServiceOffering.GetServiceOfferingID("Micro")
	if err != nil {
		t.Fatal(err)
	}
	tmplID, _, err := cs.Template.GetTemplateID("Debian 12", "featured", zoneID)
	if err != nil {
		t.Fatal(err)
	}
	wrong := strings.SplitAfter(c.join, "--token ")[0] + "not-the-token"
	dp := cs.VirtualMachine.NewDeployVirtualMachineParams(offID, tmplID, zoneID)
	dp.SetName("bad-1")
	dp.SetUserdata(base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\n" + wrong + "\n")))
	vm, err := cs.VirtualMachine.DeployVirtualMachine(dp)
	if err != nil {
		t.Fatal(err)
	}
	const why = "stratus agent: the API server refused the token: Unauthorized (401)"
	console := func(cs *cloudstack.CloudStackClient) string {
		p := &cloudstack.CustomServiceParams{}
		p.SetParam("id", vm.Id)
		var out struct {
			ConsoleOutput struct {
				Output string `json:"output"`
			} `json:"consoleoutput"`
		}
		if err := cs.Custom.(*cloudstack.CustomService).CustomRequest("getVirtualMachineConsoleOutput", p, &out); err != nil {
			t.Fatalf("getVirtualMachineConsoleOutput: %v", err)
		}
		return out.ConsoleOutput.Output
	}
	testenv.Eventually(t, 20*time.Second, "bad-1's console to say why it did not join", func() bool { return strings.Contains(console(cs), why) })
	if _, err := cs.VirtualMachine.StopVirtualMachine(cs.VirtualMachine.NewStopVirtualMachineParams(vm.Id)); err != nil {
		t.Fatal(err)
	}
	before := console(cs)
	c.p.stop(t)

	p := startUp(t, c.p.dataDir, "--runtime", "sim")
	p.waitReady(t, 60*time.Second)
	after := console(sdk(env(t, c.p.dataDir, "cloudstack")))
	if after != before || strings.Count(after, why) != 1 {
		t.Errorf("bad-1's console after the restart:\n%s\nbefore it:\n%s", after, before)
	}
}
