package apiserver_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"
	"k8s.io/utils/ptr"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/store/memory"
)

// TestListRemainingItemCount pages through lists with client-go as the
// real server (on etcd) answers them: a page cut short by limit carries
// metadata.remainingItemCount, the items after it in the list's state, when
// no label or field selector filters the list, and none when one does (the
// store's count would include what the selector drops), nor on the last
// page.
func TestListRemainingItemCount(t *testing.T) {
	st := memory.New(memory.Options{})
	t.Cleanup(func() { st.Close() })
	srv := apiservertest.StartWith(t, apiservertest.Options{Store: st})
	cfg := apiservertest.RESTConfig(t, srv)
	pods := clientset(t, cfg).CoreV1().Pods("default")
	ctx := context.Background()
	for i := range 7 {
		if _, err := pods.Create(ctx, testPod(fmt.Sprintf("p%d", i), map[string]string{"odd": fmt.Sprint(i%2 == 1)}), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name string
		opts metav1.ListOptions
		// remaining per page; -1: none
		want []int64
	}{
		{"unfiltered", metav1.ListOptions{Limit: 3}, []int64{4, 1, -1}},
		{"exact pages", metav1.ListOptions{Limit: 7}, []int64{-1}},
		{"one a page", metav1.ListOptions{Limit: 6}, []int64{1, -1}},
		{"no limit", metav1.ListOptions{}, []int64{-1}},
		{"label selector", metav1.ListOptions{Limit: 2, LabelSelector: "odd=true"}, []int64{-1, -1}},
		{"field selector", metav1.ListOptions{Limit: 2, FieldSelector: "metadata.namespace=default"}, []int64{-1, -1, -1, -1}},
		{"empty label selector", metav1.ListOptions{Limit: 5, LabelSelector: ""}, []int64{2, -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []int64
			opts := tc.opts
			for {
				l, err := pods.List(ctx, opts)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ptr.Deref(l.RemainingItemCount, -1))
				if l.Continue == "" {
					break
				}
				opts.Continue = l.Continue
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("remainingItemCount per page = %v, want %v", got, tc.want)
			}
		})
	}

	// The count is of the list's state, like its items: a pod made after
	// the first page is not counted on the second.
	first, err := pods.List(ctx, metav1.ListOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Create(ctx, testPod("p9", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	second, err := pods.List(ctx, metav1.ListOptions{Limit: 2, Continue: first.Continue})
	if err != nil {
		t.Fatal(err)
	}
	if ptr.Deref(first.RemainingItemCount, -1) != 5 || ptr.Deref(second.RemainingItemCount, -1) != 3 {
		t.Errorf("remainingItemCount across a create: first page %v, second %v; want 5, 3",
			ptr.Deref(first.RemainingItemCount, -1), ptr.Deref(second.RemainingItemCount, -1))
	}

	// Protobuf and metadata-only lists carry it too.
	pcfg := *cfg
	pcfg.ContentType = "application/vnd.kubernetes.protobuf"
	pl, err := clientset(t, &pcfg).CoreV1().Pods("default").List(ctx, metav1.ListOptions{Limit: 3})
	if err != nil || ptr.Deref(pl.RemainingItemCount, -1) != 5 {
		t.Errorf("protobuf list: remainingItemCount %v, %v; want 5", ptr.Deref(pl.RemainingItemCount, -1), err)
	}
	mc, err := metadata.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ml, err := mc.Resource(schema.GroupVersionResource{Version: "v1", Resource: "pods"}).Namespace("default").List(ctx, metav1.ListOptions{Limit: 3})
	if err != nil || ptr.Deref(ml.RemainingItemCount, -1) != 5 {
		t.Errorf("metadata list: remainingItemCount %v, %v; want 5", ptr.Deref(ml.RemainingItemCount, -1), err)
	}
}

// TestKubectlChunkSizeRemainingItemCount pages with kubectl's
// --chunk-size, as tables and as JSON lists, and reads the counts the
// server sent from kubectl's own log of the response bodies.
func TestKubectlChunkSizeRemainingItemCount(t *testing.T) {
	srv := apiservertest.Start(t)
	k := newKubectl(t, "1.33", srv)
	for i := range 5 {
		k.ok("run", fmt.Sprintf("p%d", i), "--image=busybox", "--labels=app=x")
	}
	re := regexp.MustCompile(`"remainingItemCount":(\d+)`)
	counts := func(args ...string) (string, []string) {
		out, errs, err := k.run("", append(args, "-v=9")...)
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, errs)
		}
		var got []string
		for _, m := range re.FindAllStringSubmatch(errs, -1) {
			got = append(got, m[1])
		}
		return out, got
	}
	tests := []struct {
		args  []string
		lines int
		want  string
	}{
		{[]string{"get", "pods", "--chunk-size=2", "--no-headers"}, 5, "3 1"},
		{[]string{"get", "pods", "--chunk-size=2", "-o", "name"}, 5, "3 1"},
		{[]string{"get", "pods", "--chunk-size=5", "-o", "name"}, 5, ""},
		{[]string{"get", "pods", "--chunk-size=2", "-l", "app=x", "-o", "name"}, 5, ""},
	}
	for _, tc := range tests {
		out, got := counts(tc.args...)
		if n := len(strings.Fields(out)); n < tc.lines || strings.Join(got, " ") != tc.want {
			t.Errorf("kubectl %s: %d fields out, remainingItemCount %v, want at least %d and %q\n%s",
				strings.Join(tc.args, " "), n, got, tc.lines, tc.want, out)
		}
	}
}
