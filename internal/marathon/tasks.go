package marathon

import (
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
)

// Task states, as Mesos names them.
const (
	TaskStaging  = "TASK_STAGING"
	TaskStarting = "TASK_STARTING"
	TaskRunning  = "TASK_RUNNING"
	TaskKilling  = "TASK_KILLING"
	TaskFinished = "TASK_FINISHED"
	TaskFailed   = "TASK_FAILED"
	TaskKilled   = "TASK_KILLED"
)

// Task is a Marathon task: one pod of an app.
type Task struct {
	ID                 string              `json:"id"`
	AppID              string              `json:"appId"`
	Host               string              `json:"host"`
	IPAddresses        []IPAddress         `json:"ipAddresses"`
	Ports              []int               `json:"ports"`
	ServicePorts       []int               `json:"servicePorts"`
	SlaveID            string              `json:"slaveId"`
	State              string              `json:"state"`
	StagedAt           string              `json:"stagedAt"`
	StartedAt          *string             `json:"startedAt"`
	Version            string              `json:"version"`
	LocalVolumes       []any               `json:"localVolumes"`
	HealthCheckResults []HealthCheckResult `json:"healthCheckResults,omitempty"`
}

// IPAddress is one address of a task.
type IPAddress struct {
	IPAddress string `json:"ipAddress"`
	Protocol  string `json:"protocol"`
}

// HealthCheckResult is a task's health as its probes found it (health.go).
type HealthCheckResult struct {
	Alive               bool    `json:"alive"`
	ConsecutiveFailures int     `json:"consecutiveFailures"`
	FirstSuccess        *string `json:"firstSuccess"`
	LastFailure         *string `json:"lastFailure"`
	LastSuccess         *string `json:"lastSuccess"`
	LastFailureCause    *string `json:"lastFailureCause"`
	InstanceID          string  `json:"instanceId"`
}

// taskState is the Mesos state of a pod.
func taskState(p *corev1.Pod) string {
	switch p.Status.Phase {
	case corev1.PodSucceeded:
		return TaskFinished
	case corev1.PodFailed:
		return TaskFailed
	}
	if _, ok := crashed(p); ok && p.Status.Phase == corev1.PodRunning {
		// It exited and waits for its launch delay (delay.go), also
		// while its pod is deleted to launch a new task.
		if exitCode(p) == 0 {
			return TaskFinished
		}
		return TaskFailed
	}
	if p.DeletionTimestamp != nil {
		return TaskKilling
	}
	if p.Spec.NodeName == "" {
		return TaskStaging
	}
	if p.Status.Phase == corev1.PodRunning {
		for _, c := range p.Status.ContainerStatuses {
			if c.State.Running == nil {
				return TaskStarting
			}
		}
		return TaskRunning
	}
	return TaskStarting
}

func podReady(p *corev1.Pod) (bool, *time.Time) {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			t := c.LastTransitionTime.Time
			return c.Status == corev1.ConditionTrue, &t
		}
	}
	return false, nil
}

// slaveID names a node as a Mesos agent.
func slaveID(n *corev1.Node) string { return string(n.UID) + "-S0" }

// appTasks holds what the tasks of one app share, computed once per
// listing: its service ports, its task id prefix, decoded port lists.
type appTasks struct {
	app     *App
	prefix  string
	service []int
	ports   map[string][]int // the pods' port annotation → ports
}

func newAppTasks(a *App) *appTasks {
	_, svc := a.hostPorts()
	if svc == nil {
		svc = []int{}
	}
	return &appTasks{app: a, prefix: taskPrefix(a.ID) + ".instance-", service: svc, ports: map[string][]int{}}
}

func (at *appTasks) portsOf(raw string) []int {
	if ps, ok := at.ports[raw]; ok {
		return ps
	}
	ps := parsePorts(raw)
	at.ports[raw] = ps
	return ps
}

// parsePorts reads a pod's ports annotation: its host ports, none while
// the server has not yet given the task the ones it gets on its node.
func parsePorts(raw string) []int {
	// A JSON list of integers, read without encoding/json: GET /v2/apps
	// reads one per task.
	body, open := strings.CutPrefix(strings.TrimSpace(raw), "[")
	body, closed := strings.CutSuffix(body, "]")
	if !open || !closed || strings.TrimSpace(body) == "" {
		return []int{}
	}
	ps := make([]int, 0, strings.Count(body, ",")+1)
	for f := range strings.SplitSeq(body, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || p == 0 {
			return []int{} // unreadable, or not given yet
		}
		ps = append(ps, p)
	}
	return ps
}

// taskPorts are a pod's host ports.
func taskPorts(p *corev1.Pod) []int { return parsePorts(p.Annotations[annotationPorts]) }

// taskOf describes a pod as a task of app a.
func (s *Server) taskOf(a *App, p *corev1.Pod, health bool) Task {
	return s.task(newAppTasks(a), p, health)
}

// task describes a pod as a task of at's app.
func (s *Server) task(at *appTasks, p *corev1.Pod, health bool) Task {
	a := at.app
	t := Task{ID: at.prefix + string(p.UID), AppID: a.ID, Host: p.Spec.NodeName, State: taskState(p),
		StagedAt: versionTime(p.CreationTimestamp.Time), Version: p.Annotations[annotationVersion], LocalVolumes: []any{},
		IPAddresses: make([]IPAddress, 0, 1), Ports: at.portsOf(p.Annotations[annotationPorts]), ServicePorts: at.service}
	if t.Version == "" {
		t.Version = a.Version
	}
	for _, ip := range p.Status.PodIPs {
		t.IPAddresses = append(t.IPAddresses, IPAddress{IPAddress: ip.IP, Protocol: "IPv4"})
	}
	if len(t.IPAddresses) == 0 && p.Status.PodIP != "" {
		t.IPAddresses = append(t.IPAddresses, IPAddress{IPAddress: p.Status.PodIP, Protocol: "IPv4"})
	}
	if p.Status.StartTime != nil && (t.State == TaskRunning || t.State == TaskKilling || t.State == TaskFinished || t.State == TaskFailed) {
		st := versionTime(p.Status.StartTime.Time)
		for _, c := range p.Status.ContainerStatuses {
			if c.State.Running != nil {
				st = versionTime(c.State.Running.StartedAt.Time)
			}
		}
		t.StartedAt = &st
	}
	if n, ok, _ := s.nodes.GetStore().GetByKey(p.Spec.NodeName); ok && p.Spec.NodeName != "" {
		t.SlaveID = slaveID(n.(*corev1.Node))
	}
	if health && len(a.HealthChecks) > 0 && t.State == TaskRunning {
		t.HealthCheckResults = s.healthResults(a, p)
	}
	return t
}

// taskStates remembers the last state reported of each pod, so a status
// update event is sent once per change, and counts the states of each
// app's tasks, so GET /v2/apps need not look at every pod of an app that
// scales to thousands.
type taskStates struct {
	mu     sync.Mutex
	last   map[string]string       // pod uid → state
	counts map[string]*stateCounts // app label → its pods' states
}

// stateCounts counts an app's pods by task state.
type stateCounts struct{ staged, running int }

func (c *stateCounts) add(state string, n int) {
	switch state {
	case TaskRunning:
		c.running += n
	case TaskStaging, TaskStarting:
		c.staged += n
	}
}

// counts returns the app's pods counted by state.
func (t *taskStates) countsOf(label string) stateCounts {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c := t.counts[label]; c != nil {
		return *c
	}
	return stateCounts{}
}

// podChanged sends the status_update_event of a pod whose task state
// changed.
func (s *Server) podChanged(obj any, deleted bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	state := taskState(p)
	if deleted && state != TaskFinished && state != TaskFailed {
		state = TaskKilled
	}
	s.trackPorts(p, deleted)
	if deleted {
		s.delays.forgetPod(p.UID)
		s.checks.forget(p.UID)
	} else if n, ok := crashed(p); ok && p.Status.Phase == corev1.PodRunning {
		s.failed(p, n)
	}
	uid := string(p.UID)
	s.tasks.mu.Lock()
	prev, seen := s.tasks.last[uid]
	if deleted {
		delete(s.tasks.last, uid)
	} else {
		s.tasks.last[uid] = state
	}
	if label := p.Labels[LabelApp]; label != "" {
		c := s.tasks.counts[label]
		if c == nil {
			c = &stateCounts{}
			s.tasks.counts[label] = c
		}
		if seen {
			c.add(prev, -1)
		}
		if !deleted {
			c.add(state, 1)
		} else if *c == (stateCounts{}) {
			delete(s.tasks.counts, label)
		}
	}
	s.tasks.mu.Unlock()
	if prev == state || !s.events.wants("status_update_event") {
		return
	}
	id := p.Annotations[annotationID]
	if id == "" {
		return
	}
	a := s.app(id)
	if a == nil {
		a = &App{ID: id}
	}
	t := s.taskOf(a, p, false)
	s.events.publish("status_update_event", map[string]any{
		"slaveId": t.SlaveID, "taskId": t.ID, "taskStatus": state, "message": "", "appId": id, "host": t.Host,
		"ipAddresses": t.IPAddresses, "ports": t.Ports, "version": t.Version,
	})
}
