package apiserver_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
)

// TestEventTTL: an Event is deleted once --event-ttl has passed since its
// last write (a watcher sees it DELETED), one written again lives on for a
// new TTL, and other objects are never touched.
func TestEventTTL(t *testing.T) {
	const ttl = 400 * time.Millisecond
	srv := apiservertest.StartWith(t, apiservertest.Options{EventTTL: ttl})
	cs := clientset(t, apiservertest.RESTConfig(t, srv))
	ctx := context.Background()
	events := cs.CoreV1().Events("default")
	mk := func(name string) *corev1.Event {
		t.Helper()
		ev, err := events.Create(ctx, &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: name},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "p"},
			Reason:         "Test", Message: "m", Type: corev1.EventTypeNormal,
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	w, err := events.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	start := time.Now()
	mk("old")
	kept := mk("kept")
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// Rewrite "kept" at intervals shorter than the TTL until "old" is gone.
	deadline := time.Now().Add(10 * time.Second)
	var deletedAt time.Time
	for deletedAt.IsZero() {
		select {
		case e := <-w.ResultChan():
			if e.Type == watch.Deleted {
				if ev := e.Object.(*corev1.Event); ev.Name != "old" {
					t.Fatalf("%s deleted, want only old", ev.Name)
				}
				deletedAt = time.Now()
			}
		case <-time.After(ttl / 4):
			kept.Count++
			if kept, err = events.Update(ctx, kept, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("old event never expired")
		}
	}
	if d := deletedAt.Sub(start); d < ttl {
		t.Fatalf("old deleted after %s, before the TTL %s", d, ttl)
	}
	if _, err := events.Get(ctx, "old", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("get expired event: %v, want NotFound", err)
	}
	if _, err := events.Get(ctx, "kept", metav1.GetOptions{}); err != nil {
		t.Fatalf("rewritten event: %v", err)
	}
	// Left alone, "kept" goes too; the ConfigMap stays.
	for {
		_, err := events.Get(ctx, "kept", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kept never expired: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "cm", metav1.GetOptions{}); err != nil {
		t.Fatalf("configmap: %v", err)
	}
}
