package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/cloudstack-go/v2/cloudstack"

	"github.com/stratus-cloud/stratus/internal/testenv"
)

// faultEnv drives one `stratus up` for the fault tests: the stratus CLI,
// kubectl and gcloud, each pointed at it with `stratus env`.
type faultEnv struct {
	t       *testing.T
	data    string
	up      *upProcess
	kubectl string
}

func (e *faultEnv) stratus(args ...string) (string, error) {
	out, err := exec.Command(stratusBinary(e.t), append(args, "--data-dir", e.data)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (e *faultEnv) mustStratus(args ...string) string {
	e.t.Helper()
	out, err := e.stratus(args...)
	if err != nil {
		e.t.Fatalf("stratus %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// kube runs kubectl; it returns the output and whether it succeeded.
func (e *faultEnv) kube(args ...string) (string, bool) {
	cmd := exec.Command(e.kubectl, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+env(e.t, e.data, "kubectl")["KUBECONFIG"])
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err == nil
}

// eventually retries kubectl until its output satisfies ok.
func (e *faultEnv) eventually(what string, ok func(out string) bool, args ...string) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := e.kube(args...)
		if ok(out) {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: kubectl %s still says:\n%s", what, strings.Join(args, " "), out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func is(want string) func(string) bool { return func(s string) bool { return s == want } }

func has(want string) func(string) bool {
	return func(s string) bool { return strings.Contains(s, want) }
}

func hasNot(want string) func(string) bool {
	return func(s string) bool { return !strings.Contains(s, want) }
}

const readyPath = `jsonpath={.status.conditions[?(@.type=="Ready")].status}`

// TestNodeFaultsAndMatching: node-pressure and node-gone as kubectl sees
// them (the kubelet's conditions, the node lifecycle controller's taints,
// the Node object going away and coming back), faults matched by label
// selector and by account (seen by kubectl, cloudstack-go and gcloud),
// and bad matches refused with a clear error.
func TestNodeFaultsAndMatching(t *testing.T) {
	e := &faultEnv{t: t, data: filepath.Join(t.TempDir(), "data"), kubectl: testenv.LookPath(t, "kubectl", "the kubectl binary")}
	gcloud := testenv.LookPath(t, "gcloud", "the Google Cloud SDK")
	e.up = startUp(t, e.data, "--runtime", "sim", "--sim-nodes", "3")
	e.up.waitReady(t, 60*time.Second)
	defer e.up.stop(t)

	t.Run("node-pressure: conditions and taints", func(t *testing.T) {
		if out, ok := e.kube("label", "node", "sim-node-1", "pool=b"); !ok {
			t.Fatal(out)
		}
		id := e.mustStratus("fault", "add", "node-pressure", "--selector", "pool=b", "--condition", "MemoryPressure,PIDPressure")
		e.eventually("MemoryPressure True", is("True"), "get", "node", "sim-node-1", "-o", `jsonpath={.status.conditions[?(@.type=="MemoryPressure")].status}`)
		e.eventually("the kubelet's reason", is("KubeletHasInsufficientPID"), "get", "node", "sim-node-1", "-o", `jsonpath={.status.conditions[?(@.type=="PIDPressure")].reason}`)
		e.eventually("the pressure taints", func(s string) bool {
			return strings.Contains(s, "node.kubernetes.io/memory-pressure:NoSchedule") && strings.Contains(s, "node.kubernetes.io/pid-pressure:NoSchedule") &&
				!strings.Contains(s, "disk-pressure")
		}, "get", "node", "sim-node-1", "-o", `jsonpath={range .spec.taints[*]}{.key}:{.effect} {end}`)
		if out, _ := e.kube("get", "node", "sim-node-0", "-o", `jsonpath={.status.conditions[?(@.type=="MemoryPressure")].status}`); out != "False" {
			t.Errorf("sim-node-0 (not selected) MemoryPressure %q", out)
		}
		// A pod bound for the node is not scheduled there.
		if out, ok := e.kube("run", "pressed", "--image", "nginx", "--overrides", `{"spec":{"nodeSelector":{"kubernetes.io/hostname":"sim-node-1"}}}`); !ok {
			t.Fatal(out)
		}
		e.eventually("the scheduler names the taint", has("memory-pressure"), "get", "pod", "pressed", "-o", `jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}`)
		if l := e.mustStratus("fault", "list"); !strings.Contains(l, id) || !strings.Contains(l, "nodes=sim-node-1") {
			t.Errorf("fault list:\n%s", l)
		}
		e.mustStratus("fault", "rm", id)
		e.eventually("MemoryPressure False after rm", is("False"), "get", "node", "sim-node-1", "-o", `jsonpath={.status.conditions[?(@.type=="MemoryPressure")].status}`)
		e.eventually("the taints gone", hasNot("pressure"), "get", "node", "sim-node-1", "-o", `jsonpath={range .spec.taints[*]}{.key} {end}`)
		e.eventually("the pod scheduled", is("Running"), "get", "pod", "pressed", "-o", "jsonpath={.status.phase}")
	})

	t.Run("node-gone: the Node object goes, and comes back", func(t *testing.T) {
		id := e.mustStratus("fault", "add", "node-gone", "--name", "sim-node-2")
		if out, ok := e.kube("get", "node", "sim-node-2"); ok || !strings.Contains(out, `nodes "sim-node-2" not found`) {
			t.Errorf("kubectl get node under node-gone: %v\n%s", ok, out)
		}
		e.mustStratus("fault", "rm", id)
		e.eventually("sim-node-2 registered and Ready again", is("True"), "get", "node", "sim-node-2", "-o", readyPath)
	})

	t.Run("pod-crash by label selector", func(t *testing.T) {
		e.mustStratus("fault", "add", "pod-crash", "--selector", "app=crashy", "--exit-code", "3")
		for _, p := range [][2]string{{"crash-a", "app=crashy"}, {"fine-b", "app=fine"}} {
			if out, ok := e.kube("run", p[0], "--image", "nginx", "--labels", p[1]); !ok {
				t.Fatal(out)
			}
		}
		e.eventually("the labelled pod crash-loops", has("CrashLoopBackOff"), "get", "pod", "crash-a")
		e.eventually("the other runs", is("Running"), "get", "pod", "fine-b", "-o", "jsonpath={.status.phase}")
	})

	t.Run("bad matches are refused", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"pod-crash", "--selector", "app in (("}, `selector "app in ((":`},
			{[]string{"pod-crash", "--namespace", "Bad_NS"}, `namespace "Bad_NS": a lowercase RFC 1123 label`},
			{[]string{"node-down", "--selector", "nothing=here"}, `no running simulated node matches selector "nothing=here"`},
			{[]string{"node-down", "--name", "sim-node-0", "--selector", "pool=b"}, "a node name or a label selector (one of them)"},
			{[]string{"node-pressure", "--name", "sim-node-0", "--condition", "Hunger"}, `condition "Hunger": want MemoryPressure, DiskPressure or PIDPressure`},
			{[]string{"node-pressure", "--name", "sim-node-0"}, "node-pressure needs conditions"},
			{[]string{"vm-start-failure", "--account", "nobody"}, `no account named "nobody"`},
			{[]string{"kube-api", "--account", "admin", "--status", "500"}, "not an account"},
			{[]string{"gce-api", "--account", "nobody", "--status", "500"}, `account "nobody" has no GCE project`},
			{[]string{"cloudstack", "--command", "StopCommand", "--value", "result:fail", "--selector", "a=b"}, "cloud faults take"},
		} {
			ids := func() string { // the list's first column (hits change)
				var out []string
				for _, l := range strings.Split(e.mustStratus("fault", "list"), "\n") {
					out = append(out, strings.Fields(l)[0])
				}
				return strings.Join(out, " ")
			}
			before := ids()
			out, err := e.stratus(append([]string{"fault", "add"}, c.args...)...)
			if err == nil || !strings.Contains(out, c.want) {
				t.Errorf("fault add %s: %v\n%s\nwant an error with %q", strings.Join(c.args, " "), err, out, c.want)
			}
			if after := ids(); after != before {
				t.Errorf("a refused fault changed the list:\n%s\n→\n%s", before, after)
			}
		}
	})

	t.Run("by account: cloudstack-go and gcloud", func(t *testing.T) {
		seed := filepath.Join(t.TempDir(), "seed.yaml")
		if err := os.WriteFile(seed, []byte("apiVersion: seed.stratus.io/v1\nkind: Account\nname: tester\napiKey: tester-key-1\nsecretKey: tester-secret-1\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		e.mustStratus("apply", "-f", seed)
		id := e.mustStratus("fault", "add", "vm-start-failure", "--account", "tester")
		cv := env(t, e.data, "cloudstack")
		deploy := func(key, secret string) error {
			cs := cloudstack.NewAsyncClient(cv["CLOUDSTACK_API_URL"], key, secret, false)
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
			_, err = cs.VirtualMachine.DeployVirtualMachine(cs.VirtualMachine.NewDeployVirtualMachineParams(offering, template, zone))
			return err
		}
		if err := deploy("tester-key-1", "tester-secret-1"); err == nil || !strings.Contains(err.Error(), `"errorcode":533`) {
			t.Errorf("tester's deploy under its account's fault: %v", err)
		}
		if err := deploy(cv["CLOUDSTACK_API_KEY"], cv["CLOUDSTACK_SECRET_KEY"]); err != nil {
			t.Errorf("admin's deploy under tester's fault: %v", err)
		}
		if l := e.mustStratus("fault", "list"); !strings.Contains(l, "account=tester") {
			t.Errorf("fault list:\n%s", l)
		}
		e.mustStratus("fault", "rm", id)

		// gcloud: the operation of an insert whose VM cannot start fails,
		// and gcloud reports its error; a gce-api fault on the admin's
		// project answers gcloud's calls with the status.
		home := t.TempDir()
		gEnv := env(t, e.data, "gcloud")
		gc := func(args ...string) (string, error) {
			cmd := exec.Command(gcloud, args...)
			cmd.Env = append(os.Environ(), "HOME="+home)
			for k, v := range gEnv {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
		if out, err := gc("compute", "zones", "list"); err != nil {
			t.Fatalf("gcloud compute zones list: %v\n%s", err, out)
		}
		start := e.mustStratus("fault", "add", "vm-start-failure")
		out, err := gc("compute", "instances", "create", "doomed", "--image", "debian-12")
		if err == nil || !strings.Contains(out, "ERROR: (gcloud.compute.instances.create)") {
			t.Errorf("gcloud instances create under vm-start-failure: %v\n%s", err, out)
		}
		t.Logf("gcloud says: %s", strings.TrimSpace(out))
		e.mustStratus("fault", "rm", start)
		gf := e.mustStratus("fault", "add", "gce-api", "--account", "admin", "--method", "GET", "--status", "503")
		if out, err := gc("compute", "zones", "list"); err == nil || !strings.Contains(out, "503") && !strings.Contains(out, "Injected fault") {
			t.Errorf("gcloud zones list under the admin's gce-api fault: %v\n%s", err, out)
		}
		if l := e.mustStratus("fault", "list"); !strings.Contains(l, "account=admin") || !strings.Contains(l, "project=") {
			t.Errorf("fault list:\n%s", l)
		}
		e.mustStratus("fault", "rm", gf)
	})
}

// TestFaultsKeptAcrossRestart: HTTP, node and pod faults live in the
// store: a restart keeps them (and they act again), a reset clears them,
// and a restart after the reset finds none.
func TestFaultsKeptAcrossRestart(t *testing.T) {
	e := &faultEnv{t: t, data: filepath.Join(t.TempDir(), "data"), kubectl: testenv.LookPath(t, "kubectl", "the kubectl binary")}
	e.up = startUp(t, e.data, "--runtime", "sim", "--sim-nodes", "2")
	e.up.waitReady(t, 60*time.Second)
	kubeFault := e.mustStratus("fault", "add", "kube-api", "--verb", "list", "--resource", "configmaps", "--status", "500", "--count", "5")
	if out, ok := e.kube("get", "configmaps"); ok || !strings.Contains(out, "Internal error occurred") {
		t.Fatalf("kubectl under the 500 fault: %v\n%s", ok, out)
	}
	nodeFault := e.mustStratus("fault", "add", "node-down", "--name", "sim-node-0")
	pressure := e.mustStratus("fault", "add", "node-pressure", "--name", "sim-node-1", "--condition", "DiskPressure")
	podFault := e.mustStratus("fault", "add", "pod-crash", "--name", "later", "--count", "3")
	e.up.stop(t)

	e.up = startUp(t, e.data, "--runtime", "sim", "--sim-nodes", "2")
	e.up.waitReady(t, 60*time.Second)
	l := e.mustStratus("fault", "list")
	for _, id := range []string{kubeFault, nodeFault, pressure, podFault} {
		if !strings.Contains(l, id) {
			t.Errorf("fault %s lost across the restart:\n%s", id, l)
		}
	}
	if !strings.Contains(l, "count 5, 4 left") {
		t.Errorf("the kube-api fault's hits were not kept:\n%s", l)
	}
	if out, ok := e.kube("get", "configmaps"); ok || !strings.Contains(out, "Internal error occurred") {
		t.Errorf("kubectl after the restart: %v\n%s", ok, out)
	}
	e.eventually("sim-node-0 still down after the restart", is("Unknown"), "get", "node", "sim-node-0", "-o", readyPath)
	e.eventually("sim-node-1 still under disk pressure", is("True"), "get", "node", "sim-node-1", "-o", `jsonpath={.status.conditions[?(@.type=="DiskPressure")].status}`)
	if out, ok := e.kube("run", "later", "--image", "nginx"); !ok {
		t.Fatal(out)
	}
	e.eventually("the kept pod-crash fault acts", has("CrashLoopBackOff"), "get", "pod", "later")

	e.mustStratus("reset")
	if l := e.mustStratus("fault", "list"); strings.Count(l, "\n") != 0 {
		t.Errorf("faults after reset:\n%s", l)
	}
	e.eventually("sim-node-0 back after the reset", is("True"), "get", "node", "sim-node-0", "-o", readyPath)
	e.up.stop(t)
	e.up = startUp(t, e.data, "--runtime", "sim", "--sim-nodes", "2")
	e.up.waitReady(t, 60*time.Second)
	defer e.up.stop(t)
	if l := e.mustStratus("fault", "list"); strings.Count(l, "\n") != 0 {
		t.Errorf("faults after reset and restart:\n%s", l)
	}
	if out, ok := e.kube("get", "configmaps"); !ok {
		t.Errorf("kubectl after reset and restart: %s", out)
	}
}
