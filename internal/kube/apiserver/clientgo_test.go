package apiserver_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/store/memory"
)

func clientset(t testing.TB, cfg *rest.Config) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func testPod(name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
}

func TestClientGoTyped(t *testing.T) {
	srv := apiservertest.Start(t)
	for _, proto := range []bool{false, true} {
		t.Run(fmt.Sprintf("protobuf=%v", proto), func(t *testing.T) {
			cfg := apiservertest.RESTConfig(t, srv)
			ns := "json"
			if proto {
				cfg.ContentType = "application/vnd.kubernetes.protobuf"
				cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
				ns = "proto"
			}
			cs := clientset(t, cfg)
			ctx := context.Background()
			if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			pods := cs.CoreV1().Pods(ns)
			p, err := pods.Create(ctx, testPod("a", map[string]string{"app": "x"}), metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if p.UID == "" || p.ResourceVersion == "" || p.Status.Phase != corev1.PodPending || p.Spec.RestartPolicy != corev1.RestartPolicyAlways || p.Generation != 1 {
				t.Fatalf("created pod lacks server fields: %+v", p.ObjectMeta)
			}
			if _, err := pods.Create(ctx, testPod("a", nil), metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
				t.Fatalf("duplicate create: %v", err)
			}
			if _, err := pods.Get(ctx, "nope", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Fatalf("get missing: %v", err)
			}
			// Optimistic concurrency.
			stale := p.DeepCopy()
			p.Labels["v"] = "2"
			p2, err := pods.Update(ctx, p, metav1.UpdateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if p2.ResourceVersion == p.ResourceVersion {
				t.Fatal("update did not change resourceVersion")
			}
			stale.Labels["v"] = "3"
			if _, err := pods.Update(ctx, stale, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
				t.Fatalf("stale update: %v", err)
			}
			// Patches of every kind.
			if _, err := pods.Patch(ctx, "a", types.MergePatchType, []byte(`{"metadata":{"labels":{"m":"1"}}}`), metav1.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := pods.Patch(ctx, "a", types.JSONPatchType, []byte(`[{"op":"add","path":"/metadata/annotations","value":{"j":"1"}}]`), metav1.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
			got, err := pods.Patch(ctx, "a", types.StrategicMergePatchType, []byte(`{"spec":{"containers":[{"name":"c","image":"busybox:2"}]}}`), metav1.PatchOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Labels["m"] != "1" || got.Annotations["j"] != "1" || got.Spec.Containers[0].Image != "busybox:2" || got.Generation != 2 {
				t.Fatalf("after patches: labels %v annotations %v image %s generation %d", got.Labels, got.Annotations, got.Spec.Containers[0].Image, got.Generation)
			}
			if _, err := pods.Patch(ctx, "a", types.JSONPatchType, []byte(`[{"op":"test","path":"/metadata/name","value":"zzz"}]`), metav1.PatchOptions{}); err == nil {
				t.Fatal("failed json patch test op succeeded")
			}
			// Status subresource changes only status.
			got.Status.Phase = corev1.PodRunning
			got.Labels["ignored"] = "yes"
			st, err := pods.UpdateStatus(ctx, got, metav1.UpdateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if st.Status.Phase != corev1.PodRunning || st.Labels["ignored"] != "" {
				t.Fatalf("status update: phase %s labels %v", st.Status.Phase, st.Labels)
			}
			// A spec update keeps status.
			st.Spec.ActiveDeadlineSeconds = ptr.To(int64(100))
			st.Status.Phase = corev1.PodFailed
			up, err := pods.Update(ctx, st, metav1.UpdateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if up.Status.Phase != corev1.PodRunning {
				t.Fatalf("main resource update changed status to %s", up.Status.Phase)
			}
			// Paging and selectors.
			for i := range 25 {
				if _, err := pods.Create(ctx, testPod(fmt.Sprintf("p%02d", i), map[string]string{"batch": "yes", "odd": fmt.Sprint(i%2 == 1)}), metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			var names []string
			opts := metav1.ListOptions{Limit: 10, LabelSelector: "batch=yes"}
			for pages := 0; ; pages++ {
				l, err := pods.List(ctx, opts)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range l.Items {
					names = append(names, p.Name)
				}
				if l.Continue == "" {
					if pages != 2 {
						t.Errorf("pages = %d, want 3", pages+1)
					}
					break
				}
				opts.Continue = l.Continue
			}
			if len(names) != 25 || names[0] != "p00" || names[24] != "p24" {
				t.Fatalf("paged list: %v", names)
			}
			l, err := pods.List(ctx, metav1.ListOptions{LabelSelector: "odd=true", FieldSelector: "metadata.name!=p01"})
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Items) != 11 {
				t.Fatalf("selector list: %d items", len(l.Items))
			}
			// Delete with preconditions, deletecollection.
			wrong := types.UID("wrong")
			if err := pods.Delete(ctx, "a", metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &wrong}}); !apierrors.IsConflict(err) {
				t.Fatalf("delete with wrong uid: %v", err)
			}
			if err := pods.Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := pods.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "odd=false"}); err != nil {
				t.Fatal(err)
			}
			l, err = pods.List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Items) != 12 {
				t.Fatalf("after deletecollection: %d pods", len(l.Items))
			}
			// With a limit, as kube-apiserver: one page only.
			if err := pods.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{Limit: 5}); err != nil {
				t.Fatal(err)
			}
			if l, err = pods.List(ctx, metav1.ListOptions{}); err != nil || len(l.Items) != 7 {
				t.Fatalf("after a deletecollection of limit 5: %d pods, %v", len(l.Items), err)
			}
		})
	}
}

func TestInformerListWatch(t *testing.T) {
	srv := apiservertest.Start(t)
	cs := clientset(t, apiservertest.RESTConfig(t, srv))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range 5 {
		if _, err := cs.CoreV1().Pods("default").Create(ctx, testPod(fmt.Sprintf("pre%d", i), nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	f := informers.NewSharedInformerFactory(cs, 0)
	inf := f.Core().V1().Pods()
	var mu sync.Mutex
	seen := map[string]string{}
	inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { mu.Lock(); seen[o.(*corev1.Pod).Name] = "add"; mu.Unlock() },
		UpdateFunc: func(_, o any) { mu.Lock(); seen[o.(*corev1.Pod).Name] = "update"; mu.Unlock() },
		DeleteFunc: func(o any) {
			if p, ok := o.(*corev1.Pod); ok {
				mu.Lock()
				seen[p.Name] = "delete"
				mu.Unlock()
			}
		},
	})
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.Informer().HasSynced) {
		t.Fatal("no sync")
	}
	if l, _ := inf.Lister().List(labels.Everything()); len(l) != 5 {
		t.Fatalf("synced %d pods", len(l))
	}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, testPod("new", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Pods("default").Patch(ctx, "pre0", types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().Pods("default").Delete(ctx, "pre1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"new": "add", "pre0": "update", "pre1": "delete"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		ok := true
		for k, v := range want {
			ok = ok && seen[k] == v
		}
		mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("informer saw %v, want %v", seen, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServerSideApply(t *testing.T) {
	srv := apiservertest.Start(t)
	cs := clientset(t, apiservertest.RESTConfig(t, srv))
	ctx := context.Background()
	cms := cs.CoreV1().ConfigMaps("default")
	ac := corev1ac.ConfigMap("cfg", "default").WithData(map[string]string{"a": "1"})
	got, err := cms.Apply(ctx, ac, metav1.ApplyOptions{FieldManager: "one"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Data["a"] != "1" || len(got.ManagedFields) != 1 || got.ManagedFields[0].Manager != "one" || got.ManagedFields[0].Operation != metav1.ManagedFieldsOperationApply {
		t.Fatalf("apply: %v %+v", got.Data, got.ManagedFields)
	}
	_, err = cms.Apply(ctx, corev1ac.ConfigMap("cfg", "default").WithData(map[string]string{"a": "2"}), metav1.ApplyOptions{FieldManager: "two"})
	if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), `conflict with "one"`) {
		t.Fatalf("conflicting apply: %v", err)
	}
	got, err = cms.Apply(ctx, corev1ac.ConfigMap("cfg", "default").WithData(map[string]string{"a": "2"}), metav1.ApplyOptions{FieldManager: "two", Force: true})
	if err != nil || got.Data["a"] != "2" {
		t.Fatalf("forced apply: %v %v", err, got)
	}
	// An Update manager is tracked too.
	got.Data["b"] = "x"
	got, err = cms.Update(ctx, got, metav1.UpdateOptions{FieldManager: "editor"})
	if err != nil {
		t.Fatal(err)
	}
	managers := map[string]bool{}
	for _, m := range got.ManagedFields {
		managers[m.Manager] = true
	}
	if !managers["two"] || !managers["editor"] {
		t.Fatalf("managers: %v", got.ManagedFields)
	}
	// Apply on a deployment's nested lists merges by key.
	d := deployApply("web", "nginx:1")
	dep, err := cs.AppsV1().Deployments("default").Apply(ctx, d, metav1.ApplyOptions{FieldManager: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	if dep.Spec.Template.Spec.Containers[0].Image != "nginx:1" || *dep.Spec.Replicas != 1 || dep.Generation != 1 {
		t.Fatalf("deployment apply: %+v", dep.Spec)
	}
}

func TestLoopbackClient(t *testing.T) {
	srv := apiservertest.Start(t)
	cs := clientset(t, srv.LoopbackConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w, err := cs.CoreV1().Pods("default").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if _, err := cs.CoreV1().Pods("default").Create(ctx, testPod("lb", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-w.ResultChan():
		if ev.Type != watch.Added || ev.Object.(*corev1.Pod).Name != "lb" {
			t.Fatalf("event %v %v", ev.Type, ev.Object)
		}
	case <-ctx.Done():
		t.Fatal("no event through the loopback transport")
	}
	if _, err := cs.CoreV1().Pods("default").Get(ctx, "missing", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("loopback get missing: %v", err)
	}
}

func TestWatchBookmarksAndSelectors(t *testing.T) {
	mem := memory.New(memory.Options{ProgressInterval: 50 * time.Millisecond})
	t.Cleanup(func() { mem.Close() })
	srv := apiservertest.StartWith(t, apiservertest.Options{Store: mem})
	cs := clientset(t, apiservertest.RESTConfig(t, srv))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pods := cs.CoreV1().Pods("default")
	l, err := pods.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := pods.Watch(ctx, metav1.ListOptions{ResourceVersion: l.ResourceVersion, AllowWatchBookmarks: true, LabelSelector: "sel=yes"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if _, err := pods.Create(ctx, testPod("in", map[string]string{"sel": "yes"}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Create(ctx, testPod("out", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Patch(ctx, "in", types.MergePatchType, []byte(`{"metadata":{"labels":{"sel":"no"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	var got []string
	bookmark := false
	for len(got) < 2 || !bookmark {
		select {
		case ev := <-w.ResultChan():
			if ev.Type == watch.Bookmark {
				bookmark = true
				continue
			}
			got = append(got, string(ev.Type)+" "+ev.Object.(*corev1.Pod).Name)
		case <-ctx.Done():
			t.Fatalf("events %v bookmark %v", got, bookmark)
		}
	}
	if strings.Join(got, ",") != "ADDED in,DELETED in" {
		t.Fatalf("selected watch: %v", got)
	}
}

// TestUnauthenticated: a wrong token is 401; no credentials at all is the
// anonymous user, allowed only what RBAC grants system:unauthenticated
// (the health checks and /version), as kube-apiserver's --anonymous-auth.
func TestUnauthenticated(t *testing.T) {
	srv := apiservertest.Start(t)
	cfg := apiservertest.RESTConfig(t, srv)
	c := rest.CopyConfig(cfg)
	c.BearerToken = "nope"
	_, err := clientset(t, c).CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{})
	if !apierrors.IsUnauthorized(err) {
		t.Errorf("wrong token: %v", err)
	}
	c.BearerToken = ""
	_, err = clientset(t, c).CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{})
	if want := `pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "default"`; !apierrors.IsForbidden(err) || err.Error() != want {
		t.Errorf("no credentials: %v, want %q", err, want)
	}
	// The raw answers, as curl sees them.
	hc, err := rest.HTTPClientFor(&rest.Config{Host: cfg.Host, TLSClientConfig: cfg.TLSClientConfig})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path, token string
		code        int
		body        string
	}{
		{"/api/v1/pods", "wrong", 401, `"reason":"Unauthorized"`},
		{"/api/v1/pods", "", 403, `"message":"pods is forbidden: User \"system:anonymous\" cannot list resource \"pods\" in API group \"\" at the cluster scope"`},
		{"/api", "", 403, `"message":"forbidden: User \"system:anonymous\" cannot get path \"/api\""`},
		{"/version", "", 200, `"gitVersion"`},
		{"/healthz", "", 200, `ok`},
		{"/readyz", "", 200, `ok`},
	} {
		req, _ := http.NewRequest(http.MethodGet, cfg.Host+c.path, nil)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code || !strings.Contains(string(body), c.body) {
			t.Errorf("GET %s (token %q): %d %s, want %d with %s", c.path, c.token, resp.StatusCode, body, c.code, c.body)
		}
	}
	// The node token is accepted.
	c = rest.CopyConfig(cfg)
	c.BearerToken = srv.NodeToken()
	if _, err := clientset(t, c).CoreV1().Nodes().List(context.Background(), metav1.ListOptions{}); err != nil {
		t.Fatalf("node token: %v", err)
	}
}

func TestIdentitySurvivesRestart(t *testing.T) {
	mem := memory.New(memory.Options{})
	t.Cleanup(func() { mem.Close() })
	dir := t.TempDir()
	a := apiservertest.StartWith(t, apiservertest.Options{Store: mem, DataDir: dir})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	b := apiservertest.StartWith(t, apiservertest.Options{Store: mem, DataDir: dir})
	if a.AdminToken() != b.AdminToken() || a.NodeToken() != b.NodeToken() || string(a.CACert()) != string(b.CACert()) {
		t.Fatal("restart changed the cluster identity")
	}
	if _, err := clientset(t, apiservertest.RESTConfig(t, b)).CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestServiceAllocation(t *testing.T) {
	srv := apiservertest.Start(t)
	cs := clientset(t, apiservertest.RESTConfig(t, srv))
	ctx := context.Background()
	svcs := cs.CoreV1().Services("default")
	k, err := svcs.Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil || k.Spec.ClusterIP != "127.100.0.1" {
		t.Fatalf("kubernetes service: %v %v", err, k)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ips, ports := map[string]bool{}, map[int32]bool{}
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := svcs.Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("s%d", i)},
				Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{})
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if ips[s.Spec.ClusterIP] || ports[s.Spec.Ports[0].NodePort] {
				errs <- fmt.Errorf("duplicate allocation %s %d", s.Spec.ClusterIP, s.Spec.Ports[0].NodePort)
			}
			ips[s.Spec.ClusterIP], ports[s.Spec.Ports[0].NodePort] = true, true
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s0, _ := svcs.Get(ctx, "s0", metav1.GetOptions{})
	_, err = svcs.Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "taken"},
		Spec: corev1.ServiceSpec{ClusterIP: s0.Spec.ClusterIP, Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "provided IP is already allocated") {
		t.Fatalf("taken IP: %v", err)
	}
	// Deleting frees the address for reuse by an explicit request.
	if err := svcs.Delete(ctx, "s0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svcs.Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "reuse"},
		Spec: corev1.ServiceSpec{ClusterIP: s0.Spec.ClusterIP, Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("reuse freed IP: %v", err)
	}
	if _, err := svcs.Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "nope"}, Spec: corev1.ServiceSpec{}}, metav1.CreateOptions{}); !apierrors.IsInvalid(err) {
		t.Fatalf("service without ports: %v", err)
	}
}

func TestNamespaceLifecycle(t *testing.T) {
	srv := apiservertest.Start(t)
	cs := clientset(t, apiservertest.RESTConfig(t, srv))
	ctx := context.Background()
	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gone"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ns.Spec.Finalizers) != 1 || ns.Spec.Finalizers[0] != corev1.FinalizerKubernetes || ns.Labels[corev1.LabelMetadataName] != "gone" {
		t.Fatalf("namespace defaults: %+v", ns)
	}
	if err := cs.CoreV1().Namespaces().Delete(ctx, "gone", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	ns, err = cs.CoreV1().Namespaces().Get(ctx, "gone", metav1.GetOptions{})
	if err != nil || ns.Status.Phase != corev1.NamespaceTerminating || ns.DeletionTimestamp == nil {
		t.Fatalf("terminating namespace: %v %+v", err, ns)
	}
	_, err = cs.CoreV1().ConfigMaps("gone").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("create in terminating namespace: %v", err)
	}
	// The namespace controller finalizes: the namespace goes away.
	ns.Spec.Finalizers = nil
	if _, err := cs.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "gone", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("after finalize: %v", err)
	}
}

func TestFinalizersAndGracefulDeletion(t *testing.T) {
	srv := apiservertest.Start(t)
	cs := clientset(t, apiservertest.RESTConfig(t, srv))
	ctx := context.Background()
	cms := cs.CoreV1().ConfigMaps("default")
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "held", Finalizers: []string{"example.com/hold"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx, "held", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	cm, err := cms.Get(ctx, "held", metav1.GetOptions{})
	if err != nil || cm.DeletionTimestamp == nil {
		t.Fatalf("held object: %v %+v", err, cm)
	}
	if _, err := cms.Patch(ctx, "held", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Get(ctx, "held", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("after last finalizer: %v", err)
	}
	// A pod on a node is deleted gracefully; the agent finishes with grace 0.
	pod := testPod("graceful", nil)
	pod.Spec.NodeName = "n1"
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().Pods("default").Delete(ctx, "graceful", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err := cs.CoreV1().Pods("default").Get(ctx, "graceful", metav1.GetOptions{})
	if err != nil || p.DeletionTimestamp == nil || *p.DeletionGracePeriodSeconds != 30 {
		t.Fatalf("graceful pod: %v %+v", err, p.ObjectMeta)
	}
	if err := cs.CoreV1().Pods("default").Delete(ctx, "graceful", metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0))}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Pods("default").Get(ctx, "graceful", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("after grace 0: %v", err)
	}
	// Dry run changes nothing.
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "dry"}}, metav1.CreateOptions{DryRun: []string{"All"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Get(ctx, "dry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("dry run created: %v", err)
	}
	// Scale subresource.
	dep, err := cs.AppsV1().Deployments("default").Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "d"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := cs.AppsV1().Deployments("default").GetScale(ctx, "d", metav1.GetOptions{})
	if err != nil || sc.Spec.Replicas != 1 || sc.Status.Selector != "a=b" {
		t.Fatalf("scale: %v %+v", err, sc)
	}
	sc.Spec.Replicas = 5
	if _, err := cs.AppsV1().Deployments("default").UpdateScale(ctx, "d", sc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	dep2, _ := cs.AppsV1().Deployments("default").Get(ctx, "d", metav1.GetOptions{})
	if *dep2.Spec.Replicas != 5 || dep2.Generation != dep.Generation+1 {
		t.Fatalf("after scale: replicas %d generation %d", *dep2.Spec.Replicas, dep2.Generation)
	}
	_, err = cs.AppsV1().Deployments("default").UpdateScale(ctx, "d", sc, metav1.UpdateOptions{})
	if !apierrors.IsConflict(err) {
		t.Fatalf("stale scale update: %v", err)
	}
}
