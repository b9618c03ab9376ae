package sharedpods

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
)

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestViewsShareOneInformer: two parts see the same pods through one
// informer; one part's Release removes only its handlers, and its Run
// ending does not stop the informer.
func TestViewsShareOneInformer(t *testing.T) {
	cs := fake.NewClientset()
	s := New(cs)
	var a, b atomic.Int32
	va, vb := s.View(), s.View()
	if va.GetStore() != vb.GetStore() {
		t.Fatal("views do not share the store")
	}
	for v, n := range map[*View]*atomic.Int32{va: &a, vb: &b} {
		if _, err := v.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(any) { n.Add(1) }}); err != nil {
			t.Fatal(err)
		}
	}
	stopA := make(chan struct{})
	ranA := make(chan struct{})
	go func() { defer close(ranA); va.Run(stopA) }()
	ctxB, cancelB := context.WithCancel(context.Background())
	defer cancelB()
	go vb.RunWithContext(ctxB)
	eventually(t, "synced", va.HasSynced)

	create := func(name string) {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default",
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "test"}}}}
		if _, err := cs.CoreV1().Pods("default").Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	create("p1")
	eventually(t, "both parts see p1", func() bool { return a.Load() == 1 && b.Load() == 1 })
	obj, ok, _ := vb.GetStore().GetByKey("default/p1")
	if !ok || obj.(*corev1.Pod).ManagedFields != nil {
		t.Fatalf("p1 in the store: %v, managed fields %v", ok, obj)
	}

	close(stopA)
	<-ranA
	va.Release()
	create("p2")
	eventually(t, "the other part sees p2", func() bool { return b.Load() == 2 })
	if a.Load() != 1 {
		t.Fatalf("released part saw %d adds, want 1", a.Load())
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !vb.IsStopped() {
		t.Fatal("informer runs after Stop")
	}
}

// TestStopUnstarted: an informer no part ran stops at once.
func TestStopUnstarted(t *testing.T) {
	if err := New(fake.NewClientset()).Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestSharedObjectsUnchanged: with NewFrom the informer's objects may be
// the API server's own, so they are kept as given (no copy, managed fields
// included), and a part's transform (an informer factory sets its own,
// which changes objects in place) does not replace the shared one.
func TestSharedObjectsUnchanged(t *testing.T) {
	given := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", ResourceVersion: "7",
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "test"}}}}
	lw := &cache.ListWatch{
		ListFunc: func(metav1.ListOptions) (runtime.Object, error) {
			return &corev1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: "7"}, Items: []corev1.Pod{*given}}, nil
		},
		WatchFunc: func(o metav1.ListOptions) (watch.Interface, error) {
			w := watch.NewFake()
			go func() {
				w.Add(given)
				if o.SendInitialEvents != nil { // a watch-list: the end of its initial events
					w.Action(watch.Bookmark, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "7",
						Annotations: map[string]string{metav1.InitialEventsAnnotationKey: "true"}}})
				}
			}()
			return w, nil
		},
	}
	s := NewFrom(lw)
	defer func() { _ = s.Stop(context.Background()) }()
	v := s.View()
	inPlace := func(obj any) (any, error) {
		obj.(*corev1.Pod).ManagedFields = nil
		return obj, nil
	}
	if err := v.SetTransform(inPlace); err != nil {
		t.Fatal(err)
	}
	var seen atomic.Int32
	if _, err := v.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { seen.Add(1) },
		UpdateFunc: func(any, any) { seen.Add(1) },
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go v.RunWithContext(ctx)
	// The list's item is a copy; the watch's object replaces it as given.
	eventually(t, "the watch's pod itself in the store", func() bool {
		obj, ok, _ := v.GetStore().GetByKey("default/p")
		return ok && obj == any(given)
	})
	if seen.Load() < 1 || given.ManagedFields == nil {
		t.Fatal("the watch's object was changed")
	}
}
