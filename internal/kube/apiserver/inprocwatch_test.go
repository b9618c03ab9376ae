package apiserver_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestListerWatcher: the in-process ListerWatcher lists and watches as the
// API does (resource versions, selectors, deletes at the deleting
// revision, bad selectors refused), and an informer runs on it.
func TestListerWatcher(t *testing.T) {
	srv := apiservertest.Start(t)
	cs, err := kubernetes.NewForConfig(srv.LoopbackConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pods := cs.CoreV1().Pods("default")
	pod := func(name string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}}
	}
	a, err := pods.Create(ctx, pod("a"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.ListerWatcher("", "v1", "nosuch"); err == nil {
		t.Fatal("a ListerWatcher of an unknown resource")
	}
	lw, err := srv.ListerWatcher("", "v1", "pods")
	if err != nil {
		t.Fatal(err)
	}
	obj, err := lw.List(metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	list := obj.(*corev1.PodList)
	if len(list.Items) != 1 || list.Items[0].Name != "a" || list.Items[0].ResourceVersion != a.ResourceVersion || list.ResourceVersion == "" {
		t.Fatalf("list: rv %q, items %+v", list.ResourceVersion, list.Items)
	}
	if _, err := lw.Watch(metav1.ListOptions{LabelSelector: "app in (("}); !apierrors.IsBadRequest(err) {
		t.Fatalf("bad selector: err = %v, want BadRequest", err)
	}

	all, err := lw.Watch(metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer all.Stop()
	onlyB, err := lw.Watch(metav1.ListOptions{ResourceVersion: list.ResourceVersion, LabelSelector: "app=b"})
	if err != nil {
		t.Fatal(err)
	}
	defer onlyB.Stop()

	b, err := pods.Create(ctx, pod("b"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.Labels["x"] = "y"
	a, err = pods.Update(ctx, a, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pods.Delete(ctx, "b", *metav1.NewDeleteOptions(0)); err != nil {
		t.Fatal(err)
	}
	got := func(w watch.Interface, n int) []string {
		t.Helper()
		var out []string
		for len(out) < n {
			select {
			case ev := <-w.ResultChan():
				p := ev.Object.(*corev1.Pod)
				out = append(out, fmt.Sprintf("%s %s", ev.Type, p.Name))
				if ev.Type == watch.Modified && p.ResourceVersion != a.ResourceVersion {
					t.Errorf("MODIFIED a at %s, the update answered %s", p.ResourceVersion, a.ResourceVersion)
				}
				if ev.Type == watch.Added && p.Name == "b" && p.ResourceVersion != b.ResourceVersion {
					t.Errorf("ADDED b at %s, the create answered %s", p.ResourceVersion, b.ResourceVersion)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("events so far %v, want %d", out, n)
			}
		}
		return out
	}
	if ev := fmt.Sprint(got(all, 3)); ev != "[ADDED b MODIFIED a DELETED b]" {
		t.Fatalf("all pods: %s", ev)
	}
	if ev := fmt.Sprint(got(onlyB, 2)); ev != "[ADDED b DELETED b]" {
		t.Fatalf("app=b: %s", ev)
	}
	onlyB.Stop()
	select {
	case _, open := <-onlyB.ResultChan():
		for open {
			_, open = <-onlyB.ResultChan()
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the watch goes on after Stop")
	}

	inf := cache.NewSharedIndexInformer(lw, &corev1.Pod{}, 0, cache.Indexers{})
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	go inf.RunWithContext(ictx)
	testenv.Eventually(t, 10*time.Second, "informer synced with pod a", func() bool {
		o, ok, _ := inf.GetStore().GetByKey("default/a")
		return inf.HasSynced() && ok && o.(*corev1.Pod).ResourceVersion == a.ResourceVersion
	})
	if _, err := pods.Create(ctx, pod("c"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "informer sees pod c", func() bool {
		_, ok, _ := inf.GetStore().GetByKey("default/c")
		return ok
	})
}
