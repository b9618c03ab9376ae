package marathon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
)

// maxBody bounds a request body.
const maxBody = 8 << 20

// handlerFunc is a Marathon handler; a returned error is rendered by
// writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) wrap(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, s.log, err)
		}
	}
}

// routes mounts the /v2 API.
func (s *Server) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v2/apps", s.wrap(s.listApps))
	mux.HandleFunc("POST /v2/apps", s.wrap(s.createApp))
	mux.HandleFunc("PUT /v2/apps", s.wrap(s.bulkUpdate))
	mux.HandleFunc("PATCH /v2/apps", s.wrap(s.bulkUpdate))
	mux.HandleFunc("/v2/apps/{rest...}", s.wrap(s.appRoute))
	mux.HandleFunc("GET /v2/tasks", s.wrap(s.listTasks))
	mux.HandleFunc("POST /v2/tasks/delete", s.wrap(s.deleteTasks))
	mux.HandleFunc("GET /v2/deployments", s.wrap(s.listDeployments))
	mux.HandleFunc("DELETE /v2/deployments/{id}", s.wrap(s.deleteDeployment))
	mux.HandleFunc("/v2/groups", s.wrap(s.groupRoute))
	mux.HandleFunc("/v2/groups/{rest...}", s.wrap(s.groupRoute))
	mux.HandleFunc("GET /v2/queue", s.wrap(s.queue))
	mux.HandleFunc("DELETE /v2/queue/{rest...}", s.wrap(s.resetDelay))
	mux.HandleFunc("GET /v2/info", s.wrap(s.info))
	mux.HandleFunc("GET /v2/leader", s.wrap(s.leader))
	mux.HandleFunc("DELETE /v2/leader", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"message": "Leadership abdicated"})
	})
	mux.HandleFunc("GET /v2/events", s.serveEvents)
	mux.HandleFunc("GET /v2/eventSubscriptions", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string][]string{"callbackUrls": {}})
	})
	mux.HandleFunc("GET /v2/plugins", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string][]any{"plugins": {}})
	})
	mux.HandleFunc("/v2/", s.wrap(func(w http.ResponseWriter, r *http.Request) error {
		return errNotFound("The requested resource could not be found but may be available again in the future.")
	}))
}

func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, errBadRequest(err.Error())
	}
	if len(b) > maxBody {
		return nil, &apiError{Status: http.StatusRequestEntityTooLarge, Message: "Request body too large"}
	}
	return b, nil
}

func boolParam(q url.Values, name string) bool {
	v, _ := strconv.ParseBool(q.Get(name))
	return v
}

// appView is an app with the status Marathon adds to it.
type appView struct {
	*App
	TasksStaged     int                 `json:"tasksStaged"`
	TasksRunning    int                 `json:"tasksRunning"`
	TasksHealthy    int                 `json:"tasksHealthy"`
	TasksUnhealthy  int                 `json:"tasksUnhealthy"`
	Deployments     []map[string]string `json:"deployments"`
	Tasks           []Task              `json:"tasks,omitempty"`
	LastTaskFailure *json.RawMessage    `json:"lastTaskFailure,omitempty"`
}

// view adds status to an app; with tasks, its tasks too (s.mu held).
func (s *Server) view(a *App, tasks bool) appView {
	v := appView{App: a, Deployments: s.deploymentsOf(a.ID)}
	if !tasks && len(a.HealthChecks) == 0 {
		// Counts alone: kept as the pods change (taskStates).
		c := s.tasks.countsOf(appLabel(a.ID))
		v.TasksRunning, v.TasksStaged = c.running, c.staged
		return v
	}
	at := newAppTasks(a)
	pods := s.appPods
	if tasks {
		pods = s.podsOf
	}
	for _, p := range pods(a.ID) {
		st := taskState(p)
		switch st {
		case TaskRunning:
			v.TasksRunning++
			if len(a.HealthChecks) > 0 {
				// a task without a result yet is neither, as in Marathon
				if alive, ok := healthy(s.healthResults(a, p)); ok && alive {
					v.TasksHealthy++
				} else if ok {
					v.TasksUnhealthy++
				}
			}
		case TaskStaging, TaskStarting:
			v.TasksStaged++
		}
		if tasks && st != TaskFinished && st != TaskFailed {
			v.Tasks = append(v.Tasks, s.task(at, p, true))
		}
	}
	if tasks && v.Tasks == nil {
		v.Tasks = []Task{}
	}
	return v
}

func embeds(q url.Values, what string) bool {
	for _, e := range q["embed"] {
		if e == "apps."+what || e == "app."+what || e == "group.apps."+what {
			return true
		}
	}
	return false
}

// listApps is GET /v2/apps with the cmd, id and label filters.
func (s *Server) listApps(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var sel labels.Selector
	if l := q.Get("label"); l != "" {
		var err error
		if sel, err = labels.Parse(l); err != nil {
			return errBadRequest("Invalid label selector: " + l)
		}
	}
	cmd, id := q.Get("cmd"), strings.ToLower(q.Get("id"))
	tasks := embeds(q, "tasks") || embeds(q, "failures")
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []appView{}
	for _, a := range s.apps() {
		if cmd != "" && (a.Cmd == nil || !strings.Contains(*a.Cmd, cmd)) {
			continue
		}
		if id != "" && !strings.Contains(a.ID, id) {
			continue
		}
		if sel != nil && !sel.Matches(labels.Set(a.Labels)) {
			continue
		}
		out = append(out, s.view(a, tasks))
	}
	writeJSON(w, http.StatusOK, map[string]any{"apps": out})
	return nil
}

// appRoute splits /v2/apps/{id}[/tasks[/{task}]|/versions[/{v}]|/restart].
func (s *Server) appRoute(w http.ResponseWriter, r *http.Request) error {
	rest := "/" + r.PathValue("rest")
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	n := len(segs)
	switch {
	case n >= 2 && segs[n-1] == "tasks":
		return s.appTasks(w, r, "/"+strings.Join(segs[:n-1], "/"))
	case n >= 3 && segs[n-2] == "tasks":
		return s.appTask(w, r, "/"+strings.Join(segs[:n-2], "/"), segs[n-1])
	case n >= 2 && segs[n-1] == "versions" && r.Method == http.MethodGet:
		return s.appVersions(w, r, "/"+strings.Join(segs[:n-1], "/"), "")
	case n >= 3 && segs[n-2] == "versions" && r.Method == http.MethodGet:
		return s.appVersions(w, r, "/"+strings.Join(segs[:n-2], "/"), segs[n-1])
	case n >= 2 && segs[n-1] == "restart" && r.Method == http.MethodPost:
		return s.restartApp(w, r, "/"+strings.Join(segs[:n-1], "/"))
	}
	id, ok := canonicalID(rest, "/")
	if !ok {
		return errNotValid(Detail{Path: "/id", Errors: []string{errIDPattern}})
	}
	switch r.Method {
	case http.MethodGet:
		s.mu.Lock()
		defer s.mu.Unlock()
		a := s.app(id)
		if a == nil {
			return errAppNotFound(id)
		}
		writeJSON(w, http.StatusOK, map[string]any{"app": s.view(a, true)})
		return nil
	case http.MethodPut, http.MethodPatch:
		return s.updateApp(w, r, id)
	case http.MethodDelete:
		return s.deleteApp(w, r, id)
	}
	w.Header().Set("Allow", "GET, PUT, PATCH, DELETE")
	return &apiError{Status: http.StatusMethodNotAllowed, Message: "HTTP method not allowed, supported methods: GET, PUT, PATCH, DELETE"}
}

// parseApp decodes and checks a full app definition; base resolves a
// relative id.
func parseApp(obj map[string]json.RawMessage, base, prefix string) (*App, error) {
	a, err := decodeApp(obj, newApp(), prefix)
	if err != nil {
		return nil, err
	}
	return &a, checkApp(&a, base, prefix)
}

// checkApp resolves the app's id and dependencies and validates it.
func checkApp(a *App, base, prefix string) error {
	if a.ID != "" {
		id, ok := canonicalID(a.ID, base)
		if !ok {
			return errNotValid(Detail{Path: prefix + "/id", Errors: []string{errIDPattern}})
		}
		a.ID = id
	}
	if ds := a.validate(); len(ds) > 0 {
		for i := range ds {
			ds[i].Path = prefix + ds[i].Path
		}
		return errNotValid(ds...)
	}
	for i, d := range a.Dependencies {
		a.Dependencies[i], _ = canonicalID(d, parentID(a.ID))
	}
	return nil
}

// createApp is POST /v2/apps.
func (s *Server) createApp(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	obj, err := decodeObject(body)
	if err != nil {
		return err
	}
	a, err := parseApp(obj, "/", "")
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.app(a.ID) != nil {
		return errAppExists(a.ID)
	}
	d, err := s.deploy(r, []change{{new: a}}, false)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v2/apps"+a.ID)
	w.Header().Set("Marathon-Deployment-Id", d.ID)
	v := s.view(a, true)
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// change is one app's part of a deployment: old → new (nil old: create;
// nil new: delete).
type change struct {
	old, new *App
	action   string
	// kill names the pods to go first when the change scales down.
	kill []string
}

// deploy applies changes as one deployment, in dependency order (s.mu
// held): apps another app of the deployment depends on first, then that
// one, each step once the one before has finished; the first step now.
func (s *Server) deploy(r *http.Request, changes []change, force bool) (*deployment, error) {
	ctx := r.Context()
	ids := make([]string, 0, len(changes))
	for _, c := range changes {
		if c.new != nil {
			ids = append(ids, c.new.ID)
		} else {
			ids = append(ids, c.old.ID)
		}
	}
	if err := s.checkLock(ctx, force, ids...); err != nil {
		return nil, err
	}
	version := s.newVersion()
	// Ports: what every other app holds is taken.
	used := map[int]bool{}
	for _, a := range s.apps() {
		a.portsOf(used)
	}
	for i := range changes {
		c := &changes[i]
		if c.new == nil {
			c.action = actionStop
			continue
		}
		if err := c.new.assignPorts(used, &s.nextPort); err != nil {
			return nil, &apiError{Status: http.StatusUnprocessableEntity, Message: err.Error()}
		}
		c.new.Version = version
		switch {
		case c.old == nil:
			c.action = actionStart
			c.new.VersionInfo = &VersionInfo{LastScalingAt: version, LastConfigChangeAt: version}
		case c.action == actionRestart:
			c.new.VersionInfo = &VersionInfo{LastScalingAt: version, LastConfigChangeAt: version}
		case onlyScaled(c.old, c.new):
			c.action = actionScale
			c.new.VersionInfo = &VersionInfo{LastScalingAt: version, LastConfigChangeAt: c.old.configVersion()}
		default:
			c.action = actionRestart
			c.new.VersionInfo = &VersionInfo{LastScalingAt: version, LastConfigChangeAt: version}
		}
	}
	d := &deployment{ID: newUUID(), Version: version}
	for _, level := range dependencyLevels(changes) {
		st := step{changes: level}
		for _, c := range level {
			st.Actions = append(st.Actions, action{Action: c.action, App: c.appID()})
		}
		d.Steps = append(d.Steps, st)
	}
	if len(d.Steps) == 0 {
		return d, nil
	}
	// The plan is stored before anything changes, so that a restart
	// finishes what was acknowledged; a plan whose first step fails is
	// dropped again.
	d.started = time.Now()
	if err := s.persist(ctx, d); err != nil {
		return nil, err
	}
	if err := s.applyStep(ctx, d.Steps[0]); err != nil {
		s.unpersist(ctx, d)
		return nil, err
	}
	for _, c := range changes {
		if c.new != nil {
			s.events.publish("api_post_event", map[string]any{"clientIp": clientIP(r), "uri": r.URL.Path, "appDefinition": c.new})
		}
	}
	s.begin(d)
	return d, nil
}

// appID is the id of the app a change is about.
func (c change) appID() string {
	if c.new != nil {
		return c.new.ID
	}
	return c.old.ID
}

func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

// newVersion is a version later than any given before (s.mu held).
func (s *Server) newVersion() string {
	now := time.Now().UTC().Truncate(time.Millisecond)
	if !now.After(s.lastVersion) {
		now = s.lastVersion.Add(time.Millisecond)
	}
	s.lastVersion = now
	return versionTime(now)
}

// onlyScaled reports whether b differs from a in instances alone.
func onlyScaled(a, b *App) bool {
	x, y := *a, *b
	x.Instances, y.Instances = 0, 0
	x.Version, y.Version = "", ""
	x.VersionInfo, y.VersionInfo = nil, nil
	bx, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return string(bx) == string(by)
}

// dependencyLevels orders changes into steps: an app comes after the
// apps of the same deployment it depends on; stops come in reverse.
func dependencyLevels(changes []change) [][]change {
	byID := map[string]int{}
	for i, c := range changes {
		if c.new != nil {
			byID[c.new.ID] = i
		} else {
			byID[c.old.ID] = i
		}
	}
	level := make([]int, len(changes))
	var depth func(i int, seen map[int]bool) int
	depth = func(i int, seen map[int]bool) int {
		if seen[i] {
			return 0
		}
		seen[i] = true
		defer delete(seen, i)
		c := changes[i]
		if c.new == nil {
			return 0
		}
		d := 0
		for _, dep := range c.new.Dependencies {
			if j, ok := byID[dep]; ok && j != i {
				d = max(d, depth(j, seen)+1)
			}
		}
		return d
	}
	top := 0
	for i := range changes {
		level[i] = depth(i, map[int]bool{})
		top = max(top, level[i])
	}
	out := make([][]change, top+1)
	for i, c := range changes {
		out[level[i]] = append(out[level[i]], c)
	}
	var res [][]change
	for _, l := range out {
		if len(l) > 0 {
			res = append(res, l)
		}
	}
	return res
}

// apply writes one change to the Kubernetes API.
func (s *Server) apply(ctx context.Context, c change) error {
	deps := s.kc.AppsV1().Deployments(Namespace)
	if c.new == nil {
		name := kubeName(c.old.ID)
		bg := metav1.DeletePropagationBackground
		if err := deps.Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &bg}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		if obj, ok, _ := s.deps.GetStore().GetByKey(Namespace + "/" + name); ok {
			_ = s.deps.GetIndexer().Delete(obj)
		}
		if err := s.kc.CoreV1().ConfigMaps(Namespace).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			s.log.Warn("marathon: delete versions", "app", c.old.ID, "err", err)
		}
		return nil
	}
	a := c.new
	appJSON, err := json.Marshal(a)
	if err != nil {
		return err
	}
	want := kubeDeployment(a, appJSON, s.nodeValues)
	// The pods to kill go first when the replica set scales down.
	for _, name := range c.kill {
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:"-2147483648"}}}`, deletionCost)
		if _, err := s.kc.CoreV1().Pods(Namespace).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	var got *appsv1.Deployment
	if c.old == nil {
		got, err = deps.Create(ctx, want, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			// A step applied again after a restart finds its own app.
			cur, gerr := deps.Get(ctx, want.Name, metav1.GetOptions{})
			if gerr != nil || cur.Annotations[annotationApp] != want.Annotations[annotationApp] {
				return errAppExists(a.ID)
			}
			got, err = cur, nil
		}
	} else {
		err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur, err := deps.Get(ctx, want.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			cur.Labels, cur.Annotations = want.Labels, want.Annotations
			template := want.Spec.Template
			if c.action == actionScale {
				template = cur.Spec.Template // a scale leaves the tasks alone
			}
			cur.Spec = want.Spec
			cur.Spec.Template = template
			got, err = deps.Update(ctx, cur, metav1.UpdateOptions{})
			return err
		})
	}
	if err != nil {
		return err
	}
	observe(s.deps, got)
	s.saveVersion(ctx, got, a.Version, appJSON)
	return nil
}

// maxVersions bounds the versions kept per app.
const maxVersions = 50

// versionKey turns a version into a ConfigMap key (no colons there).
func versionKey(v string) string { return strings.ReplaceAll(v, ":", "_") }

func keyVersion(k string) string { return strings.ReplaceAll(k, "_", ":") }

// saveVersion adds a version to the app's ConfigMap, owned by its
// Deployment so it goes with it.
func (s *Server) saveVersion(ctx context.Context, owner *appsv1.Deployment, version string, appJSON []byte) {
	cms := s.kc.CoreV1().ConfigMaps(Namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm, err := cms.Get(ctx, owner.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: owner.Name, Namespace: Namespace,
				Labels:          map[string]string{LabelApp: owner.Labels[LabelApp], managedBy: "marathon"},
				Annotations:     map[string]string{annotationID: owner.Annotations[annotationID]},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: owner.Name, UID: owner.UID}}},
				Data: map[string]string{versionKey(version): string(appJSON)}}
			_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
			return err
		}
		if err != nil {
			return err
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data[versionKey(version)] = string(appJSON)
		if len(cm.Data) > maxVersions {
			keys := sortedKeys(cm.Data)
			for _, k := range keys[:len(keys)-maxVersions] {
				delete(cm.Data, k)
			}
		}
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		s.log.Warn("marathon: keep version", "app", owner.Annotations[annotationID], "err", err)
	}
}

// versions returns an app's versions, newest first, with their JSON.
func (s *Server) versions(ctx context.Context, id string) ([]string, map[string]string, error) {
	cm, err := s.kc.CoreV1().ConfigMaps(Namespace).Get(ctx, kubeName(id), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	byVersion := map[string]string{}
	var vs []string
	for k, v := range cm.Data {
		byVersion[keyVersion(k)] = v
		vs = append(vs, keyVersion(k))
	}
	sort.Sort(sort.Reverse(sort.StringSlice(vs)))
	return vs, byVersion, nil
}

// appVersions is GET /v2/apps/{id}/versions[/{version}].
func (s *Server) appVersions(w http.ResponseWriter, r *http.Request, rawID, version string) error {
	id, ok := canonicalID(rawID, "/")
	if !ok || s.app(id) == nil {
		return errAppNotFound(rawID)
	}
	vs, byVersion, err := s.versions(r.Context(), id)
	if err != nil {
		return err
	}
	if version == "" {
		if vs == nil {
			vs = []string{}
		}
		writeJSON(w, http.StatusOK, map[string][]string{"versions": vs})
		return nil
	}
	raw, ok := byVersion[version]
	if !ok {
		return errNotFound("App '" + id + "' does not exist in version " + version)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(raw))
	return nil
}

// updateApp is PUT and PATCH /v2/apps/{id}: a partial update of an
// existing app (or the creation of a new one), or with only "version" a
// return to that version.
func (s *Server) updateApp(w http.ResponseWriter, r *http.Request, id string) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	obj, err := decodeObject(body)
	if err != nil {
		return err
	}
	force := boolParam(r.URL.Query(), "force")
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.app(id)
	next, err := s.updated(r.Context(), old, id, obj)
	if err != nil {
		return err
	}
	d, err := s.deploy(r, []change{{old: old, new: next}}, force)
	if err != nil {
		return err
	}
	w.Header().Set("Marathon-Deployment-Id", d.ID)
	status := http.StatusOK
	if old == nil {
		status = http.StatusCreated
		w.Header().Set("Location", "/v2/apps"+id)
	}
	writeJSON(w, status, map[string]string{"deploymentId": d.ID, "version": d.Version})
	return nil
}

// updated returns the app old becomes with the fields of obj (s.mu held).
func (s *Server) updated(ctx context.Context, old *App, id string, obj map[string]json.RawMessage) (*App, error) {
	if raw, ok := obj["version"]; ok && old != nil && onlyKeys(obj, "version", "id") {
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, errInvalidJSON(Detail{Path: "/version", Errors: []string{"error.expected.jsstring"}})
		}
		_, byVersion, err := s.versions(ctx, id)
		if err != nil {
			return nil, err
		}
		prev, ok := byVersion[v]
		if !ok {
			return nil, errNotFound("App '" + id + "' does not exist in version " + v)
		}
		a := newApp()
		if err := json.Unmarshal([]byte(prev), &a); err != nil {
			return nil, err
		}
		return &a, nil
	}
	base := newApp()
	if old != nil {
		base = *old
	}
	delete(obj, "version")
	delete(obj, "versionInfo")
	a, err := decodeApp(obj, base, "")
	if err != nil {
		return nil, err
	}
	if a.ID == "" {
		a.ID = id
	}
	if err := checkApp(&a, parentID(id), ""); err != nil {
		return nil, err
	}
	if a.ID != id {
		return nil, errBadRequest("The attribute id in the request body must match the app id in the path")
	}
	return &a, nil
}

func onlyKeys(obj map[string]json.RawMessage, keys ...string) bool {
	for k := range obj {
		found := false
		for _, want := range keys {
			found = found || k == want
		}
		if !found {
			return false
		}
	}
	return true
}

// bulkUpdate is PUT and PATCH /v2/apps: a list of partial updates (or
// creations) deployed together.
func (s *Server) bulkUpdate(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var objs []map[string]json.RawMessage
	if err := json.Unmarshal(body, &objs); err != nil {
		return invalidJSON(err, "")
	}
	force := boolParam(r.URL.Query(), "force")
	s.mu.Lock()
	defer s.mu.Unlock()
	var changes []change
	seen := map[string]bool{}
	for i, obj := range objs {
		var id string
		if raw, ok := obj["id"]; !ok || json.Unmarshal(raw, &id) != nil {
			return errNotValid(Detail{Path: fmt.Sprintf("(%d)/id", i), Errors: []string{"error.path.missing"}})
		}
		cid, ok := canonicalID(id, "/")
		if !ok {
			return errNotValid(Detail{Path: fmt.Sprintf("(%d)/id", i), Errors: []string{errIDPattern}})
		}
		if seen[cid] {
			return errNotValid(Detail{Path: "/", Errors: []string{"Update must not contain duplicate app ids: " + cid}})
		}
		seen[cid] = true
		old := s.app(cid)
		obj["id"], _ = json.Marshal(cid)
		next, err := s.updated(r.Context(), old, cid, obj)
		if err != nil {
			var ae *apiError
			if errors.As(err, &ae) {
				for j := range ae.Details {
					ae.Details[j].Path = fmt.Sprintf("(%d)%s", i, ae.Details[j].Path)
				}
			}
			return err
		}
		changes = append(changes, change{old: old, new: next})
	}
	d, err := s.deploy(r, changes, force)
	if err != nil {
		return err
	}
	w.Header().Set("Marathon-Deployment-Id", d.ID)
	writeJSON(w, http.StatusOK, map[string]string{"deploymentId": d.ID, "version": d.Version})
	return nil
}

// deleteApp is DELETE /v2/apps/{id}.
func (s *Server) deleteApp(w http.ResponseWriter, r *http.Request, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.app(id)
	if old == nil {
		return errAppNotFound(id)
	}
	d, err := s.deploy(r, []change{{old: old}}, boolParam(r.URL.Query(), "force"))
	if err != nil {
		return err
	}
	w.Header().Set("Marathon-Deployment-Id", d.ID)
	writeJSON(w, http.StatusOK, map[string]string{"deploymentId": d.ID, "version": d.Version})
	return nil
}

// restartApp is POST /v2/apps/{id}/restart: every task replaced, within
// the upgrade strategy.
func (s *Server) restartApp(w http.ResponseWriter, r *http.Request, rawID string) error {
	id, _ := canonicalID(rawID, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.app(id)
	if old == nil {
		return errAppNotFound(rawID)
	}
	next := old.clone()
	d, err := s.deploy(r, []change{{old: old, new: &next, action: actionRestart}}, boolParam(r.URL.Query(), "force"))
	if err != nil {
		return err
	}
	w.Header().Set("Marathon-Deployment-Id", d.ID)
	writeJSON(w, http.StatusOK, map[string]string{"deploymentId": d.ID, "version": d.Version})
	return nil
}
