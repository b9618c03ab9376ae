package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
)

// fakeCluster is a client-go fake clientset with a node, a deployment and a
// NodePort service: the Kubernetes views are tested against it, and the
// "controller" here is the test itself (it adds the pods a scale asks for).
type fakeCluster struct {
	t  testing.TB
	cs *fake.Clientset
}

func newFakeCluster(t testing.TB) *fakeCluster {
	three := int32(1)
	cs := fake.NewClientset(
		&corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "node-1"},
			Status: corev1.NodeStatus{
				Capacity:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi")},
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
			},
		},
		&appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
			Spec:       appsv1.DeploymentSpec{Replicas: &three},
		},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, ClusterIP: "10.96.0.10",
				Ports: []corev1.ServicePort{{Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP}}},
		},
	)
	return &fakeCluster{t: t, cs: cs}
}

// scale sets the deployment's replicas and plays the controller: it creates
// the pods (Running) and reports the status; the fake's watches tell the
// dashboard.
func (c *fakeCluster) scale(ctx context.Context, n int32) {
	c.t.Helper()
	d, err := c.cs.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	d.Spec.Replicas = &n
	d.Status = appsv1.DeploymentStatus{Replicas: n, ReadyReplicas: n, AvailableReplicas: n, UpdatedReplicas: n}
	if _, err := c.cs.AppsV1().Deployments("default").Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		c.t.Fatal(err)
	}
	for i := range n {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("web-%d", i)},
			Spec:       corev1.PodSpec{NodeName: "node-1"},
			Status:     corev1.PodStatus{Phase: corev1.PodRunning, PodIP: fmt.Sprintf("10.244.0.%d", i+2)},
		}
		if _, err := c.cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil && !strings.Contains(err.Error(), "already exists") {
			c.t.Fatal(err)
		}
	}
}

func TestKubeViews(t *testing.T) {
	cluster := newFakeCluster(t)
	site := newSite(t, newFakeCS(t), kubernetes.Interface(cluster.cs))
	cluster.scale(context.Background(), 3)

	admin := site.browser(t)
	admin.login("admin", "password")
	if _, body := admin.get("/client/kube"); !strings.Contains(body, "No node groups") {
		t.Errorf("kube page without an autoscaler shows node groups")
	}
	// the autoscaler's status, as internal/kube/cloudprovider writes it
	if _, err := cluster.cs.CoreV1().ConfigMaps("kube-system").Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "cluster-autoscaler-status"},
		Data: map[string]string{"status": `time: 2026-12-07 18:00:00 +0000 UTC
autoscalerStatus: Running
nodeGroups:
- name: pool-a
  health:
    status: Healthy
    nodeCounts:
      registered: {total: 3, ready: 2, unready: 1}
      unregistered: 1
    cloudProviderTarget: 4
    minSize: 0
    maxSize: 10
  scaleUp: {status: InProgress}
  scaleDown: {status: NoCandidates}
`}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	resp, body := admin.get("/client/kube")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{
		`id="kube-nodes">1/1<`, `id="kube-pods">3<`, `<td class="desired">3</td>`,
		`href="http://127.0.0.1:30080/"`, `data-name="web-2"`, `Running 3`,
		`<tr data-name="pool-a"><td class="mono">pool-a</td><td class="ready">2/3</td><td>1</td><td class="target">4</td><td>0</td><td>10</td><td>InProgress</td>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("kube page lacks %s", want)
		}
	}
	_, body = admin.get("/client/")
	if !strings.Contains(body, `id="count-pods">3<`) || !strings.Contains(body, `href="/client/kube"`) {
		t.Errorf("overview lacks the Kubernetes part:\n%s", body)
	}

	alice := site.browser(t)
	alice.login("alice", "wonderland")
	if resp, body := alice.get("/client/kube"); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "root administrators only") {
		t.Errorf("alice on /client/kube: %d", resp.StatusCode)
	}
	if resp, _ := alice.get("/client/live?view=kube"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("alice's kube stream: %d", resp.StatusCode)
	}
	if _, body := alice.get("/client/"); strings.Contains(body, "count-pods") {
		t.Error("alice's overview shows pods")
	}
}
