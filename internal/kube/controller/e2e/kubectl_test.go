package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/kube/controller"
	"github.com/stratus-cloud/stratus/internal/netslot"
	"github.com/stratus-cloud/stratus/internal/proxy"
	rtexec "github.com/stratus-cloud/stratus/internal/runtime/exec"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

const kubectlPath = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33"

type kubectl struct {
	t          *testing.T
	bin        string
	kubeconfig string
	home       string
}

func newKubectl(t *testing.T, kubeconfig string) *kubectl {
	bin := testenv.LookPath(t, kubectlPath, "the Google Cloud SDK's kubectl component (gcloud components install kubectl)")
	return &kubectl{t: t, bin: bin, kubeconfig: kubeconfig, home: t.TempDir()}
}

func (k *kubectl) run(args ...string) (string, error) {
	return k.runIn("", args...)
}

func (k *kubectl) runIn(stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.bin, append([]string{"--kubeconfig", k.kubeconfig}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+k.home, "KUBECACHEDIR="+filepath.Join(k.home, "cache"))
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (k *kubectl) must(args ...string) string {
	k.t.Helper()
	out, err := k.run(args...)
	if err != nil {
		k.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (k *kubectl) eventually(within time.Duration, what string, cond func(out string) bool, args ...string) string {
	k.t.Helper()
	deadline := time.Now().Add(within)
	for {
		out, err := k.run(args...)
		if err == nil && cond(out) {
			return out
		}
		if time.Now().After(deadline) {
			k.t.Fatalf("timed out waiting for %s: kubectl %s:\n%s (err %v)", what, strings.Join(args, " "), out, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

const rcYAML = `apiVersion: v1
kind: ReplicationController
metadata:
  name: web
spec:
  replicas: 1
  selector:
    app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      tolerations:
      - key: node.kubernetes.io/unreachable
        operator: Exists
        effect: NoExecute
        tolerationSeconds: 0
      containers:
      - name: web
        image: nginx
        ports:
        - containerPort: 8080
`

const deployYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 3
  selector:
    matchLabels:
      app: app
  strategy:
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 1
  template:
    metadata:
      labels:
        app: app
    spec:
      containers:
      - name: app
        image: nginx:1.26
`

func countLines(s string) int { return len(strings.Fields(strings.TrimSpace(s))) }

// TestKubectl walks through the story of the issue with the real kubectl.
func TestKubectl(t *testing.T) {
	// The proxy and the sim listeners bind loopback addresses: take a share
	// of them as stratus up does, so a stratus running on this machine (or
	// another test) keeps its own.
	slot, err := netslot.Take("", -1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = slot.Release() })
	c := startClusterWith(t, controller.Options{NodeMonitorGracePeriod: 2 * time.Second, NodeMonitorPeriod: 200 * time.Millisecond,
		ClusterCIDR: slot.PodCIDR.String()}, apiservertest.Options{ServiceCIDR: slot.ServiceCIDR})
	k := newKubectl(t, c.srv.KubeconfigPath())
	timing := agent.Timing{LeaseDuration: 2 * time.Second, RenewInterval: 200 * time.Millisecond}
	simA := c.addAgent(t, "sim-a", sim.New(sim.Options{Ports: true}), timing)
	stoppedA := false
	t.Cleanup(func() {
		if !stoppedA {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = simA.Stop(ctx)
		}
	})
	simB := c.addAgent(t, "sim-b", sim.New(sim.Options{Ports: true}), timing)
	stopWithTimeout(t, "sim-b", simB.Stop)
	execNode := c.addAgent(t, "exec-node", rtexec.New(rtexec.Options{Dir: t.TempDir()}), timing)
	stopWithTimeout(t, "exec-node", execNode.Stop)
	// only pods that ask for it go to the exec node
	ctx := context.Background()
	// The agent writes the node too (status, heartbeats): retry on conflict.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := c.cs.CoreV1().Nodes().Get(ctx, "exec-node", metav1.GetOptions{})
		if err != nil {
			return err
		}
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "stratus.io/exec", Effect: corev1.TaintEffectNoSchedule})
		_, err = c.cs.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	px := proxy.New(proxy.Options{Client: c.cs, Log: testenv.Logger(), NodePortAddress: slot.NodeAddr.String()})
	if err := px.Start(ctx); err != nil {
		t.Fatal(err)
	}
	stopWithTimeout(t, "proxy", px.Stop)

	t.Log("get nodes: Ready")
	k.eventually(20*time.Second, "3 Ready nodes", func(out string) bool { return strings.Count(out, " Ready ") == 3 }, "get", "nodes")

	t.Log("run nginx reaches Running")
	k.must("run", "nginx", "--image=nginx", "--port=80")
	k.eventually(20*time.Second, "nginx Running", func(out string) bool { return strings.Contains(out, "Running") }, "get", "pod", "nginx")
	k.must("wait", "--for=condition=Ready", "pod/nginx", "--timeout=20s")
	desc := k.must("describe", "pod", "nginx")
	for _, want := range []string{"Scheduled", "Started", "Status:           Running"} {
		if !strings.Contains(desc, want) {
			t.Errorf("describe pod nginx lacks %q:\n%s", want, desc)
		}
	}

	t.Log("rc from YAML, scaled to 3 and back")
	if out, err := k.runIn(rcYAML, "create", "-f", "-"); err != nil {
		t.Fatalf("create rc: %v\n%s", err, out)
	}
	k.must("scale", "rc", "web", "--replicas=3")
	k.eventually(30*time.Second, "3 web pods Running", func(out string) bool { return countLines(out) == 3 },
		"get", "pods", "-l", "app=web", "--field-selector=status.phase=Running", "-o", "name")
	k.eventually(10*time.Second, "rc READY 3", func(out string) bool { return strings.TrimSpace(out) == "3" },
		"get", "rc", "web", "-o", "jsonpath={.status.readyReplicas}")
	k.must("scale", "rc", "web", "--replicas=1")
	k.eventually(30*time.Second, "1 web pod", func(out string) bool { return countLines(out) == 1 }, "get", "pods", "-l", "app=web", "-o", "name")
	k.must("scale", "rc", "web", "--replicas=3")
	k.eventually(30*time.Second, "3 web pods Running", func(out string) bool { return countLines(out) == 3 },
		"get", "pods", "-l", "app=web", "--field-selector=status.phase=Running", "-o", "name")

	t.Log("expose as NodePort: answers from more than one pod")
	k.must("expose", "rc", "web", "--port=8080", "--type=NodePort")
	port := strings.TrimSpace(k.eventually(10*time.Second, "node port", func(out string) bool { return strings.TrimSpace(out) != "" },
		"get", "svc", "web", "-o", "jsonpath={.spec.ports[0].nodePort}"))
	k.eventually(20*time.Second, "3 endpoints", func(out string) bool { return strings.Count(out, ":8080") == 3 },
		"get", "endpoints", "web", "-o", "jsonpath={range .subsets[*].addresses[*]}{.ip}:8080 {end}")
	seen := map[string]bool{}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(20 * time.Second)
	for len(seen) < 2 && time.Now().Before(deadline) {
		resp, err := client.Get("http://" + slot.NodeAddr.String() + ":" + port + "/")
		if err != nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		seen[strings.TrimSpace(string(b))] = true
	}
	if len(seen) < 2 {
		t.Fatalf("node port %s answered from %d pod(s): %v", port, len(seen), seen)
	}
	clusterIP := strings.TrimSpace(k.must("get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}"))
	if resp, err := client.Get("http://" + clusterIP + ":8080/"); err != nil {
		t.Errorf("cluster IP %s:8080: %v", clusterIP, err)
	} else {
		_ = resp.Body.Close()
	}

	t.Log("deployment rolled to a new image and rolled back")
	if out, err := k.runIn(deployYAML, "apply", "-f", "-"); err != nil {
		t.Fatalf("apply deployment: %v\n%s", err, out)
	}
	k.must("rollout", "status", "deployment/app", "--timeout=30s")
	k.must("set", "image", "deployment/app", "app=nginx:1.27")
	k.must("rollout", "status", "deployment/app", "--timeout=30s")
	k.eventually(20*time.Second, "image 1.27 everywhere", func(out string) bool { return strings.Count(out, "nginx:1.27") == 3 && !strings.Contains(out, "1.26") },
		"get", "pods", "-l", "app=app", "--field-selector=status.phase=Running", "-o", "jsonpath={range .items[*]}{.spec.containers[0].image} {end}")
	hist := k.must("rollout", "history", "deployment/app")
	if !strings.Contains(hist, "1 ") || !strings.Contains(hist, "2 ") {
		t.Errorf("rollout history:\n%s", hist)
	}
	k.must("rollout", "undo", "deployment/app")
	k.must("rollout", "status", "deployment/app", "--timeout=30s")
	k.eventually(20*time.Second, "image back to 1.26", func(out string) bool { return strings.Count(out, "nginx:1.26") == 3 && !strings.Contains(out, "1.27") },
		"get", "pods", "-l", "app=app", "-o", "jsonpath={range .items[*]}{.spec.containers[0].image} {end}")
	if rev := k.must("get", "deploy", "app", "-o", "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}"); strings.TrimSpace(rev) != "3" {
		t.Errorf("revision after undo %q, want 3", rev)
	}

	t.Log("logs of an exec-runtime pod")
	execPod := `apiVersion: v1
kind: Pod
metadata:
  name: hello
spec:
  restartPolicy: Never
  nodeSelector:
    kubernetes.io/hostname: exec-node
  tolerations:
  - key: stratus.io/exec
    operator: Exists
  containers:
  - name: hello
    image: sh
    command: ["sh", "-c", "for i in 1 2 3; do echo line $i from $HOSTNAME; done"]
`
	if out, err := k.runIn(execPod, "create", "-f", "-"); err != nil {
		t.Fatalf("create exec pod: %v\n%s", err, out)
	}
	k.eventually(20*time.Second, "exec pod Succeeded", func(out string) bool { return strings.TrimSpace(out) == "Succeeded" },
		"get", "pod", "hello", "-o", "jsonpath={.status.phase}")
	if out := k.must("logs", "hello"); out != "line 1 from hello\nline 2 from hello\nline 3 from hello\n" {
		t.Errorf("kubectl logs hello = %q", out)
	}
	if out := k.must("logs", "hello", "--tail=1"); out != "line 3 from hello\n" {
		t.Errorf("kubectl logs --tail=1 = %q", out)
	}

	t.Log("agent stopped: node NotReady, pods come back elsewhere")
	onA := func() []string {
		var names []string
		for _, p := range runningPods(t, c.cs, "default", "app=web") {
			if p.Spec.NodeName == "sim-a" {
				names = append(names, p.Name)
			}
		}
		return names
	}
	if len(onA()) == 0 {
		t.Log("no web pod on sim-a; moving on without the eviction check")
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	if err := simA.Stop(sctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	stoppedA = true
	k.eventually(20*time.Second, "sim-a NotReady", func(out string) bool { return strings.Contains(out, "NotReady") }, "get", "node", "sim-a")
	testenv.Eventually(t, 30*time.Second, "3 web pods running off sim-a", func() bool {
		pods := runningPods(t, c.cs, "default", "app=web")
		off := 0
		for _, p := range pods {
			if p.Spec.NodeName != "sim-a" {
				off++
			}
		}
		return off == 3
	})

	t.Log("delete rc removes its pods")
	k.must("delete", "rc", "web", "--wait=false")
	testenv.Eventually(t, 30*time.Second, "web pods gone from live nodes", func() bool {
		l, err := c.cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			return false
		}
		for _, p := range l.Items {
			if p.Spec.NodeName != "sim-a" {
				return false
			}
		}
		return true
	})
}
