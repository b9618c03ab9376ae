package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/cloudstack-go/v2/cloudstack"
	"golang.org/x/oauth2"
	compute "google.golang.org/api/compute/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestFault: each kind of fault `stratus fault add` injects, seen by the
// real client that would meet it, and gone once removed (or reset).
func TestFault(t *testing.T) {
	kubectl := testenv.LookPath(t, "kubectl", "the kubectl binary")
	data := filepath.Join(t.TempDir(), "data")
	up := startUp(t, data, "--runtime", "sim", "--sim-nodes", "1")
	up.waitReady(t, 60*time.Second)
	defer up.stop(t)
	ctx := context.Background()
	stratus := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(stratusBinary(t), append(args, "--data-dir", data)...).CombinedOutput()
		if err != nil {
			t.Fatalf("stratus %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	kenv := env(t, data, "kubectl")
	cfg, err := clientcmd.BuildConfigFromFlags("", kenv["KUBECONFIG"])
	if err != nil {
		t.Fatal(err)
	}
	kc := kubernetes.NewForConfigOrDie(cfg)
	if _, err := kc.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("client-go retries a 429", func(t *testing.T) {
		stratus("fault", "add", "kube-api", "--verb", "get", "--resource", "configmaps", "--name", "x", "--status", "429", "--retry-after", "1", "--count", "2")
		t0 := time.Now()
		if _, err := kc.CoreV1().ConfigMaps("default").Get(ctx, "x", metav1.GetOptions{}); err != nil {
			t.Fatalf("get through two 429s: %v", err)
		}
		if d := time.Since(t0); d < 2*time.Second {
			t.Errorf("the get took %s: client-go did not wait out two Retry-After: 1", d)
		}
		if l := stratus("fault", "list"); strings.Contains(l, "kube-api") {
			t.Errorf("a spent fault is still listed:\n%s", l)
		}
	})

	t.Run("kubectl sees a 500 until it is removed", func(t *testing.T) {
		id := stratus("fault", "add", "kube-api", "--verb", "list", "--resource", "configmaps", "--status", "500")
		if l := stratus("fault", "list"); !strings.Contains(l, id) || !strings.Contains(l, "verb=list,resource=configmaps") {
			t.Errorf("fault list:\n%s", l)
		}
		kube := exec.Command(kubectl, "get", "configmaps")
		kube.Env = append(os.Environ(), "KUBECONFIG="+kenv["KUBECONFIG"])
		if out, err := kube.CombinedOutput(); err == nil || !strings.Contains(string(out), "Internal error occurred") {
			t.Errorf("kubectl get configmaps under a 500 fault: %v\n%s", err, out)
		}
		stratus("fault", "rm", id)
		kube = exec.Command(kubectl, "get", "configmaps")
		kube.Env = append(os.Environ(), "KUBECONFIG="+kenv["KUBECONFIG"])
		if out, err := kube.CombinedOutput(); err != nil {
			t.Errorf("kubectl get configmaps after rm: %v\n%s", err, out)
		}
	})

	t.Run("latency and watch disconnects", func(t *testing.T) {
		stratus("fault", "add", "kube-api", "--verb", "get", "--resource", "configmaps", "--latency", "700ms", "--count", "1")
		t0 := time.Now()
		if _, err := kc.CoreV1().ConfigMaps("default").Get(ctx, "x", metav1.GetOptions{}); err != nil || time.Since(t0) < 700*time.Millisecond {
			t.Errorf("get under latency: %v after %s", err, time.Since(t0))
		}
		stratus("fault", "add", "kube-api", "--verb", "watch", "--resource", "configmaps", "--disconnect-after", "1s", "--count", "1")
		w, err := kc.CoreV1().ConfigMaps("default").Watch(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		t0 = time.Now()
		select {
		case _, ok := <-w.ResultChan():
			for ok {
				_, ok = <-w.ResultChan()
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the watch was not cut")
		}
		if d := time.Since(t0); d < 900*time.Millisecond || d > 5*time.Second {
			t.Errorf("the watch ended after %s, want about 1s", d)
		}
	})

	cv := env(t, data, "cloudstack")
	cs := cloudstack.NewAsyncClient(cv["CLOUDSTACK_API_URL"], cv["CLOUDSTACK_API_KEY"], cv["CLOUDSTACK_SECRET_KEY"], false)
	zone, _, err := cs.Zone.GetZoneID("Sandbox-simulator-basic")
	if err != nil {
		t.Fatal(err)
	}
	offering, _, err := cs.ServiceOffering.GetServiceOfferingID("Micro")
	if err != nil {
		t.Fatal(err)
	}
	template, _, err := cs.Template.GetTemplateID("Debian 12", "executable", zone)
	if err != nil {
		t.Fatal(err)
	}
	gv := env(t, data, "gcloud")
	tok, err := os.ReadFile(gv["CLOUDSDK_AUTH_ACCESS_TOKEN_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	gce, err := compute.NewService(ctx, option.WithEndpoint(gv["CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE"]),
		option.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: strings.TrimSpace(string(tok))})))
	if err != nil {
		t.Fatal(err)
	}
	project, gzone := gv["CLOUDSDK_CORE_PROJECT"], gv["CLOUDSDK_COMPUTE_ZONE"]

	t.Run("cloudstack-go gets the 530 and 533, the GCE operation fails", func(t *testing.T) {
		running, err := cs.VirtualMachine.DeployVirtualMachine(cs.VirtualMachine.NewDeployVirtualMachineParams(offering, template, zone))
		if err != nil {
			t.Fatal(err)
		}
		// A stop the agent fails is CloudStack's 530.
		stop := stratus("fault", "add", "cloudstack", "--command", "StopCommand", "--value", "result:fail", "--vm", running.Id)
		if _, err := cs.VirtualMachine.StopVirtualMachine(cs.VirtualMachine.NewStopVirtualMachineParams(running.Id)); err == nil || !strings.Contains(err.Error(), `"errorcode":530`) {
			t.Errorf("stop under a stop fault: %v", err)
		}
		stratus("fault", "rm", stop)
		// A deploy whose start fails everywhere finds no host, as
		// CloudStack says (533).
		id := stratus("fault", "add", "vm-start-failure")
		_, err = cs.VirtualMachine.DeployVirtualMachine(cs.VirtualMachine.NewDeployVirtualMachineParams(offering, template, zone))
		if err == nil || !strings.Contains(err.Error(), `"errorcode":533`) {
			t.Errorf("deploy under a start fault: %v", err)
		}
		op, err := gce.Instances.Insert(project, gzone, &compute.Instance{Name: "faulty", MachineType: "zones/" + gzone + "/machineTypes/n1-standard-1",
			Disks: []*compute.AttachedDisk{{Boot: true, AutoDelete: true, InitializeParams: &compute.AttachedDiskInitializeParams{
				SourceImage: "projects/debian-cloud/global/images/family/debian-12"}}}}).Do()
		if err != nil {
			t.Fatal(err)
		}
		if err := gceWait(ctx, gce, project, gzone, op); err == nil {
			t.Error("the GCE insert's operation succeeded under a start fault")
		}
		stratus("fault", "rm", id)
		if _, err := cs.VirtualMachine.DeployVirtualMachine(cs.VirtualMachine.NewDeployVirtualMachineParams(offering, template, zone)); err != nil {
			t.Errorf("deploy after rm: %v", err)
		}
	})

	t.Run("host down and back", func(t *testing.T) {
		id := stratus("fault", "add", "host-down", "--host", "c2-h0")
		hostState := func() string {
			p := cs.Host.NewListHostsParams()
			p.SetName("c2-h0")
			h, err := cs.Host.ListHosts(p)
			if err != nil || h.Count != 1 {
				t.Fatalf("listHosts: %v", err)
			}
			return h.Hosts[0].State
		}
		if s := hostState(); s == "Up" {
			t.Errorf("host c2-h0 under host-down: %s", s)
		}
		stratus("fault", "rm", id)
		if s := hostState(); s != "Up" {
			t.Errorf("host c2-h0 after rm: %s", s)
		}
	})

	t.Run("node down and back", func(t *testing.T) {
		host, _ := os.Hostname()
		nodes, err := kc.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var node string
		for _, n := range nodes.Items {
			if n.Name != strings.ToLower(host) {
				node = n.Name
			}
		}
		ready := func() string {
			kube := exec.Command(kubectl, "get", "node", node, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
			kube.Env = append(os.Environ(), "KUBECONFIG="+kenv["KUBECONFIG"])
			out, err := kube.CombinedOutput()
			if err != nil {
				t.Fatalf("kubectl get node: %v\n%s", err, out)
			}
			return string(out)
		}
		id := stratus("fault", "add", "node-down", "--name", node)
		if r := ready(); r != "Unknown" {
			t.Errorf("node %s under node-down: Ready %q", node, r)
		}
		stratus("fault", "rm", id)
		deadline := time.Now().Add(30 * time.Second)
		for ready() != "True" {
			if time.Now().After(deadline) {
				t.Fatalf("node %s not Ready again after rm", node)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})

	t.Run("gce-api error, and reset removes faults", func(t *testing.T) {
		stratus("fault", "add", "gce-api", "--method", "GET", "--path", "/zones/", "--status", "503")
		_, err := gce.Zones.Get(project, gzone).Do()
		var ge *googleapi.Error
		if !errors.As(err, &ge) || ge.Code != 503 {
			t.Errorf("zones.get under a 503 fault: %v", err)
		}
		stratus("reset")
		if l := stratus("fault", "list"); strings.Count(l, "\n") != 0 {
			t.Errorf("faults after reset:\n%s", l)
		}
		if _, err := gce.Zones.Get(project, gzone).Do(); err != nil {
			t.Errorf("zones.get after reset: %v", err)
		}
	})
}
