package marathon

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// wantsText reports whether the client asked for text/plain (the task
// lists' other format).
func wantsText(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "text/plain") && !strings.Contains(a, "application/json")
}

// writeTaskText writes tasks as Marathon's text/plain list: per app and
// service port, the app id, the port and each task's host:port.
func writeTaskText(w http.ResponseWriter, apps []*App, tasksOf func(*App) []Task) {
	var b strings.Builder
	for _, a := range apps {
		_, svc := a.hostPorts()
		tasks := tasksOf(a)
		for i, sp := range svc {
			fmt.Fprintf(&b, "%s\t%d\t", taskPrefix(a.ID), sp)
			for _, t := range tasks {
				if i < len(t.Ports) {
					fmt.Fprintf(&b, "%s:%d\t", t.Host, t.Ports[i])
				}
			}
			b.WriteString("\n")
		}
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(b.String()))
}

// liveTasks lists the tasks of an app that have not ended (s.mu held).
func (s *Server) liveTasks(a *App) []Task {
	out := []Task{}
	at := newAppTasks(a)
	for _, p := range s.podsOf(a.ID) {
		if st := taskState(p); st != TaskFinished && st != TaskFailed {
			out = append(out, s.task(at, p, true))
		}
	}
	return out
}

// appTasks is GET and DELETE /v2/apps/{id}/tasks.
func (s *Server) appTasks(w http.ResponseWriter, r *http.Request, rawID string) error {
	id, _ := canonicalID(rawID, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.app(id)
	if a == nil {
		return errAppNotFound(rawID)
	}
	switch r.Method {
	case http.MethodGet:
		if wantsText(r) {
			writeTaskText(w, []*App{a}, s.liveTasks)
			return nil
		}
		writeJSON(w, http.StatusOK, map[string]any{"tasks": s.liveTasks(a)})
		return nil
	case http.MethodDelete:
		q := r.URL.Query()
		host := q.Get("host")
		var victims []*corev1.Pod
		for _, p := range s.podsOf(id) {
			if host == "" || p.Spec.NodeName == host {
				victims = append(victims, p)
			}
		}
		if n, err := strconv.Atoi(q.Get("killCount")); err == nil && n >= 0 && n < len(victims) {
			victims = victims[len(victims)-n:] // the youngest first
		}
		return s.kill(w, r, map[*App][]*corev1.Pod{a: victims}, boolParam(q, "scale"), "tasks")
	}
	return &apiError{Status: http.StatusMethodNotAllowed, Message: "HTTP method not allowed, supported methods: GET, DELETE"}
}

// appTask is DELETE (and GET) /v2/apps/{id}/tasks/{taskId}.
func (s *Server) appTask(w http.ResponseWriter, r *http.Request, rawID, task string) error {
	id, _ := canonicalID(rawID, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.app(id)
	if a == nil {
		return errAppNotFound(rawID)
	}
	p := s.podOfTask(a, task)
	if p == nil {
		return errNotFound("Task '" + task + "' does not exist")
	}
	if r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, map[string]any{"task": s.taskOf(a, p, true)})
		return nil
	}
	if r.Method != http.MethodDelete {
		return &apiError{Status: http.StatusMethodNotAllowed, Message: "HTTP method not allowed, supported methods: GET, DELETE"}
	}
	return s.kill(w, r, map[*App][]*corev1.Pod{a: {p}}, boolParam(r.URL.Query(), "scale"), "task")
}

// podOfTask finds the pod of a task id among an app's pods.
func (s *Server) podOfTask(a *App, task string) *corev1.Pod {
	prefix, uid, ok := parseTaskID(task)
	if !ok || prefix != taskPrefix(a.ID) {
		return nil
	}
	for _, p := range s.podsOf(a.ID) {
		if string(p.UID) == uid {
			return p
		}
	}
	return nil
}

// kill kills tasks (s.mu held). With scale, the apps' instances go down
// by their killed tasks, as one deployment that kills exactly those;
// without, the tasks' pods are deleted and replaced.
func (s *Server) kill(w http.ResponseWriter, r *http.Request, victims map[*App][]*corev1.Pod, scale bool, shape string) error {
	if scale {
		var changes []change
		for a, pods := range victims {
			if len(pods) == 0 {
				continue
			}
			next := a.clone()
			next.Instances = max(a.Instances-len(pods), 0)
			names := make([]string, 0, len(pods))
			for _, p := range pods {
				names = append(names, p.Name)
			}
			changes = append(changes, change{old: a, new: &next, kill: names})
		}
		d, err := s.deploy(r, changes, true)
		if err != nil {
			return err
		}
		w.Header().Set("Marathon-Deployment-Id", d.ID)
		writeJSON(w, http.StatusOK, map[string]string{"deploymentId": d.ID, "version": d.Version})
		return nil
	}
	killed := []Task{}
	for a, pods := range victims {
		for _, p := range pods {
			err := s.kc.CoreV1().Pods(Namespace).Delete(r.Context(), p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &p.UID}})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				return err
			}
			t := s.taskOf(a, p, false)
			t.State = TaskKilling
			killed = append(killed, t)
		}
	}
	if shape == "task" && len(killed) == 1 {
		writeJSON(w, http.StatusOK, map[string]any{"task": killed[0]})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"tasks": killed})
	return nil
}

// listTasks is GET /v2/tasks, with the status filter.
func (s *Server) listTasks(w http.ResponseWriter, r *http.Request) error {
	status := strings.ToLower(r.URL.Query().Get("status"))
	s.mu.Lock()
	defer s.mu.Unlock()
	apps := s.apps()
	filter := func(a *App) []Task {
		var out []Task
		for _, t := range s.liveTasks(a) {
			switch {
			case status == "running" && t.State != TaskRunning,
				status == "staging" && t.State != TaskStaging && t.State != TaskStarting:
				continue
			}
			out = append(out, t)
		}
		return out
	}
	if wantsText(r) {
		writeTaskText(w, apps, filter)
		return nil
	}
	all := []Task{}
	for _, a := range apps {
		all = append(all, filter(a)...)
	}
	writeJSON(w, http.StatusOK, map[string]any{"tasks": all})
	return nil
}

// deleteTasks is POST /v2/tasks/delete {"ids": [...]}.
func (s *Server) deleteTasks(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req struct {
		IDs []string `json:"ids"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return invalidJSON(err, "")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	byPrefix := map[string]*App{}
	for _, a := range s.apps() {
		byPrefix[taskPrefix(a.ID)] = a
	}
	victims := map[*App][]*corev1.Pod{}
	for _, id := range req.IDs {
		prefix, _, ok := parseTaskID(id)
		a := byPrefix[prefix]
		if !ok || a == nil {
			return errNotFound("Task '" + id + "' does not exist")
		}
		p := s.podOfTask(a, id)
		if p == nil {
			return errNotFound("Task '" + id + "' does not exist")
		}
		victims[a] = append(victims[a], p)
	}
	if boolParam(r.URL.Query(), "scale") {
		return s.kill(w, r, victims, true, "tasks")
	}
	if err := s.kill(discard{}, r, victims, false, "tasks"); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{})
	return nil
}

// discard is a ResponseWriter that drops what is written.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}
