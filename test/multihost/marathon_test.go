package multihost

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// marathonAPI is one server's Marathon API with that server's credentials
// (each server makes its own at its first start, in its data dir).
type marathonAPI struct {
	server, url, user, password string
}

// marathonOf reads a server's Marathon credentials with `stratus env
// marathon` in its container; the URL is its published HTTP port.
func marathonOf(t *testing.T, c *cluster, server string) marathonAPI {
	t.Helper()
	env := c.must(c.run(time.Minute, "docker", "exec", c.id(server), "/stratus", "env", "marathon", "--data-dir", "/data"))
	m := marathonAPI{server: server, url: "http://" + c.addr(server, 8080)}
	for _, l := range strings.Split(env, "\n") {
		k, v, _ := strings.Cut(strings.TrimPrefix(l, "export "), "=")
		v = strings.Trim(v, "'\"")
		switch k {
		case "MARATHON_USERNAME":
			m.user = v
		case "MARATHON_PASSWORD":
			m.password = v
		}
	}
	if m.user == "" || m.password == "" {
		t.Fatalf("%s: no Marathon credentials in %q", server, env)
	}
	return m
}

// call sends one request; it returns the status and the body.
func (m marathonAPI) call(method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, m.url+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.SetBasicAuth(m.user, m.password)
	req.Header.Set("Content-Type", "application/json")
	hc := http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// waitApp waits until the app has exactly want tasks running and no
// deployment of the server's is left.
func (m marathonAPI) waitApp(t *testing.T, id string, want int, timeout time.Duration) {
	t.Helper()
	until := time.Now().Add(timeout)
	for {
		var app struct {
			App struct {
				TasksRunning int
				Deployments  []any
			}
		}
		code, b, err := m.call("GET", "/v2/apps"+id, nil)
		if err == nil && code == 200 && json.Unmarshal(b, &app) == nil && app.App.TasksRunning == want && len(app.App.Deployments) == 0 {
			return
		}
		if time.Now().After(until) {
			t.Fatalf("%s: app %s not at %d running tasks within %v: %d %s %v", m.server, id, want, timeout, code, b, err)
		}
		time.Sleep(time.Second)
	}
}

// testMarathonServerStopped: an app made through server1's Marathon API
// runs on the agents; server1 is killed; through server2 the app's tasks
// all still run and it scales; server1 comes back and shows the same app.
func testMarathonServerStopped(t *testing.T, c *cluster) {
	m1, m2 := marathonOf(t, c, "server1"), marathonOf(t, c, "server2")
	const id = "/mh/web"
	app := map[string]any{"id": id, "cmd": "sleep 100000", "instances": 3, "cpus": 0.01, "mem": 8}
	code, b, err := m1.call("POST", "/v2/apps", app)
	if err != nil || code != http.StatusCreated {
		t.Fatalf("create through server1: %d %s %v", code, b, err)
	}
	m1.waitApp(t, id, 3, 2*time.Minute)
	tasksBefore := taskIDs(t, m1, id)
	t.Logf("app %s: 3 tasks running through server1; killing server1", id)

	c.kill("server1")
	m2.waitApp(t, id, 3, time.Minute)
	if after := taskIDs(t, m2, id); fmt.Sprint(after) != fmt.Sprint(tasksBefore) {
		t.Fatalf("tasks changed with server1 lost: %v, were %v", after, tasksBefore)
	}
	code, b, err = m2.call("PUT", "/v2/apps"+id, map[string]any{"instances": 5})
	if err != nil || code != http.StatusOK {
		t.Fatalf("scale through server2: %d %s %v", code, b, err)
	}
	m2.waitApp(t, id, 5, 2*time.Minute)
	t.Logf("app %s scaled to 5 through server2 with server1 lost", id)

	c.start("server1")
	waitServers(t, c, "server1")
	marathonOf(t, c, "server1").waitApp(t, id, 5, time.Minute)
	code, b, err = m2.call("DELETE", "/v2/apps"+id, nil)
	if err != nil || code != http.StatusOK {
		t.Fatalf("delete through server2: %d %s %v", code, b, err)
	}
}

// taskIDs lists the ids of an app's tasks, sorted (Marathon lists them
// by start).
func taskIDs(t *testing.T, m marathonAPI, id string) []string {
	t.Helper()
	code, b, err := m.call("GET", "/v2/apps"+id+"/tasks", nil)
	var out struct{ Tasks []struct{ ID string } }
	if err != nil || code != 200 || json.Unmarshal(b, &out) != nil {
		t.Fatalf("%s: tasks of %s: %d %s %v", m.server, id, code, b, err)
	}
	ids := make([]string, 0, len(out.Tasks))
	for _, x := range out.Tasks {
		ids = append(ids, x.ID)
	}
	sort.Strings(ids)
	return ids
}
