package apiserver_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/store/memory"
)

// podsOnMemoryStore starts a server on a memory store the test can compact
// and returns a client of its default namespace's pods.
func podsOnMemoryStore(t *testing.T) (*memory.Engine, typedcorev1.PodInterface) {
	st := memory.New(memory.Options{})
	t.Cleanup(func() { st.Close() })
	srv := apiservertest.StartWith(t, apiservertest.Options{Store: st})
	return st, clientset(t, apiservertest.RESTConfig(t, srv)).CoreV1().Pods("default")
}

// TestListResourceVersionSemantics drives client-go through the list
// resourceVersion rules the real server keeps.
func TestListResourceVersionSemantics(t *testing.T) {
	_, pods := podsOnMemoryStore(t)
	ctx := context.Background()
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

	t.Run("exact past", func(t *testing.T) {
		// The state before pod a existed, and the legacy rule: a version
		// with a limit and no match is Exact too.
		for _, o := range []metav1.ListOptions{
			{ResourceVersion: rv(cur - 1), ResourceVersionMatch: metav1.ResourceVersionMatchExact},
			{ResourceVersion: rv(cur - 1), Limit: 10},
		} {
			got, err := pods.List(ctx, o)
			if err != nil || got.ResourceVersion != rv(cur-1) || len(got.Items) != 0 {
				t.Fatalf("List(%+v) = %v at %s, %v; want no pods at %d", o, names(got), got.ResourceVersion, err, cur-1)
			}
		}
	})

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

func names(l *corev1.PodList) []string {
	var out []string
	for _, p := range l.Items {
		out = append(out, p.Name)
	}
	return out
}

// TestListContinueIsASnapshot pages through a list while it changes: every
// page shows the state of the first, as on the real server; after the
// store's history is compacted the next page is 410 Expired with a token
// that lists the rest at the newest state.
func TestListContinueIsASnapshot(t *testing.T) {
	st, pods := podsOnMemoryStore(t)
	ctx := context.Background()
	for _, n := range []string{"p1", "p2", "p3", "p4", "p5", "p6"} {
		if _, err := pods.Create(ctx, testPod(n, nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	first, err := pods.List(ctx, metav1.ListOptions{Limit: 2})
	if err != nil || first.Continue == "" {
		t.Fatalf("first page: %v %v", names(first), err)
	}
	// Meanwhile: p3 goes, p7 comes, p4 changes.
	if err := pods.Delete(ctx, "p3", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Create(ctx, testPod("p7", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p4, err := pods.Get(ctx, "p4", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p4.Labels = map[string]string{"changed": "yes"}
	if _, err := pods.Update(ctx, p4, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	second, err := pods.List(ctx, metav1.ListOptions{Limit: 2, Continue: first.Continue})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(second); strings.Join(got, ",") != "p3,p4" || second.ResourceVersion != first.ResourceVersion {
		t.Fatalf("second page %v at %s, want p3,p4 at %s", got, second.ResourceVersion, first.ResourceVersion)
	}
	if second.Items[1].Labels["changed"] != "" {
		t.Errorf("second page shows p4 as changed after the first page")
	}

	// The history is compacted: the third page's state is gone.
	now, _ := st.Rev(ctx)
	if err := st.Compact(ctx, now); err != nil {
		t.Fatal(err)
	}
	_, err = pods.List(ctx, metav1.ListOptions{Limit: 2, Continue: second.Continue})
	var se *apierrors.StatusError
	if !apierrors.IsResourceExpired(err) || !errors.As(err, &se) || se.ErrStatus.ListMeta.Continue == "" ||
		!strings.Contains(se.ErrStatus.Message, "The provided continue parameter is too old") {
		t.Fatalf("third page after compaction: %v", err)
	}
	rest, err := pods.List(ctx, metav1.ListOptions{Continue: se.ErrStatus.ListMeta.Continue})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(rest); strings.Join(got, ",") != "p5,p6,p7" || rest.ResourceVersion != strconv.FormatInt(now, 10) {
		t.Fatalf("rest at the newest state: %v at %s, want p5,p6,p7 at %d", got, rest.ResourceVersion, now)
	}
	// Exact for a compacted version is gone too.
	if _, err := pods.List(ctx, metav1.ListOptions{ResourceVersion: first.ResourceVersion, ResourceVersionMatch: metav1.ResourceVersionMatchExact}); !apierrors.IsResourceExpired(err) {
		t.Fatalf("exact list of a compacted version: %v", err)
	}
}
