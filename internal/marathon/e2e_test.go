package marathon_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/testenv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stratus-cloud/stratus/internal/marathon"
	"github.com/stratus-cloud/stratus/internal/marathon/marathontest"
)

// call sends one request with the cluster's credentials and decodes the
// JSON answer into out (if not nil); it returns the status and body.
func call(t testing.TB, c *marathontest.Cluster, method, path string, body any, out any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = bytes.NewBufferString(s)
		} else {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(method, c.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(c.Username, c.Password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode, b
}

// TestMesosAndStreams: /master/state agrees with the Kubernetes nodes and
// pods; the event stream honours event_type; a task's stdout is read
// through /files; requests without the credentials get 401; a bad
// request changes nothing.
func TestMesosAndStreams(t *testing.T) {
	c := marathontest.Start(t, marathontest.Options{Nodes: 2})
	ctx := context.Background()

	// Nothing without credentials; Marathon's body.
	for _, p := range []string{"/v2/apps", "/master/state", "/ping", "/files/browse?path=/"} {
		resp, err := http.Get(c.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || string(b) != `{"message":"Invalid username or password."}` {
			t.Fatalf("GET %s without credentials: %d %s", p, resp.StatusCode, b)
		}
	}

	// A stream of status updates only.
	req, _ := http.NewRequest("GET", c.URL+"/v2/events?event_type=status_update_event", nil)
	req.SetBasicAuth(c.Username, c.Password)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	types := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				types <- v
			}
		}
		close(types)
	}()

	// A bad request changes nothing.
	if code, b := call(t, c, "POST", "/v2/apps", `{"id":"/m/web","cmd":"x","instances":"two"}`, nil); code != 400 ||
		!strings.Contains(string(b), `"path":"/instances"`) {
		t.Fatalf("bad create: %d %s", code, b)
	}
	if code, _ := call(t, c, "GET", "/v2/apps/m/web", nil, nil); code != 404 {
		t.Fatalf("a refused app exists: %d", code)
	}

	code, b := call(t, c, "POST", "/v2/apps", map[string]any{"id": "/m/web", "instances": 3, "cmd": "serve", "cpus": 0.25, "mem": 64,
		"labels": map[string]string{"tier": "web"}}, nil)
	if code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}
	if code, b := call(t, c, "PUT", "/v2/apps/m/web", `{"instances":"x"}`, nil); code != 400 {
		t.Fatalf("bad update: %d %s", code, b)
	}
	testenv.Eventually(t, 20*time.Second, "deployment done", func() bool {
		var deps []map[string]any
		call(t, c, "GET", "/v2/deployments", nil, &deps)
		return len(deps) == 0
	})
	var label struct{ Apps []map[string]any }
	call(t, c, "GET", "/v2/apps?label=tier==web", nil, &label)
	var nolabel struct{ Apps []map[string]any }
	call(t, c, "GET", "/v2/apps?label=tier==db", nil, &nolabel)
	if len(label.Apps) != 1 || len(nolabel.Apps) != 0 {
		t.Fatalf("label filter: %d and %d apps", len(label.Apps), len(nolabel.Apps))
	}

	// The master's state against the Kubernetes API.
	var state struct {
		Slaves []struct {
			ID, Hostname  string
			Active        bool
			UsedResources struct{ Cpus, Mem float64 } `json:"used_resources"`
		}
		Frameworks []struct {
			Name  string
			Tasks []struct {
				ID, State string
				SlaveID   string `json:"slave_id"`
			} `json:"tasks"`
		}
	}
	if code, b := call(t, c, "GET", "/master/state", nil, &state); code != 200 {
		t.Fatalf("state: %d %s", code, b)
	}
	nodes, err := c.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(state.Slaves) != len(nodes.Items) {
		t.Fatalf("%d agents, %d nodes", len(state.Slaves), len(nodes.Items))
	}
	pods, err := c.Kube.CoreV1().Pods(marathon.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	perNode := map[string]int{}
	for _, p := range pods.Items {
		perNode[p.Spec.NodeName]++
	}
	for _, s := range state.Slaves {
		if !s.Active || s.UsedResources.Cpus != 0.25*float64(perNode[s.Hostname]) || s.UsedResources.Mem != 64*float64(perNode[s.Hostname]) {
			t.Fatalf("agent %s: %+v, pods there %d", s.Hostname, s, perNode[s.Hostname])
		}
	}
	if len(state.Frameworks) != 1 || state.Frameworks[0].Name != "marathon" || len(state.Frameworks[0].Tasks) != len(pods.Items) {
		t.Fatalf("frameworks: %+v, %d pods", state.Frameworks, len(pods.Items))
	}
	uids := map[string]bool{}
	for _, p := range pods.Items {
		uids["m_web.instance-"+string(p.UID)] = true
	}
	for _, task := range state.Frameworks[0].Tasks {
		if !uids[task.ID] || task.State != "TASK_RUNNING" || task.SlaveID == "" {
			t.Fatalf("task %+v is not one of the pods", task)
		}
	}

	// The stream carried status updates and nothing else.
	seen := 0
	for seen < 3 {
		select {
		case ty := <-types:
			if ty != "status_update_event" {
				t.Fatalf("filtered stream sent %q", ty)
			}
			seen++
		case <-time.After(10 * time.Second):
			t.Fatalf("%d status updates on the stream", seen)
		}
	}

	// A task's sandbox: stdout through /files.
	var tasks struct {
		Tasks []struct{ ID, SlaveID string }
	}
	call(t, c, "GET", "/v2/apps/m/web/tasks", nil, &tasks)
	task := tasks.Tasks[0]
	dir := "/var/lib/mesos/slaves/" + task.SlaveID + "/frameworks/x/executors/" + task.ID + "/runs/latest"
	var files []struct {
		Path string
		Size int
	}
	if code, b := call(t, c, "GET", "/files/browse?path="+url.QueryEscape(dir), nil, &files); code != 200 || len(files) != 2 {
		t.Fatalf("browse: %d %s", code, b)
	}
	var read struct {
		Data   string
		Offset int
	}
	if code, b := call(t, c, "GET", "/files/read?offset=-1&path="+url.QueryEscape(dir+"/stdout"), nil, &read); code != 200 {
		t.Fatalf("read size: %d %s", code, b)
	}
	if read.Offset != files[1].Size {
		t.Fatalf("size %d, browse said %d", read.Offset, files[1].Size)
	}
	if code, _ := call(t, c, "GET", "/files/read?path="+url.QueryEscape(dir+"/stdout")+"&offset=0&length=5", nil, &read); code != 200 || len(read.Data) > 5 {
		t.Fatalf("read window: %d %q", code, read.Data)
	}
}

// BenchmarkScaleApp10k: one app of 10,000 instances on 100 sim nodes,
// from the POST to every task TASK_RUNNING (target ≤ 5 s). Run with
// -benchtime=1x; MARATHON_BENCH_N changes the count.
func BenchmarkScaleApp10k(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("MARATHON_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	c := marathontest.Start(b, marathontest.Options{Nodes: 100})
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("/bench/scale-%d", i)
		start := time.Now()
		if code, body := call(b, c, "POST", "/v2/apps", map[string]any{"id": id, "instances": n, "cmd": "sleep 1000", "cpus": 0.001, "mem": 1}, nil); code != 201 {
			b.Fatalf("create: %d %s", code, body)
		}
		for {
			var list struct{ Apps []struct{ TasksRunning int } }
			call(b, c, "GET", "/v2/apps?id="+id, nil, &list)
			if len(list.Apps) == 1 && list.Apps[0].TasksRunning == n {
				break
			}
			if time.Since(start) > 4*time.Minute {
				b.Fatalf("%d of %d running after 4m", list.Apps[0].TasksRunning, n)
			}
			time.Sleep(50 * time.Millisecond)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s-to-running")
		b.StopTimer()
		call(b, c, "DELETE", "/v2/apps"+id, nil, nil)
		b.StartTimer()
	}
}
