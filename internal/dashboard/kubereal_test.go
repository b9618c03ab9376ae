package dashboard

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/kube/controller"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// newRealKube starts stratus's Kubernetes side over st, the way stratus up
// does: the API server, the controller manager, and one node agent with the
// simulated runtime. It returns an in-process client.
func newRealKube(t testing.TB, st store.Store) kubernetes.Interface {
	t.Helper()
	srv := apiservertest.StartWith(t, apiservertest.Options{Store: st})
	cfg := srv.LoopbackConfig()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := testenv.Logger()
	cm := controller.New(controller.Options{Client: cs, Log: log})
	if err := cm.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(agent.Options{Client: cs, NodeName: "node-a", Runtime: sim.New(sim.Options{}), Certs: agent.LocalCerts{Issue: srv.IssueKubeletServingCert, CA: srv.CACert()}, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Stop(ctx); err != nil {
			t.Errorf("stop agent: %v", err)
		}
		if err := cm.Stop(ctx); err != nil {
			t.Errorf("stop controllers: %v", err)
		}
	})
	return cs
}

// createDeployment makes a deployment of n replicas and a NodePort service
// in front of it.
func createDeployment(t testing.TB, cs kubernetes.Interface, name string, n int32) {
	t.Helper()
	ctx := context.Background()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &n,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: "nginx"}}},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: labels,
			Ports: []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}}},
	}
	if _, err := cs.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// scaleDeployment sets a deployment's replicas through its scale
// subresource, as kubectl scale does.
func scaleDeployment(t testing.TB, cs kubernetes.Interface, name string, n int32) {
	t.Helper()
	ctx := context.Background()
	sc, err := cs.AppsV1().Deployments("default").GetScale(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc.Spec.Replicas = n
	if _, err := cs.AppsV1().Deployments("default").UpdateScale(ctx, name, sc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestFollowKubeInProcess: with Options.KubeWatch (stratus up's wiring)
// the Kubernetes views hear of changes from the API server's in-process
// ListerWatcher.
func TestFollowKubeInProcess(t *testing.T) {
	srv := apiservertest.Start(t)
	cs, err := kubernetes.NewForConfig(srv.LoopbackConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kubeWatched(cs, func(g, v, r string) (*cache.ListWatch, error) { return srv.ListerWatcher(g, v, r+"x") }); err == nil {
		t.Fatal("no error for unknown resources")
	}
	watched, err := kubeWatched(cs, srv.ListerWatcher)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := newChanges()
	woke := c.wait()
	done := make(chan struct{})
	go func() { defer close(done); followKube(ctx, "pods", watched["pods"], c, testenv.Logger()) }()
	n := 0
	testenv.Eventually(t, 10*time.Second, "a change heard", func() bool {
		// The follower lists first: a pod made before that is no change.
		n++
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p%d", n), Namespace: "default"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}}
		if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-woke:
			return true
		case <-time.After(100 * time.Millisecond):
			return false
		}
	})
	cancel()
	<-done
}
