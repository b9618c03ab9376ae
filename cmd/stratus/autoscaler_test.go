package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"sigs.k8s.io/yaml"

	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestAutoscaler: a node group in the autoscaler's ConfigMap (4-CPU
// offering, min 0); a Deployment of pods asking 1 CPU each that no node
// can take makes the autoscaler deploy VMs with the join user data
// through the CloudStack API, they join, and every pod runs; scaled to
// zero, the group's VMs are destroyed once their nodes are empty. A group
// of the data center file (min 1) gets its one node at once. The decisions
// are events on the pods (TriggeredScaleUp) and nodes (ScaleDown), and the
// status ConfigMap lists both groups.
func TestAutoscaler(t *testing.T) {
	dcFile := filepath.Join(t.TempDir(), "dc.yaml")
	example, err := exec.Command(stratusBinary(t), "datacenter", "example").Output()
	if err != nil {
		t.Fatal(err)
	}
	example = append(example, []byte("\nnodeGroups:\n  - {name: pool-dc, zone: Sandbox-simulator-basic, offering: Small, template: \"Debian 12\", min: 1, max: 3}\n")...)
	if err := os.WriteFile(dcFile, example, 0o600); err != nil {
		t.Fatal(err)
	}
	c := startJoinable(t, "--datacenter", dcFile)
	ctx := context.Background()
	kc := c.kc
	replicas := 40
	if testing.Short() {
		replicas = 8
	}
	if v, err := strconv.Atoi(os.Getenv("STRATUS_AUTOSCALER_PODS")); err == nil && v > 0 {
		replicas = v // the figure: 1000
	}
	createAutoscalerGroup(t, kc)
	cpu0 := cpuSeconds(c.p.cmd.Process.Pid)
	createCrunch(t, kc, replicas)
	poll := func(what string, limit time.Duration, cond func() bool) {
		t.Helper()
		testenv.Eventually(t, limit, what, cond)
	}
	groupNodes := func() int { return countNodes(ctx, kc, "pool-a-") }
	start := time.Now()
	waitCrunch(t, kc, 60*time.Second, "every pod Running", func(running int) bool { return running == replicas })
	t.Logf("%d pods Running on %d new nodes in %v (server CPU %.1f s)", replicas, groupNodes(), time.Since(start), cpuSeconds(c.p.cmd.Process.Pid)-cpu0)
	if got := groupNodes(); got < replicas/4 || got > replicas/4+2 {
		t.Errorf("%d nodes for %d 1-CPU pods on 4-CPU nodes", got, replicas)
	}
	poll("the data center file's group at its min (1 node)", 20*time.Second, func() bool { return countNodes(ctx, kc, "pool-dc-") == 1 })
	events := func(reason, kind string) int {
		el, err := kc.CoreV1().Events("").List(ctx, metav1.ListOptions{FieldSelector: "reason=" + reason})
		if err != nil {
			return -1
		}
		k := 0
		for _, e := range el.Items {
			if e.InvolvedObject.Kind == kind && e.Source.Component == "cluster-autoscaler" {
				k++
			}
		}
		return k
	}
	poll("TriggeredScaleUp events on the pods", 10*time.Second, func() bool { return events("TriggeredScaleUp", "Pod") > 0 })
	var st struct {
		NodeGroups []struct {
			Name   string `json:"name"`
			Health struct {
				CloudProviderTarget int `json:"cloudProviderTarget"`
				MinSize             int `json:"minSize"`
				MaxSize             int `json:"maxSize"`
				NodeCounts          struct {
					Registered struct {
						Ready int `json:"ready"`
					} `json:"registered"`
				} `json:"nodeCounts"`
			} `json:"health"`
		} `json:"nodeGroups"`
	}
	poll("the status ConfigMap with both groups, at their sizes", 10*time.Second, func() bool {
		cm, err := kc.CoreV1().ConfigMaps("kube-system").Get(ctx, "cluster-autoscaler-status", metav1.GetOptions{})
		if err != nil || yaml.Unmarshal([]byte(cm.Data["status"]), &st) != nil || len(st.NodeGroups) != 2 {
			return false
		}
		dcg, cmg := st.NodeGroups[0], st.NodeGroups[1]
		return dcg.Name == "pool-dc" && dcg.Health.MinSize == 1 && dcg.Health.MaxSize == 3 && dcg.Health.NodeCounts.Registered.Ready == 1 &&
			cmg.Name == "pool-a" && cmg.Health.MaxSize == 400 && cmg.Health.NodeCounts.Registered.Ready == groupNodes()
	})
	scaleCrunch(t, kc, 0)
	start = time.Now()
	waitNodes(t, kc, 60*time.Second, "the group back to min (0)", "pool-a-", func(n int) bool { return n == 0 })
	t.Logf("scaled down in %v", time.Since(start))
	poll("ScaleDown events on the nodes", 10*time.Second, func() bool { return events("ScaleDown", "Node") > 0 })
}

// createAutoscalerGroup declares pool-a in the autoscaler's ConfigMap:
// the 4-CPU offering (Large), min 0, max 400, nodes empty for 2 s go.
func createAutoscalerGroup(tb testing.TB, kc kubernetes.Interface) {
	tb.Helper()
	_, err := kc.CoreV1().ConfigMaps("kube-system").Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "stratus-autoscaler"},
		Data: map[string]string{"scaleDownAfter": "2s", "groups": `
- name: pool-a
  zone: Sandbox-simulator-basic
  offering: Large
  template: Debian 12
  min: 0
  max: 400
`}}, metav1.CreateOptions{})
	if err != nil {
		tb.Fatal(err)
	}
}

// createCrunch creates the Deployment "crunch" of replicas pods asking
// 1 CPU each, which only pool-a's nodes (instance type Large) take.
func createCrunch(tb testing.TB, kc kubernetes.Interface, replicas int) {
	tb.Helper()
	n := int32(replicas)
	labels := map[string]string{"app": "crunch"}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "crunch"}, Spec: appsv1.DeploymentSpec{
		Replicas: &n, Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
			// only the group's nodes take them: the host's node has no such label
			NodeSelector: map[string]string{"node.kubernetes.io/instance-type": "Large"},
			Containers: []corev1.Container{{Name: "c", Image: "busybox", Command: []string{"sleep", "3600"},
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}}}}}}
	if _, err := kc.AppsV1().Deployments("default").Create(context.Background(), dep, metav1.CreateOptions{}); err != nil {
		tb.Fatal(err)
	}
}

// scaleCrunch sets the Deployment's replicas with a merge patch of its
// scale subresource: no resourceVersion, so the controller's status writes
// meanwhile cannot make it conflict (a get and update did, under load).
func scaleCrunch(tb testing.TB, kc kubernetes.Interface, replicas int32) {
	tb.Helper()
	patch := []byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas))
	if _, err := kc.AppsV1().Deployments("default").Patch(context.Background(), "crunch", types.MergePatchType, patch, metav1.PatchOptions{}, "scale"); err != nil {
		tb.Fatal(err)
	}
}

// waitCrunch waits until done holds for the number of crunch's Running
// pods, following a watch (a poll of a thousand pods would cost the
// server more than what a benchmark measures).
func waitCrunch(tb testing.TB, kc kubernetes.Interface, within time.Duration, what string, done func(running int) bool) {
	tb.Helper()
	lw := cache.NewFilteredListWatchFromClient(kc.CoreV1().RESTClient(), "pods", "default",
		func(o *metav1.ListOptions) { o.LabelSelector = "app=crunch" })
	running := map[string]bool{}
	untilWatched(tb, lw, &corev1.Pod{}, within, what, func(ev watch.Event) bool {
		p, ok := ev.Object.(*corev1.Pod)
		if !ok {
			return false
		}
		if ev.Type == watch.Deleted || p.Status.Phase != corev1.PodRunning {
			delete(running, p.Name)
		} else {
			running[p.Name] = true
		}
		return done(len(running))
	})
}

// waitNodes waits until done holds for the number of nodes named
// prefix…, following a watch.
func waitNodes(tb testing.TB, kc kubernetes.Interface, within time.Duration, what, prefix string, done func(n int) bool) {
	tb.Helper()
	lw := cache.NewListWatchFromClient(kc.CoreV1().RESTClient(), "nodes", "", fields.Everything())
	nodes := map[string]bool{}
	untilWatched(tb, lw, &corev1.Node{}, within, what, func(ev watch.Event) bool {
		n, ok := ev.Object.(*corev1.Node)
		if !ok || !strings.HasPrefix(n.Name, prefix) {
			return done(len(nodes))
		}
		if ev.Type == watch.Deleted {
			delete(nodes, n.Name)
		} else {
			nodes[n.Name] = true
		}
		return done(len(nodes))
	})
}

// untilWatched runs client-go's UntilWithSync: cond sees every object
// listed, then every change.
func untilWatched(tb testing.TB, lw cache.ListerWatcher, obj runtime.Object, within time.Duration, what string, cond func(watch.Event) bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if _, err := watchtools.UntilWithSync(ctx, lw, obj, nil, func(ev watch.Event) (bool, error) { return cond(ev), nil }); err != nil {
		tb.Fatalf("waiting for %s: %v", what, err)
	}
}

// countNodes counts the nodes whose name starts with prefix (-1 on an
// error).
func countNodes(ctx context.Context, kc kubernetes.Interface, prefix string) int {
	nl, err := kc.CoreV1().Nodes().List(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return -1
	}
	k := 0
	for _, nd := range nl.Items {
		if strings.HasPrefix(nd.Name, prefix) {
			k++
		}
	}
	return k
}

// BenchmarkAutoscale1000: the autoscaler figure, on the product
// path. 1,000 Pending pods of 1 CPU make the autoscaler deploy 4-CPU VMs
// through the CloudStack API; they join, and the pods run (target ≤ 10 s
// to all Running); scaled to 0, the group goes back to min (0 nodes).
// Reports both times with the server's CPU seconds for each, and its RSS.
func BenchmarkAutoscale1000(b *testing.B) {
	const pods = 1000
	for range b.N {
		b.StopTimer()
		c := startJoinable(b)
		ctx := context.Background()
		createAutoscalerGroup(b, c.kc)
		pid := c.p.cmd.Process.Pid
		cpu0 := cpuSeconds(pid)
		prof := serverProfile(b, c.p.dataDir, "autoscale1000")
		b.StartTimer()
		start := time.Now()
		createCrunch(b, c.kc, pods)
		waitCrunch(b, c.kc, 120*time.Second, "every pod Running", func(running int) bool { return running == pods })
		up := time.Since(start)
		cpuUp := cpuSeconds(pid) - cpu0
		nodes := countNodes(ctx, c.kc, "pool-a-")
		rss := rssMB(pid)
		prof()
		cpu1 := cpuSeconds(pid)
		start = time.Now()
		scaleCrunch(b, c.kc, 0)
		waitNodes(b, c.kc, 120*time.Second, "the group back to min (0)", "pool-a-", func(n int) bool { return n == 0 })
		down := time.Since(start)
		b.StopTimer()
		b.ReportMetric(up.Seconds(), "s-to-running")
		b.ReportMetric(cpuUp, "server-cpu-s-up")
		b.ReportMetric(float64(nodes), "nodes")
		b.ReportMetric(rss, "server-RSS-MB")
		b.ReportMetric(down.Seconds(), "s-to-min")
		b.ReportMetric(cpuSeconds(pid)-cpu1, "server-cpu-s-down")
		b.ReportMetric(peakRSSMB(pid), "server-peak-RSS-MB")
		c.p.stop(b)
	}
}
