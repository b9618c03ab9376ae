package apiserver_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
)

// TestListResourceVersionSemantics drives client-go through the list
// resourceVersion rules the real server keeps.
func TestListResourceVersionSemantics(t *testing.T) {
	srv := apiservertest.Start(t)
	cs := clientset(t, apiservertest.RESTConfig(t, srv))
	ctx := context.Background()
	pods := cs.CoreV1().Pods("default")
	if _, err := pods.Create(ctx, testPod("a", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	l, err := pods.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur, _ := strconv.ParseInt(l.ResourceVersion, 10, 64)
	rv := func(n int64) string { return strconv.FormatInt(n, 10) }

	tests := []struct {
		name  string
		opts  metav1.ListOptions
		check func(error) bool
	}{
		{"newest", metav1.ListOptions{}, func(err error) bool { return err == nil }},
		{"any", metav1.ListOptions{ResourceVersion: "0"}, func(err error) bool { return err == nil }},
		{"not older than now", metav1.ListOptions{ResourceVersion: rv(cur)}, func(err error) bool { return err == nil }},
		{"not older than the past", metav1.ListOptions{ResourceVersion: "1", ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan}, func(err error) bool { return err == nil }},
		{"exact now", metav1.ListOptions{ResourceVersion: rv(cur), ResourceVersionMatch: metav1.ResourceVersionMatchExact}, func(err error) bool { return err == nil }},
		{"exact past", metav1.ListOptions{ResourceVersion: "1", ResourceVersionMatch: metav1.ResourceVersionMatchExact}, apierrors.IsResourceExpired},
		{"future", metav1.ListOptions{ResourceVersion: rv(cur + 1000)}, func(err error) bool {
			return apierrors.IsTimeout(err) && apierrors.HasStatusCause(err, metav1.CauseTypeResourceVersionTooLarge)
		}},
		{"match without version", metav1.ListOptions{ResourceVersionMatch: metav1.ResourceVersionMatchExact}, apierrors.IsInvalid},
		{"exact zero", metav1.ListOptions{ResourceVersion: "0", ResourceVersionMatch: metav1.ResourceVersionMatchExact}, apierrors.IsInvalid},
		{"unknown match", metav1.ListOptions{ResourceVersion: "1", ResourceVersionMatch: "Newest"}, apierrors.IsInvalid},
		{"garbage", metav1.ListOptions{ResourceVersion: "abc"}, apierrors.IsBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pods.List(ctx, tt.opts)
			if !tt.check(err) {
				t.Fatalf("List(%+v) error = %v", tt.opts, err)
			}
			if err == nil {
				if n, _ := strconv.ParseInt(got.ResourceVersion, 10, 64); n < cur {
					t.Fatalf("list at %d, older than %d", n, cur)
				}
			}
		})
	}

	t.Run("waits for a version about to happen", func(t *testing.T) {
		done := make(chan error, 1)
		go func() {
			_, err := pods.List(ctx, metav1.ListOptions{ResourceVersion: rv(cur + 1)})
			done <- err
		}()
		time.Sleep(50 * time.Millisecond)
		if _, err := pods.Create(ctx, testPod("b", nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("list for the next version: %v", err)
		}
	})
}
