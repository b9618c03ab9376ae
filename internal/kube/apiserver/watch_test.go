package apiserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/store/memory"
)

// TestWatchSemantics runs every start point, selector and namespace case
// over JSON and protobuf, once as the first stream on pods ("cold") and
// once beside another stream ("warm", so a watch cache is already
// following pods and has to serve older starts through the store).
func TestWatchSemantics(t *testing.T) {
	after := []string{"ADDED c", "ADDED d", "MODIFIED a", "MODIFIED d", "DELETED c"}
	afterAll := []string{"ADDED c", "ADDED d", "MODIFIED a", "MODIFIED d", "MODIFIED b", "DELETED c"}
	cases := []struct {
		name   string
		ns     string
		rv     string // "list": the list's; "a": pod a's (older)
		label  string
		field  string
		want   []string
		sorted int // the first n events may come in any order
	}{
		{name: "rv-unset", ns: "default", rv: "", want: append([]string{"ADDED a"}, after...)},
		{name: "rv-0-all-namespaces", rv: "0", want: append([]string{"ADDED a", "ADDED b"}, afterAll...), sorted: 2},
		{name: "rv-exact", ns: "default", rv: "list", want: after},
		{name: "rv-older", ns: "", rv: "a", want: append([]string{"ADDED b"}, afterAll...)},
		{name: "other-namespace", ns: "other", rv: "list", want: []string{"MODIFIED b"}},
		{name: "label-selector", ns: "default", rv: "list", label: "sel=yes",
			want: []string{"ADDED c", "DELETED a", "ADDED d", "DELETED c"}},
		{name: "field-selector", ns: "", rv: "list", field: "metadata.name=d", want: []string{"ADDED d", "MODIFIED d"}},
		{name: "label-and-field", ns: "default", rv: "a", label: "sel=yes", field: "metadata.namespace=default",
			want: []string{"ADDED c", "DELETED a", "ADDED d", "DELETED c"}},
	}
	for _, warm := range []bool{false, true} {
		for _, proto := range []bool{false, true} {
			for _, tc := range cases {
				t.Run(fmt.Sprintf("warm=%v/protobuf=%v/%s", warm, proto, tc.name), func(t *testing.T) {
					srv := apiservertest.Start(t)
					cfg := apiservertest.RESTConfig(t, srv)
					if proto {
						cfg = protobufConfig(cfg)
					}
					cs := clientset(t, cfg)
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					defer cancel()
					if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "other"}}, metav1.CreateOptions{}); err != nil {
						t.Fatal(err)
					}
					a, err := cs.CoreV1().Pods("default").Create(ctx, testPod("a", map[string]string{"sel": "yes"}), metav1.CreateOptions{})
					if err != nil {
						t.Fatal(err)
					}
					if warm {
						w, err := cs.CoreV1().Pods("").Watch(ctx, metav1.ListOptions{})
						if err != nil {
							t.Fatal(err)
						}
						defer w.Stop()
					}
					if _, err := cs.CoreV1().Pods("other").Create(ctx, testPod("b", nil), metav1.CreateOptions{}); err != nil {
						t.Fatal(err)
					}
					l, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
					if err != nil {
						t.Fatal(err)
					}
					rv := map[string]string{"": "", "0": "0", "list": l.ResourceVersion, "a": a.ResourceVersion}[tc.rv]
					w, err := cs.CoreV1().Pods(tc.ns).Watch(ctx, metav1.ListOptions{ResourceVersion: rv, LabelSelector: tc.label, FieldSelector: tc.field})
					if err != nil {
						t.Fatal(err)
					}
					defer w.Stop()
					podActions(ctx, t, cs)
					got := collect(ctx, t, w, len(tc.want))
					sortPrefix(got, tc.sorted)
					if strings.Join(got, ",") != strings.Join(tc.want, ",") {
						t.Fatalf("got  %v\nwant %v", got, tc.want)
					}
				})
			}
		}
	}
}

// podActions: c (selected) and d (not) are created, a leaves the selection
// and d enters it, b changes, c is deleted.
func podActions(ctx context.Context, t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	pods := cs.CoreV1().Pods("default")
	if _, err := pods.Create(ctx, testPod("c", map[string]string{"sel": "yes"}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Create(ctx, testPod("d", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ ns, name, patch string }{
		{"default", "a", `{"metadata":{"labels":{"sel":"no"}}}`},
		{"default", "d", `{"metadata":{"labels":{"sel":"yes"}}}`},
		{"other", "b", `{"metadata":{"labels":{"x":"y"}}}`},
	} {
		if _, err := cs.CoreV1().Pods(p.ns).Patch(ctx, p.name, types.MergePatchType, []byte(p.patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := pods.Delete(ctx, "c", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
}

// collect reads n events (bookmarks aside) as "TYPE name", then checks
// that nothing more arrives for a moment.
func collect(ctx context.Context, t *testing.T, w watch.Interface, n int) []string {
	t.Helper()
	var got []string
	for len(got) < n {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch ended after %v", got)
			}
			if ev.Type == watch.Bookmark {
				continue
			}
			if p, ok := ev.Object.(*corev1.Pod); ok {
				got = append(got, string(ev.Type)+" "+p.Name)
			} else {
				got = append(got, fmt.Sprintf("%s %T", ev.Type, ev.Object))
			}
		case <-ctx.Done():
			t.Fatalf("got only %v", got)
		}
	}
	select {
	case ev := <-w.ResultChan():
		if ev.Type != watch.Bookmark {
			t.Fatalf("unexpected event after %v: %v %.200v", got, ev.Type, ev.Object)
		}
	case <-time.After(200 * time.Millisecond):
	}
	return got
}

func sortPrefix(s []string, n int) {
	for i := 1; i < n && i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// TestWatchTooOld: a watch from a compacted revision gets 410 Gone, also
// with a cache following pods: a watch from before the cache's start still
// goes to the store.
func TestWatchTooOld(t *testing.T) {
	for _, warm := range []bool{false, true} {
		t.Run(fmt.Sprint("cache running: ", warm), func(t *testing.T) {
			mem := memory.New(memory.Options{})
			t.Cleanup(func() { mem.Close() })
			srv := apiservertest.StartWith(t, apiservertest.Options{Store: mem})
			cs := clientset(t, apiservertest.RESTConfig(t, srv))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			pods := cs.CoreV1().Pods("default")
			p, err := pods.Create(ctx, testPod("old", nil), metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if warm {
				if _, err := pods.Create(ctx, testPod("older", nil), metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
				w, err := cs.CoreV1().Pods("").Watch(ctx, metav1.ListOptions{})
				if err != nil {
					t.Fatal(err)
				}
				defer w.Stop()
			}
			for i := range 3 {
				if _, err := pods.Create(ctx, testPod(fmt.Sprint("n", i), nil), metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			rev, _ := mem.Rev(ctx)
			if err := mem.Compact(ctx, rev); err != nil {
				t.Fatal(err)
			}
			w, err := pods.Watch(ctx, metav1.ListOptions{ResourceVersion: p.ResourceVersion})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Stop()
			ev := <-w.ResultChan()
			st, ok := ev.Object.(*metav1.Status)
			if ev.Type != watch.Error || !ok || st.Code != http.StatusGone || !strings.Contains(st.Message, "too old resource version") {
				t.Fatalf("watch from compacted revision: %v %+v", ev.Type, ev.Object)
			}
		})
	}
}

// TestWatchRepresentations: tables and object metadata (kubectl get -w,
// metadata informers) are encoded per stream, beside plain streams sharing
// the cache's encoding; a watch-list ends its initial events with the
// bookmark; timeoutSeconds ends a stream.
func TestWatchRepresentations(t *testing.T) {
	srv := apiservertest.Start(t)
	cfg := apiservertest.RESTConfig(t, srv)
	cs := clientset(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := cs.CoreV1().Pods("default").Create(ctx, testPod("before", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	warm, err := cs.CoreV1().Pods("").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer warm.Stop()
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		query  string
		accept string
		// want: one check per line, in order: type and a substring.
		want [][2]string
	}{
		{name: "json", query: "watch=1", accept: "application/json",
			want: [][2]string{{"ADDED", `"kind":"Pod"`}, {"ADDED", `"name":"after"`}}},
		{name: "table", query: "watch=1", accept: "application/json;as=Table;v=v1;g=meta.k8s.io",
			want: [][2]string{{"ADDED", `"columnDefinitions":[{`}, {"ADDED", `"kind":"Table"`}}},
		{name: "partial-metadata", query: "watch=1", accept: "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io",
			want: [][2]string{{"ADDED", `"kind":"PartialObjectMetadata"`}, {"ADDED", `"name":"after"`}}},
		{name: "watch-list", query: "watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan",
			accept: "application/json",
			want:   [][2]string{{"ADDED", `"name":"before"`}, {"BOOKMARK", `"k8s.io/initial-events-end":"true"`}, {"ADDED", `"name":"after"`}}},
	}
	type stream struct {
		lines chan string
		body  interface{ Close() error }
	}
	streams := make([]stream, len(cases))
	for i, tc := range cases {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+"/api/v1/namespaces/default/pods?"+tc.query, nil)
		req.Header.Set("Accept", tc.accept)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s", tc.name, resp.Status)
		}
		lines := make(chan string, 16)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		streams[i] = stream{lines: lines, body: resp.Body}
	}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, testPod("after", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, want := range tc.want {
				select {
				case l, ok := <-streams[i].lines:
					if !ok {
						t.Fatalf("stream ended, want %v", want)
					}
					var ev struct {
						Type string `json:"type"`
					}
					if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.Type != want[0] || !strings.Contains(l, want[1]) {
						t.Fatalf("line %.300s, want %v", l, want)
					}
				case <-ctx.Done():
					t.Fatalf("no line, want %v", want)
				}
			}
		})
	}
	t.Run("timeoutSeconds", func(t *testing.T) {
		start := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+"/api/v1/namespaces/default/pods?watch=1&resourceVersion=0&timeoutSeconds=1", nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
		}
		if d := time.Since(start); d < time.Second || d > 5*time.Second {
			t.Fatalf("stream with timeoutSeconds=1 lasted %v", d)
		}
	})
}
