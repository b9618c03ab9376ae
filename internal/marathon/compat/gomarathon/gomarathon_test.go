package gomarathon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/testenv"

	marathon "github.com/gambol99/go-marathon"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	stratusmarathon "github.com/stratus-cloud/stratus/internal/marathon"
	"github.com/stratus-cloud/stratus/internal/marathon/marathontest"
)

const timeout = 30 * time.Second

func client(t *testing.T, c *marathontest.Cluster, user, password string) marathon.Marathon {
	t.Helper()
	cfg := marathon.NewDefaultConfig()
	cfg.URL = c.URL
	cfg.HTTPBasicAuthUser, cfg.HTTPBasicPassword = user, password
	cfg.EventsTransport = marathon.EventsTransportSSE
	cfg.PollingWaitTime = 50 * time.Millisecond
	cfg.LogOutput = io.Discard
	m, err := marathon.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// apiCode returns the go-marathon error code of err (-1 if none).
func apiCode(err error) int {
	var ae *marathon.APIError
	if errors.As(err, &ae) {
		return ae.ErrCode
	}
	return -1
}

// events collects what the event stream delivered.
type events struct {
	mu     sync.Mutex
	status map[string][]string // task id → states in order
	done   map[string]bool     // deployment ids that succeeded
}

func (e *events) collect(ch marathon.EventsChannel) {
	for ev := range ch {
		e.mu.Lock()
		switch x := ev.Event.(type) {
		case *marathon.EventStatusUpdate:
			e.status[x.TaskID] = append(e.status[x.TaskID], x.TaskStatus)
		case *marathon.EventDeploymentSuccess:
			e.done[x.ID] = true
		}
		e.mu.Unlock()
	}
}

func (e *events) succeeded(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.done[id]
}

func (e *events) sawState(task, state string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.status[task] {
		if s == state {
			return true
		}
	}
	return false
}

func runningTasks(t *testing.T, m marathon.Marathon, app string) []marathon.Task {
	t.Helper()
	ts, err := m.Tasks(app)
	if err != nil {
		t.Fatal(err)
	}
	var out []marathon.Task
	for _, x := range ts.Tasks {
		if x.State == "TASK_RUNNING" {
			out = append(out, x)
		}
	}
	return out
}

// TestGoMarathonLifecycle drives an app's whole life with go-marathon:
// create with a port mapping, wait, scale, kill with and without scale,
// change env (a new version, tasks rolled), the event stream, errors,
// groups, delete.
func TestGoMarathonLifecycle(t *testing.T) {
	c := marathontest.Start(t, marathontest.Options{Nodes: 3})
	m := client(t, c, c.Username, c.Password)
	if ok, err := m.Ping(); !ok || err != nil {
		t.Fatalf("Ping = %v, %v", ok, err)
	}
	t.Log("pinged")
	ev := &events{status: map[string][]string{}, done: map[string]bool{}}
	ch, err := m.AddEventsListener(marathon.EventIDStatusUpdate | marathon.EventIDDeploymentSuccess)
	if err != nil {
		t.Fatal(err)
	}
	go ev.collect(ch)

	app := marathon.NewDockerApplication().Name("/prod/web").Count(2).CPU(0.1).Memory(32)
	app.Container.Docker.Container("nginx:alpine").Bridged().ExposePort(marathon.PortMapping{ContainerPort: 80, HostPort: 0, Protocol: "tcp"})
	app.AddEnv("MODE", "one")
	created, err := m.CreateApplication(app)
	if err != nil {
		t.Fatal(err)
	}
	if len(created.Deployments) != 1 || created.Deployments[0]["id"] == "" {
		t.Fatalf("created app's deployments = %v", created.Deployments)
	}
	dep := created.Deployments[0]["id"]
	if err := m.WaitOnDeployment(dep, timeout); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, "deployment_success event", func() bool { return ev.succeeded(dep) })
	if err := m.WaitOnApplication("/prod/web", timeout); err != nil {
		t.Fatal(err)
	}
	tasks := runningTasks(t, m, "/prod/web")
	if len(tasks) != 2 {
		t.Fatalf("running tasks = %d, want 2", len(tasks))
	}
	got, err := m.Application("/prod/web")
	if err != nil {
		t.Fatal(err)
	}
	pm := (*got.Container.Docker.PortMappings)[0]
	if pm.HostPort != 0 || pm.ServicePort < stratusmarathon.PortRangeMin || pm.ServicePort > stratusmarathon.PortRangeMax {
		t.Fatalf("port mapping = %+v, want hostPort 0 kept and a service port assigned from the range", pm)
	}
	// Each task has a host port of its node's range, its own on its node.
	taken := map[string]bool{}
	for _, x := range tasks {
		if len(x.Ports) != 1 || x.Ports[0] < stratusmarathon.AgentPortMin || x.Ports[0] > stratusmarathon.AgentPortMax ||
			x.Host == "" || x.SlaveID == "" || x.StartedAt == "" || len(x.ServicePorts) != 1 || x.ServicePorts[0] != pm.ServicePort {
			t.Fatalf("task = %+v", x)
		}
		if hp := fmt.Sprintf("%s:%d", x.Host, x.Ports[0]); taken[hp] {
			t.Fatalf("two tasks on %s", hp)
		} else {
			taken[hp] = true
		}
		if !strings.HasPrefix(x.ID, "prod_web.instance-") {
			t.Fatalf("task id %q", x.ID)
		}
		testenv.Eventually(t, timeout, "TASK_RUNNING event of "+x.ID, func() bool { return ev.sawState(x.ID, "TASK_RUNNING") })
	}
	// kubectl's view: the same pods.
	pods, err := c.Kube.CoreV1().Pods(stratusmarathon.Namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil || len(pods.Items) != 2 {
		t.Fatalf("pods in %s: %v, %v", stratusmarathon.Namespace, len(pods.Items), err)
	}

	t.Log("created")
	// Scale up.
	d, err := m.ScaleApplicationInstances("/prod/web", 4, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.WaitOnDeployment(d.DeploymentID, timeout); err != nil {
		t.Fatal(err)
	}
	if n := len(runningTasks(t, m, "/prod/web")); n != 4 {
		t.Fatalf("after scale: %d running, want 4", n)
	}

	t.Log("scaled")
	// Kill one task without scale: it is replaced.
	tasks = runningTasks(t, m, "/prod/web")
	victim := tasks[0].ID
	if _, err := m.KillTask(victim, nil); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, "killed task replaced", func() bool {
		ts := runningTasks(t, m, "/prod/web")
		for _, x := range ts {
			if x.ID == victim {
				return false
			}
		}
		return len(ts) == 4
	})
	testenv.Eventually(t, timeout, "TASK_KILLED event", func() bool { return ev.sawState(victim, "TASK_KILLED") })

	t.Log("killed")
	// Kill one with scale: exactly that one goes and the app has 3.
	tasks = runningTasks(t, m, "/prod/web")
	victim = tasks[1].ID
	if err := m.KillTasks([]string{victim}, &marathon.KillTaskOpts{Scale: true}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, "scaled down to 3 without the killed task", func() bool {
		a, err := m.Application("/prod/web")
		if err != nil || *a.Instances != 3 {
			return false
		}
		ts := runningTasks(t, m, "/prod/web")
		for _, x := range ts {
			if x.ID == victim {
				return false
			}
		}
		return len(ts) == 3 && len(a.Deployments) == 0
	})
	kept := map[string]bool{}
	for _, x := range tasks {
		if x.ID != victim {
			kept[x.ID] = true
		}
	}
	for _, x := range runningTasks(t, m, "/prod/web") {
		if !kept[x.ID] {
			t.Fatalf("task %s is new: the kill with scale removed another task", x.ID)
		}
	}

	t.Log("killed with scale")
	// A change of env is a new version: every task is replaced.
	before, _ := m.Application("/prod/web")
	upd := marathon.NewDockerApplication().Name("/prod/web")
	upd.Container = nil
	upd.AddEnv("MODE", "two")
	d, err = m.UpdateApplication(upd, false)
	if err != nil {
		t.Fatal(err)
	}
	// A second change while the first deploys is refused.
	if _, err := m.ScaleApplicationInstances("/prod/web", 5, false); apiCode(err) != marathon.ErrCodeAppLocked {
		if err == nil {
			// the rollout may already have finished on a fast machine
			t.Log("deployment finished before the second change")
		} else {
			t.Fatalf("second change during a deployment: %v, want 409 locked", err)
		}
	}
	if err := m.WaitOnDeployment(d.DeploymentID, timeout); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, "rolled tasks", func() bool {
		a, err := m.Application("/prod/web")
		if err != nil || len(a.Deployments) != 0 {
			return false
		}
		if (*a.Env)["MODE"] != "two" || a.Version == before.Version {
			return false
		}
		ts := runningTasks(t, m, "/prod/web")
		for _, x := range ts {
			if kept[x.ID] || x.Version != a.Version {
				return false
			}
		}
		return len(ts) == *a.Instances
	})
	vs, err := m.ApplicationVersions("/prod/web")
	if err != nil || len(vs.Versions) < 3 {
		t.Fatalf("versions = %v, %v", vs, err)
	}
	old, err := m.ApplicationByVersion("/prod/web", vs.Versions[len(vs.Versions)-1])
	if err != nil || (*old.Env)["MODE"] != "one" {
		t.Fatalf("first version = %+v, %v", old, err)
	}

	t.Log("rolled")
	// Errors as Marathon writes them.
	if _, err := m.CreateApplication(app); apiCode(err) != marathon.ErrCodeDuplicateID {
		t.Fatalf("duplicate create: %v", err)
	}
	if _, err := m.Application("/nope"); apiCode(err) != marathon.ErrCodeNotFound {
		t.Fatalf("missing app: %v", err)
	}
	bad := marathon.NewDockerApplication().Name("/bad").Count(-1)
	bad.Container.Docker.Container("x")
	if _, err := m.CreateApplication(bad); apiCode(err) != marathon.ErrCodeInvalidBean {
		t.Fatalf("invalid app: %v", err)
	}
	if _, err := m.Application("/bad"); apiCode(err) != marathon.ErrCodeNotFound {
		t.Fatalf("an invalid app was created: %v", err)
	}
	if _, err := client(t, c, c.Username, "wrong").Applications(nil); apiCode(err) != marathon.ErrCodeUnauthorized {
		t.Fatalf("wrong password: %v", err)
	}

	t.Log("errors")
	// Groups: a group with two apps, one depending on the other.
	g := &marathon.Group{ID: "/shop", Apps: []*marathon.Application{
		marathon.NewDockerApplication().Name("/shop/db").Count(1).CPU(0.1).Memory(16),
		marathon.NewDockerApplication().Name("/shop/api").Count(2).CPU(0.1).Memory(16).DependsOn("/shop/db"),
	}}
	for _, a := range g.Apps {
		a.Container.Docker.Container("busybox")
	}
	if err := m.CreateGroup(g); err != nil {
		t.Fatal(err)
	}
	if err := m.WaitOnGroup("/shop", timeout); err != nil {
		t.Fatal(err)
	}
	got2, err := m.Group("/shop")
	if err != nil || len(got2.Apps) != 2 {
		t.Fatalf("group = %+v, %v", got2, err)
	}
	list, err := m.ListApplications(url.Values{"id": {"/shop"}})
	if err != nil || len(list) != 2 {
		t.Fatalf("apps in /shop: %v, %v", list, err)
	}
	gd, err := m.DeleteGroup("/shop", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.WaitOnDeployment(gd.DeploymentID, timeout); err != nil {
		t.Fatal(err)
	}

	t.Log("groups")
	// Delete.
	d, err = m.DeleteApplication("/prod/web", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.WaitOnDeployment(d.DeploymentID, timeout); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Application("/prod/web"); apiCode(err) != marathon.ErrCodeNotFound {
		t.Fatalf("deleted app: %v", err)
	}
	pods, err = c.Kube.CoreV1().Pods(stratusmarathon.Namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil || len(pods.Items) != 0 {
		t.Fatalf("pods left after delete: %d, %v", len(pods.Items), err)
	}
}
