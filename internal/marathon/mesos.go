package marathon

import (
	"bytes"
	"fmt"
	"net/http"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// MesosVersion is the Mesos release the master endpoints answer as.
const MesosVersion = "1.11.0"

// mesosRoutes mounts the Mesos master's read-only endpoints and the
// sandbox file reads.
func (s *Server) mesosRoutes(mux *http.ServeMux) {
	for _, p := range []string{"GET /master/state", "GET /master/state.json", "GET /state.json"} {
		mux.HandleFunc(p, s.wrap(s.masterState))
	}
	mux.HandleFunc("GET /master/slaves", s.wrap(func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, map[string]any{"slaves": s.slaves(), "recovered_slaves": []any{}})
		return nil
	}))
	mux.HandleFunc("GET /master/frameworks", s.wrap(func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, map[string]any{"frameworks": []any{s.framework()}, "completed_frameworks": []any{}, "unregistered_frameworks": []any{}})
		return nil
	}))
	mux.HandleFunc("GET /master/tasks", s.wrap(func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, map[string]any{"tasks": s.mesosTasks()})
		return nil
	}))
	mux.HandleFunc("GET /master/health", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET /master/version", s.ServeMesosVersion)
	mux.HandleFunc("GET /files/browse", s.wrap(s.filesBrowse))
	mux.HandleFunc("GET /files/read", s.wrap(s.filesRead))
	mux.HandleFunc("GET /files/read.json", s.wrap(s.filesRead))
}

// ServeMesosVersion answers the Mesos /version endpoint. It is exported
// for the HTTP front, which owns /version (Kubernetes clients ask there
// too) and may hand it the requests that are not Kubernetes'.
func (s *Server) ServeMesosVersion(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"version": MesosVersion, "build_user": "stratus", "build_date": "2020-11-24 12:00:00", "build_time": 1606219200.0})
}

func (s *Server) masterPID() string { return "master@" + s.hostPort() }

// resources is a Mesos resources object.
func resources(cpus, memMiB, diskMiB float64, ports string) map[string]any {
	m := map[string]any{"cpus": cpus, "mem": memMiB, "disk": diskMiB, "gpus": 0.0}
	if ports != "" {
		m["ports"] = ports
	}
	return m
}

func mib(q resource.Quantity) float64 { return float64(q.Value()) / (1 << 20) }

// slaves are the nodes as Mesos agents, with what their pods use.
func (s *Server) slaves() []map[string]any {
	used := map[string][3]float64{}
	usedPorts := map[string][]int{}
	for _, o := range s.pods.GetStore().List() {
		p := o.(*corev1.Pod)
		if p.Spec.NodeName == "" || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		usedPorts[p.Spec.NodeName] = append(usedPorts[p.Spec.NodeName], taskPorts(p)...)
		u := used[p.Spec.NodeName]
		for _, c := range p.Spec.Containers {
			u[0] += c.Resources.Requests.Cpu().AsApproximateFloat64()
			u[1] += mib(*c.Resources.Requests.Memory())
			u[2] += mib(*c.Resources.Requests.StorageEphemeral())
		}
		used[p.Spec.NodeName] = u
	}
	nodes := s.nodes.GetStore().List()
	out := make([]map[string]any, 0, len(nodes))
	for _, o := range nodes {
		n := o.(*corev1.Node)
		c := n.Status.Allocatable
		if len(c) == 0 {
			c = n.Status.Capacity
		}
		total := resources(c.Cpu().AsApproximateFloat64(), mib(*c.Memory()), mib(*c.StorageEphemeral()), fmt.Sprintf("[%d-%d]", AgentPortMin, AgentPortMax))
		u := used[n.Name]
		attrs := map[string]string{}
		for k, v := range n.Labels {
			attrs[k] = v
		}
		active := false
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				active = cond.Status == corev1.ConditionTrue
			}
		}
		addr := n.Name
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				addr = a.Address
			}
		}
		out = append(out, map[string]any{
			"id": slaveID(n), "pid": "slave(1)@" + addr + ":5051", "hostname": n.Name,
			"registered_time": float64(n.CreationTimestamp.Unix()), "resources": total,
			"used_resources": resources(u[0], u[1], u[2], portRanges(usedPorts[n.Name])), "offered_resources": resources(0, 0, 0, ""),
			"reserved_resources": map[string]any{}, "unreserved_resources": total, "attributes": attrs,
			"active": active, "deactivated": !active, "version": MesosVersion, "capabilities": []string{"MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT"},
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["hostname"].(string) < out[j]["hostname"].(string) })
	return out
}

// mesosTasks are the Marathon tasks as the master lists them.
func (s *Server) mesosTasks() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []map[string]any{}
	for _, a := range s.apps() {
		for _, p := range s.podsOf(a.ID) {
			t := s.taskOf(a, p, false)
			state := t.State
			if state == TaskKilling {
				state = TaskKilling
			}
			var statuses []map[string]any
			statuses = append(statuses, map[string]any{"state": TaskStaging, "timestamp": float64(p.CreationTimestamp.Unix())})
			if p.Status.StartTime != nil && state != TaskStaging {
				statuses = append(statuses, map[string]any{"state": state, "timestamp": float64(p.Status.StartTime.Unix())})
			}
			ports := []map[string]any{}
			for _, pt := range t.Ports {
				ports = append(ports, map[string]any{"number": pt, "protocol": "tcp"})
			}
			out = append(out, map[string]any{
				"id": t.ID, "name": strings.Join(splitID(a.ID), "."), "framework_id": s.frameworkID, "executor_id": "",
				"slave_id": t.SlaveID, "agent_id": t.SlaveID, "state": state,
				"resources": resources(a.Cpus, a.Mem, a.Disk, portRanges(t.Ports)), "statuses": statuses,
				"discovery": map[string]any{"visibility": "FRAMEWORK", "name": strings.Join(splitID(a.ID), "."), "ports": map[string]any{"ports": ports}},
				"container": map[string]any{"type": "DOCKER"}, "labels": []any{}, "role": "*",
			})
		}
	}
	return out
}

// portRanges writes ports as Mesos ranges ("[31000-31000, 31005-31005]").
func portRanges(ports []int) string {
	if len(ports) == 0 {
		return ""
	}
	ps := slices.Clone(ports)
	slices.Sort(ps)
	ps = slices.Compact(ps)
	var parts []string
	for i := 0; i < len(ps); {
		j := i
		for j+1 < len(ps) && ps[j+1] == ps[j]+1 {
			j++
		}
		parts = append(parts, fmt.Sprintf("%d-%d", ps[i], ps[j]))
		i = j + 1
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// framework is Marathon as a Mesos framework, with its tasks.
func (s *Server) framework() map[string]any {
	tasks := s.mesosTasks()
	var cpus, mem, disk float64
	for _, t := range tasks {
		r := t["resources"].(map[string]any)
		cpus += r["cpus"].(float64)
		mem += r["mem"].(float64)
		disk += r["disk"].(float64)
	}
	used := resources(cpus, mem, disk, "")
	return map[string]any{
		"id": s.frameworkID, "name": "marathon", "pid": "scheduler-" + s.frameworkID + "@" + s.hostPort(), "hostname": s.hostPort(),
		"user": "root", "role": "*", "roles": []string{"*"}, "active": true, "connected": true, "recovered": false,
		"checkpoint": true, "failover_timeout": 604800.0, "registered_time": float64(s.start.Unix()),
		"webui_url": s.o.URL(), "tasks": tasks, "unreachable_tasks": []any{}, "completed_tasks": []any{},
		"offers": []any{}, "executors": []any{}, "resources": used, "used_resources": used, "offered_resources": resources(0, 0, 0, ""),
		"capabilities": []string{"PARTITION_AWARE"},
	}
}

// masterState is GET /master/state (and its aliases).
func (s *Server) masterState(w http.ResponseWriter, r *http.Request) error {
	slaves := s.slaves()
	active := 0
	for _, sl := range slaves {
		if sl["active"].(bool) {
			active++
		}
	}
	hp := s.hostPort()
	writeJSON(w, http.StatusOK, map[string]any{
		"version": MesosVersion, "git_sha": "", "git_tag": MesosVersion, "build_date": "2020-11-24 12:00:00", "build_user": "stratus",
		"start_time": float64(s.start.UnixNano()) / 1e9, "elected_time": float64(s.start.UnixNano()) / 1e9,
		"id": s.frameworkID[:max(len(s.frameworkID)-5, 0)], "pid": s.masterPID(), "hostname": hp, "leader": s.masterPID(),
		"leader_info":      map[string]any{"id": s.frameworkID, "pid": s.masterPID(), "hostname": hp, "port": portOf(hp)},
		"activated_slaves": active, "deactivated_slaves": len(slaves) - active, "unreachable_slaves": 0,
		"cluster": "stratus", "log_dir": "", "flags": map[string]string{"cluster": "stratus", "port": strconv.Itoa(portOf(hp)), "quorum": "1"},
		"slaves": slaves, "frameworks": []any{s.framework()}, "completed_frameworks": []any{}, "orphan_tasks": []any{},
		"unregistered_frameworks": []any{},
	})
	return nil
}

// sandboxTask finds the app and pod of a sandbox path
// (…/executors/<task id>/runs/latest[/file]).
func (s *Server) sandboxTask(p string) (*App, *corev1.Pod, string) {
	segs := strings.Split(strings.Trim(path.Clean(p), "/"), "/")
	for i := 0; i+1 < len(segs); i++ {
		if segs[i] != "executors" {
			continue
		}
		task := segs[i+1]
		file := ""
		if rest := segs[i+2:]; len(rest) >= 2 && rest[0] == "runs" {
			file = strings.Join(rest[2:], "/")
		}
		prefix, _, ok := parseTaskID(task)
		if !ok {
			return nil, nil, ""
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, a := range s.apps() {
			if taskPrefix(a.ID) == prefix {
				return a, s.podOfTask(a, task), file
			}
		}
	}
	return nil, nil, ""
}

// filesBrowse is GET /files/browse?path=<sandbox>: its stdout and stderr.
func (s *Server) filesBrowse(w http.ResponseWriter, r *http.Request) error {
	p := r.URL.Query().Get("path")
	a, pod, _ := s.sandboxTask(p)
	if a == nil || pod == nil {
		w.WriteHeader(http.StatusNotFound)
		return nil
	}
	logs, _ := s.podLogs(r, pod)
	dir := strings.TrimSuffix(path.Clean(p), "/")
	mtime := float64(pod.CreationTimestamp.Unix())
	entry := func(name string, size int) map[string]any {
		return map[string]any{"path": dir + "/" + name, "nlink": 1, "size": size, "mode": "-rw-r--r--", "uid": "root", "gid": "root", "mtime": mtime}
	}
	writeJSON(w, http.StatusOK, []any{entry("stderr", 0), entry("stdout", len(logs))})
	return nil
}

// podLogs reads a pod's log through the Kubernetes API (the agents serve it).
func (s *Server) podLogs(r *http.Request, p *corev1.Pod) ([]byte, error) {
	return s.kc.CoreV1().Pods(Namespace).GetLogs(p.Name, &corev1.PodLogOptions{}).DoRaw(r.Context())
}

// filesRead is GET /files/read?path=…/stdout&offset=&length=: a window of
// the task's output as {"data","offset"}; offset -1 asks for the size.
func (s *Server) filesRead(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	a, pod, file := s.sandboxTask(q.Get("path"))
	if a == nil || pod == nil || (file != "stdout" && file != "stderr") {
		w.WriteHeader(http.StatusNotFound)
		return nil
	}
	offset, err := strconv.ParseInt(q.Get("offset"), 10, 64)
	if q.Get("offset") != "" && err != nil {
		return errBadRequest("Failed to parse offset: " + q.Get("offset"))
	}
	if q.Get("offset") == "" {
		offset = 0
	}
	length := int64(-1)
	if l := q.Get("length"); l != "" {
		if length, err = strconv.ParseInt(l, 10, 64); err != nil || length < -1 {
			return errBadRequest("Failed to parse length: " + l)
		}
	}
	var data []byte
	if file == "stdout" {
		data, err = s.podLogs(r, pod)
		if err != nil {
			data = nil
		}
	}
	size := int64(len(data))
	if offset == -1 {
		writeJSON(w, http.StatusOK, map[string]any{"data": "", "offset": size})
		return nil
	}
	if offset < 0 {
		return errBadRequest("Negative offset provided: " + q.Get("offset"))
	}
	offset = min(offset, size)
	end := size
	if length >= 0 {
		end = min(offset+length, size)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": string(bytes.ToValidUTF8(data[offset:end], []byte("\uFFFD"))), "offset": offset})
	return nil
}
