package main

import (
	"context"
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
	"sigs.k8s.io/yaml"
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
	_, err = kc.CoreV1().ConfigMaps("kube-system").Create(ctx, &corev1.ConfigMap{
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
		t.Fatal(err)
	}
	n := int32(replicas)
	labels := map[string]string{"app": "crunch"}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "crunch"}, Spec: appsv1.DeploymentSpec{
		Replicas: &n, Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
			// only the group's nodes take them: the host's node has no such label
			NodeSelector: map[string]string{"node.kubernetes.io/instance-type": "Large"},
			Containers: []corev1.Container{{Name: "c", Image: "busybox", Command: []string{"sleep", "3600"},
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}}}}}}
	cpu0 := cpuSeconds(c.p.cmd.Process.Pid)
	if _, err := kc.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	poll := func(what string, limit time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	groupNodes := func() int {
		nl, err := kc.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return -1
		}
		k := 0
		for _, nd := range nl.Items {
			if strings.HasPrefix(nd.Name, "pool-a-") {
				k++
			}
		}
		return k
	}
	start := time.Now()
	poll("every pod Running", 60*time.Second, func() bool {
		pl, err := kc.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=crunch"})
		running := 0
		for _, p := range pl.Items {
			if p.Status.Phase == corev1.PodRunning {
				running++
			}
		}
		return err == nil && running == replicas
	})
	t.Logf("%d pods Running on %d new nodes in %v (server CPU %.1f s)", replicas, groupNodes(), time.Since(start), cpuSeconds(c.p.cmd.Process.Pid)-cpu0)
	if got := groupNodes(); got < replicas/4 || got > replicas/4+2 {
		t.Errorf("%d nodes for %d 1-CPU pods on 4-CPU nodes", got, replicas)
	}
	poll("the data center file's group at its min (1 node)", 20*time.Second, func() bool {
		nl, err := kc.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		k := 0
		for _, nd := range nl.Items {
			if strings.HasPrefix(nd.Name, "pool-dc-") {
				k++
			}
		}
		return err == nil && k == 1
	})
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
	zero := int32(0)
	d, err := kc.AppsV1().Deployments("default").Get(ctx, "crunch", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Spec.Replicas = &zero
	if _, err := kc.AppsV1().Deployments("default").Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	poll("the group back to min (0)", 60*time.Second, func() bool { return groupNodes() == 0 })
	t.Logf("scaled down in %v", time.Since(start))
	poll("ScaleDown events on the nodes", 10*time.Second, func() bool { return events("ScaleDown", "Node") > 0 })
}
