package compose

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/testenv"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/kube/controller"
	"github.com/stratus-cloud/stratus/internal/proxy"
	"github.com/stratus-cloud/stratus/internal/runtime"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
)

// cluster is a real stratus Kubernetes API with its controllers, one sim
// node and the service proxy, in-process; the compose client reaches it
// over HTTPS with client-go, as `stratus compose` does.
type cluster struct {
	kube kubernetes.Interface
	rt   *sim.Runtime
}

func stopLater(tb testing.TB, stop func(context.Context) error) {
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := stop(ctx); err != nil {
			tb.Errorf("stop: %v", err)
		}
	})
}

func startCluster(tb testing.TB) *cluster {
	tb.Helper()
	srv := apiservertest.Start(tb)
	lc, err := kubernetes.NewForConfig(srv.LoopbackConfig())
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	cm := controller.New(controller.Options{Client: lc})
	if err := cm.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	stopLater(tb, cm.Stop)
	rt := sim.New(sim.Options{Ports: true})
	a, err := agent.New(agent.Options{Client: lc, NodeName: "node-1", Runtime: rt,
		Certs: agent.LocalCerts{Issue: srv.IssueKubeletServingCert, CA: srv.CACert()}})
	if err != nil {
		tb.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	stopLater(tb, a.Stop)
	px := proxy.New(proxy.Options{Client: lc})
	if err := px.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	stopLater(tb, px.Stop)
	kc, err := kubernetes.NewForConfig(apiservertest.RESTConfig(tb, srv))
	if err != nil {
		tb.Fatal(err)
	}
	testenv.Eventually(tb, 20*time.Second, "controllers, agent and proxy ready", func() bool { return cm.Ready() && a.Ready() && px.Ready() })
	return &cluster{kube: kc, rt: rt}
}

func freePort(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

func (c *cluster) client(out io.Writer) *Client { return &Client{Kube: c.kube, Out: out} }

func (c *cluster) up(tb testing.TB, env []string, file string, o UpOptions) *Objects {
	tb.Helper()
	p, err := Load(context.Background(), LoadOptions{Files: []string{file}, Env: env})
	if err != nil {
		tb.Fatal(err)
	}
	objs, err := Convert(p, ConvertOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.client(nil).Up(context.Background(), objs, o); err != nil {
		tb.Fatal(err)
	}
	return objs
}

// gone says whether nothing of the project is left.
func (c *cluster) gone(tb testing.TB, project string) bool {
	tb.Helper()
	ctx := context.Background()
	ns, _ := Namespace(project)
	if _, err := c.kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		return false
	}
	lo := metav1.ListOptions{LabelSelector: LabelProject + "=" + project}
	pods, err := c.kube.CoreV1().Pods("").List(ctx, lo)
	if err != nil {
		tb.Fatal(err)
	}
	svcs, err := c.kube.CoreV1().Services("").List(ctx, lo)
	if err != nil {
		tb.Fatal(err)
	}
	deps, err := c.kube.AppsV1().Deployments("").List(ctx, lo)
	if err != nil {
		tb.Fatal(err)
	}
	return len(pods.Items)+len(svcs.Items)+len(deps.Items) == 0
}

func httpGet(url string) (string, error) {
	cl := &http.Client{Timeout: 2 * time.Second}
	resp, err := cl.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// TestSeedFilesOnCluster runs the seed's three files: up, the objects
// and aliases the pods see, ps, scale, the published port, down.
func TestSeedFilesOnCluster(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	cases := []struct {
		file      string
		project   string
		env       func(port string) []string
		published string // service whose port is published, "" none
		aliases   map[string][]string
		scale     string
		ps        int // containers after up
	}{
		{"testdata/mesos/docker-compose.yml", "mesos", func(p string) []string { return []string{"MARATHON_PORT=" + p} }, "marathon",
			map[string][]string{"master": {"master", "marathon", "zk"}, "slave": {"zk", "master"}}, "slave", 4},
		{"testdata/kubernetes/docker-compose.yml", "kubernetes", func(string) []string { return nil }, "", nil, "proxy", 3},
		{"testdata/wordpress/compose.yaml", "wordpress", func(p string) []string { return []string{"WORDPRESS_PORT=" + p} }, "wordpress",
			map[string][]string{"wordpress": {"wordpress"}}, "wordpress", 3},
	}
	for _, tc := range cases {
		t.Run(tc.project, func(t *testing.T) {
			port := freePort(t)
			objs := c.up(t, tc.env(port), tc.file, UpOptions{Wait: true, Timeout: 30 * time.Second})
			ns := objs.Namespace.Name
			cl := c.client(nil)
			cs, err := cl.PS(ctx, tc.project, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != tc.ps {
				t.Fatalf("ps shows %d containers, want %d: %+v", len(cs), tc.ps, cs)
			}
			var b strings.Builder
			if err := WritePS(&b, cs); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(b.String(), "NAME") || !strings.Contains(b.String(), "Up ") {
				t.Errorf("ps:\n%s", b.String())
			}
			for _, ct := range cs {
				if !strings.HasPrefix(ct.Status, "Up ") {
					t.Errorf("%s: status %q", ct.Name, ct.Status)
				}
				if ct.Service == tc.published && !strings.Contains(ct.Ports, "127.0.0.1:"+port+"->") {
					t.Errorf("%s: ports %q lack the published %s", ct.Name, ct.Ports, port)
				}
				// Every pod resolves the project's names (hostAliases).
				names := map[string]bool{}
				for _, ha := range ct.Pod.Spec.HostAliases {
					for _, h := range ha.Hostnames {
						names[h] = true
					}
				}
				for _, want := range tc.aliases[ct.Service] {
					if !names[want] {
						t.Errorf("%s: host aliases %v lack %q", ct.Name, ct.Pod.Spec.HostAliases, want)
					}
				}
			}
			if tc.published != "" {
				var body string
				testenv.Eventually(t, 10*time.Second, "the published port to answer", func() bool {
					body, err = httpGet("http://127.0.0.1:" + port + "/")
					return err == nil
				})
				if !strings.Contains(body, ns+"/"+tc.published+"-") {
					t.Errorf("published port answered %q, not from a %s pod", body, tc.published)
				}
			}
			var logs strings.Builder
			if err := cl.Logs(ctx, tc.project, LogOptions{Services: []string{tc.scale}}, &logs); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(logs.String(), tc.scale+"-1 | ") {
				t.Errorf("logs not prefixed %q:\n%s", tc.scale+"-1 | ", logs.String())
			}
			if err := cl.Scale(ctx, tc.project, tc.scale, 3); err != nil {
				t.Fatal(err)
			}
			testenv.Eventually(t, 20*time.Second, "3 running replicas", func() bool {
				cs, err := cl.PS(ctx, tc.project, time.Now())
				n := 0
				for _, ct := range cs {
					if ct.Service == tc.scale && strings.HasPrefix(ct.Status, "Up ") {
						n++
					}
				}
				return err == nil && n == 3
			})
			if err := cl.Down(ctx, tc.project, DownOptions{Volumes: true}); err != nil {
				t.Fatal(err)
			}
			if !c.gone(t, tc.project) {
				t.Fatal("down left objects behind")
			}
			if tc.published != "" {
				testenv.Eventually(t, 10*time.Second, "the published port to close", func() bool {
					_, err := httpGet("http://127.0.0.1:" + port + "/")
					return err != nil
				})
			}
		})
	}
}

// TestUpChangesOnlyWhatChanged: a second up with one service changed
// rolls that one and leaves the other untouched; unchanged, nothing moves.
func TestUpChangesOnlyWhatChanged(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "shop")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := func(v string) string {
		return write(t, dir, "compose.yaml", fmt.Sprintf("services:\n  db:\n    image: postgres\n  api:\n    image: api\n    environment: {VERSION: %q}\n    depends_on: [db]\n", v))
	}
	c.up(t, nil, file("1"), UpOptions{Wait: true})
	gen := func(name string) (int64, string) {
		d, err := c.kube.AppsV1().Deployments("shop").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return d.Generation, d.ResourceVersion
	}
	db1, dbRV := gen("db")
	api1, apiRV := gen("api")
	c.up(t, nil, file("1"), UpOptions{Wait: true})
	if _, rv := gen("db"); rv != dbRV {
		t.Errorf("an unchanged up wrote db")
	}
	if _, rv := gen("api"); rv != apiRV {
		t.Errorf("an unchanged up wrote api")
	}
	c.up(t, nil, file("2"), UpOptions{Wait: true})
	if g, rv := gen("db"); g != db1 || rv != dbRV {
		t.Errorf("db changed (generation %d→%d) though its service did not", db1, g)
	}
	if g, _ := gen("api"); g != api1+1 {
		t.Errorf("api generation %d→%d, want one rollout", api1, g)
	}
	d, _ := c.kube.AppsV1().Deployments("shop").Get(ctx, "api", metav1.GetOptions{})
	if v := d.Spec.Template.Spec.Containers[0].Env[0].Value; v != "2" {
		t.Errorf("api env VERSION %q, want 2", v)
	}
	if err := c.client(nil).Down(ctx, "shop", DownOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestPortClash: a second project publishing the same port fails before
// it creates anything.
func TestPortClash(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	port := freePort(t)
	dir := t.TempDir()
	a := write(t, dir, "a.yaml", "name: alpha\nservices:\n  web:\n    image: nginx\n    ports: [\""+port+":80\"]\n")
	b := write(t, dir, "b.yaml", "name: beta\nservices:\n  cache:\n    image: redis\n  web:\n    image: httpd\n    ports: [\""+port+":8080\"]\n")
	c.up(t, nil, a, UpOptions{Wait: true})
	p, err := Load(ctx, LoadOptions{Files: []string{b}})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Convert(p, ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = c.client(nil).Up(ctx, objs, UpOptions{})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:"+port) || !strings.Contains(err.Error(), "port is already allocated") || !strings.Contains(err.Error(), `"alpha"`) {
		t.Fatalf("second project's up: %v", err)
	}
	if !c.gone(t, "beta") {
		t.Error("the refused project created objects")
	}
	// Something else on the host holding a port is refused the same way.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	g := write(t, dir, "g.yaml", "name: gamma\nservices:\n  web:\n    image: nginx\n    ports: [\""+taken+":80\"]\n")
	p, err = Load(ctx, LoadOptions{Files: []string{g}})
	if err != nil {
		t.Fatal(err)
	}
	objs, err = Convert(p, ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.client(nil).Up(ctx, objs, UpOptions{}); err == nil || !strings.Contains(err.Error(), "Bind for 127.0.0.1:"+taken+" failed") {
		t.Fatalf("up on a taken host port: %v", err)
	}
	if !c.gone(t, "gamma") {
		t.Error("the refused project created objects")
	}
}

// TestDependsOnCompleted: a one-off service runs as a Job, and a
// service that depends on its successful completion starts after it.
func TestDependsOnCompleted(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	f := write(t, t.TempDir(), "compose.yaml", `name: migrate
services:
  migrate:
    image: tool
    restart: "no"
    labels:
      sim.stratus.io/exit-after: 50ms
  app:
    image: app
    depends_on:
      migrate:
        condition: service_completed_successfully
`)
	p, err := Load(ctx, LoadOptions{Files: []string{f}})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Convert(p, ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.client(nil).Up(ctx, objs, UpOptions{Wait: true, Timeout: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	job, err := c.kube.BatchV1().Jobs("migrate").Get(ctx, "migrate", metav1.GetOptions{})
	if err != nil || job.Status.Succeeded != 1 || job.Labels[LabelService] != "migrate" {
		t.Fatalf("one-off Job: %v %+v", err, job.Status)
	}
	pods, err := c.kube.CoreV1().Pods("migrate").List(ctx, metav1.ListOptions{LabelSelector: selector("migrate", "migrate")})
	if err != nil || len(pods.Items) != 1 || pods.Items[0].Status.Phase != "Succeeded" {
		t.Fatalf("one-off pods: %v %+v", err, pods)
	}
	pod := &pods.Items[0]
	app, err := c.kube.CoreV1().Pods("migrate").List(ctx, metav1.ListOptions{LabelSelector: selector("migrate", "app")})
	if err != nil || len(app.Items) != 1 {
		t.Fatalf("app pods: %v %d", err, len(app.Items))
	}
	if !app.Items[0].CreationTimestamp.After(pod.CreationTimestamp.Time) && !app.Items[0].CreationTimestamp.Equal(&pod.CreationTimestamp) {
		t.Errorf("app created before migrate completed")
	}
	cs, _ := c.client(nil).PS(ctx, "migrate", time.Now())
	for _, ct := range cs {
		if ct.Service == "migrate" && !strings.HasPrefix(ct.Status, "Exited (0)") {
			t.Errorf("ps status of the one-off: %q", ct.Status)
		}
	}
	// restart runs the one-off again: a new Job that succeeds.
	if err := c.client(nil).Restart(ctx, "migrate", []string{"migrate"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, "the one-off to run again", func() bool {
		j, err := c.kube.BatchV1().Jobs("migrate").Get(ctx, "migrate", metav1.GetOptions{})
		return err == nil && j.UID != job.UID && j.Status.Succeeded == 1
	})
	if err := c.client(nil).Down(ctx, "migrate", DownOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestHealthcheckGatesDependents: a healthcheck is a readiness probe the
// node agent runs; a service_healthy dependent is not created until it
// passes, and ps shows the health.
func TestHealthcheckGatesDependents(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	f := write(t, t.TempDir(), "compose.yaml", `name: health
services:
  db:
    image: postgres
    healthcheck:
      test: ["CMD-SHELL", "cat /tmp/healthy"]
      interval: 1s
      retries: 2
  app:
    image: app
    depends_on:
      db:
        condition: service_healthy
`)
	p, err := Load(ctx, LoadOptions{Files: []string{f}})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Convert(p, ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.client(nil).Up(ctx, objs, UpOptions{Wait: true, Timeout: 30 * time.Second}) }()
	var db corev1.Pod
	testenv.Eventually(t, 10*time.Second, "db running", func() bool {
		l, err := c.kube.CoreV1().Pods("health").List(ctx, metav1.ListOptions{LabelSelector: selector("health", "db")})
		if err != nil || len(l.Items) != 1 || l.Items[0].Status.Phase != corev1.PodRunning {
			return false
		}
		db = l.Items[0]
		return true
	})
	time.Sleep(2500 * time.Millisecond) // a few probes, all failing: past interval 1s × retries 2
	if _, err := c.kube.AppsV1().Deployments("health").Get(ctx, "app", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("app created before db is healthy: %v", err)
	}
	cs, err := c.client(nil).PS(ctx, "health", time.Now())
	if err != nil || len(cs) != 1 || !strings.HasSuffix(cs[0].Status, "(unhealthy)") {
		t.Fatalf("ps after its retries failed: %v %+v", err, cs)
	}
	id := strings.TrimPrefix(db.Status.ContainerStatuses[0].ContainerID, "sim://")
	if code, err := c.rt.Exec(ctx, id, []string{"sh", "-c", "echo ok > /tmp/healthy"}, runtime.Streams{}); err != nil || code != 0 {
		t.Fatalf("exec: %d %v", code, err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("up did not return once db was healthy")
	}
	cs, err = c.client(nil).PS(ctx, "health", time.Now())
	if err != nil || len(cs) != 2 {
		t.Fatalf("ps: %v %+v", err, cs)
	}
	for _, ct := range cs {
		if ct.Service == "db" && !strings.HasSuffix(ct.Status, "(healthy)") {
			t.Errorf("db status %q", ct.Status)
		}
	}
	if err := c.client(nil).Down(ctx, "health", DownOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestNamedVolumesAsClaims: with a default StorageClass a named volume is
// a PersistentVolumeClaim both services mount; down keeps it (and its
// namespace) and removes the rest; down -v removes it too.
func TestNamedVolumesAsClaims(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	cl := c.client(nil)
	// The cluster's volume controller makes a default class at start; a
	// cluster without one gets it here.
	if has, err := cl.HasDefaultStorageClass(ctx); err != nil {
		t.Fatal(err)
	} else if !has {
		sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard", Annotations: map[string]string{DefaultStorageClass: "true"}},
			Provisioner: "example.com/test"}
		if _, err := c.kube.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	has, err := cl.HasDefaultStorageClass(ctx)
	if err != nil || !has {
		t.Fatalf("default storage class: %v %v", has, err)
	}
	f := write(t, t.TempDir(), "compose.yaml", `name: vols
services:
  db:
    image: postgres
    volumes: ["db_data:/var/lib/postgresql/data", "/srv/logs:/logs", "/scratch"]
    tmpfs: /run
  backup:
    image: tool
    volumes: ["db_data:/backup:ro"]
volumes:
  db_data: {}
`)
	p, err := Load(ctx, LoadOptions{Files: []string{f}})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Convert(p, ConvertOptions{Claims: has})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Up(ctx, objs, UpOptions{Wait: true, Timeout: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	pvc, err := c.kube.CoreV1().PersistentVolumeClaims("vols").Get(ctx, "db-data", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pvc.Labels[LabelProject] != "vols" || pvc.Labels[LabelVolume] != "db_data" || pvc.Spec.AccessModes[0] != corev1.ReadWriteOnce ||
		pvc.Spec.Resources.Requests.Storage().Cmp(ClaimSize) != 0 {
		t.Errorf("claim %+v", pvc)
	}
	for _, svc := range []string{"db", "backup"} {
		d, err := c.kube.AppsV1().Deployments("vols").Get(ctx, svc, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		vols := map[string]corev1.VolumeSource{}
		for _, v := range d.Spec.Template.Spec.Volumes {
			vols[v.Name] = v.VolumeSource
		}
		if v := vols["vol-db-data"]; v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != "db-data" {
			t.Errorf("%s: named volume %+v, want the claim", svc, v)
		}
		if svc != "db" {
			continue
		}
		if v := vols["bind-1"]; v.HostPath == nil || v.HostPath.Path != "/srv/logs" {
			t.Errorf("bind mount %+v", v)
		}
		if v := vols["anon-2"]; v.EmptyDir == nil || v.EmptyDir.Medium != "" {
			t.Errorf("anonymous volume %+v", v)
		}
		if v := vols["tmpfs-t0"]; v.EmptyDir == nil || v.EmptyDir.Medium != corev1.StorageMediumMemory {
			t.Errorf("tmpfs %+v", v)
		}
	}
	// down keeps the volume.
	if err := cl.Down(ctx, "vols", DownOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.kube.CoreV1().PersistentVolumeClaims("vols").Get(ctx, "db-data", metav1.GetOptions{}); err != nil {
		t.Fatalf("down removed the volume: %v", err)
	}
	lo := metav1.ListOptions{LabelSelector: LabelProject + "=vols"}
	if pods, _ := c.kube.CoreV1().Pods("vols").List(ctx, lo); len(pods.Items) != 0 {
		t.Errorf("down left %d pods", len(pods.Items))
	}
	// up again finds it; down -v removes everything.
	if err := cl.Up(ctx, objs, UpOptions{Wait: true, Timeout: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := cl.Down(ctx, "vols", DownOptions{Volumes: true}); err != nil {
		t.Fatal(err)
	}
	if !c.gone(t, "vols") {
		t.Fatal("down -v left objects")
	}
	if _, err := c.kube.CoreV1().PersistentVolumeClaims("vols").Get(ctx, "db-data", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("down -v kept the volume: %v", err)
	}
}
