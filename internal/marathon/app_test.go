package marathon

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestCanonicalID(t *testing.T) {
	for _, tc := range []struct {
		id, base, want string
		ok             bool
	}{
		{"/g/worker", "/", "/g/worker", true},
		{"worker", "/g", "/g/worker", true},
		{"../x", "/g/h", "/g/x", true},
		{"/g/worker/", "/", "/g/worker", true},
		{"./a", "/b", "/b/a", true},
		{"/a.b/c-d", "/", "/a.b/c-d", true},
		{"/Upper", "/", "", false},
		{"/a_b", "/", "", false},
		{"/-a", "/", "", false},
		{"/a-", "/", "", false},
		{"..", "/", "", false},
		{"", "/", "", false},
		{"/a..b", "/", "", false},
	} {
		got, ok := canonicalID(tc.id, tc.base)
		if got != tc.want || ok != tc.ok {
			t.Errorf("canonicalID(%q, %q) = %q, %v; want %q, %v", tc.id, tc.base, got, ok, tc.want, tc.ok)
		}
	}
}

func TestTaskIDRoundTrip(t *testing.T) {
	for _, tc := range []struct{ app, uid string }{
		{"/g/worker", "8a5ae0e3-ddaa-427f-9569-6e6b630e0372"},
		{"/a.b", "u1"},
	} {
		id := taskID(tc.app, tc.uid)
		prefix, uid, ok := parseTaskID(id)
		if !ok || prefix != taskPrefix(tc.app) || uid != tc.uid {
			t.Errorf("parseTaskID(%q) = %q, %q, %v", id, prefix, uid, ok)
		}
	}
	if _, _, ok := parseTaskID("no-instance"); ok {
		t.Error("parseTaskID accepted an id without .instance-")
	}
}

// TestDecodeErrors: bad definitions get Marathon's status, message and
// paths.
func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		path, err  string
	}{
		{"not json", `{"id":`, http.StatusBadRequest, "/", ""},
		{"not an object", `[1]`, http.StatusBadRequest, "/", "error.expected.jsobject"},
		{"id a number", `{"id":1,"cmd":"x"}`, http.StatusBadRequest, "/id", "error.expected.jsstring"},
		{"instances a string", `{"id":"/a","cmd":"x","instances":"2"}`, http.StatusBadRequest, "/instances", "error.expected.jsnumber"},
		{"nested type", `{"id":"/a","container":{"docker":{"image":5}}}`, http.StatusBadRequest, "/container/docker/image", "error.expected.jsstring"},
		{"negative instances", `{"id":"/a","cmd":"x","instances":-1}`, http.StatusUnprocessableEntity, "/instances", "got -1, expected 0 or more"},
		{"bad id", `{"id":"/A","cmd":"x"}`, http.StatusUnprocessableEntity, "/id", errIDPattern},
		{"no cmd", `{"id":"/a"}`, http.StatusUnprocessableEntity, "/", "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."},
		{"cmd and args", `{"id":"/a","cmd":"x","args":["y"]}`, http.StatusUnprocessableEntity, "/", "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."},
		{"empty image", `{"id":"/a","container":{"type":"DOCKER","docker":{"image":""}}}`, http.StatusUnprocessableEntity, "/container/docker/image", "must not be empty"},
		{"bad constraint", `{"id":"/a","cmd":"x","constraints":[["hostname","NEAR"]]}`, http.StatusUnprocessableEntity, "/constraints(0)", ""},
		{"bad upgrade", `{"id":"/a","cmd":"x","upgradeStrategy":{"minimumHealthCapacity":2}}`, http.StatusUnprocessableEntity, "/upgradeStrategy/minimumHealthCapacity", ""},
		{"mappings on host", `{"id":"/a","container":{"docker":{"image":"i","network":"HOST","portMappings":[{"containerPort":80}]}}}`, http.StatusUnprocessableEntity, "/container/docker/portMappings", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj, err := decodeObject([]byte(tc.body))
			if err == nil {
				_, err = parseApp(obj, "/", "")
			}
			ae, ok := err.(*apiError)
			if !ok {
				t.Fatalf("err = %v, want an API error", err)
			}
			if ae.Status != tc.status || len(ae.Details) == 0 || ae.Details[0].Path != tc.path {
				t.Fatalf("got %d %+v, want %d at %s", ae.Status, ae.Details, tc.status, tc.path)
			}
			if tc.err != "" && ae.Details[0].Errors[0] != tc.err {
				t.Fatalf("error %q, want %q", ae.Details[0].Errors[0], tc.err)
			}
			want := map[int]string{400: "Invalid JSON", 422: "Object is not valid"}[tc.status]
			b, _ := json.Marshal(ae)
			if !strings.Contains(string(b), `"message":"`+want+`"`) {
				t.Fatalf("body %s lacks message %q", b, want)
			}
		})
	}
}

// TestDecodeDefaults: what is not posted has Marathon's defaults; old
// and new places of port mappings both work.
func TestDecodeDefaults(t *testing.T) {
	obj, err := decodeObject([]byte(`{"id":"web","container":{"docker":{"image":"nginx","network":"BRIDGE","portMappings":[{"containerPort":80}]}},"ports":null,"dependencies":null}`))
	if err != nil {
		t.Fatal(err)
	}
	a, err := parseApp(obj, "/", "")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "/web" || a.Instances != 1 || a.Cpus != 1 || a.Mem != 128 || a.BackoffFactor != 1.15 ||
		a.UpgradeStrategy.MinimumHealthCapacity != 1 || a.Container.Type != "DOCKER" {
		t.Fatalf("defaults: %+v", a)
	}
	if len(a.Container.PortMappings) != 1 || a.Container.PortMappings[0].Protocol != "tcp" || len(a.PortDefinitions) != 0 {
		t.Fatalf("port mappings: %+v %+v", a.Container.PortMappings, a.PortDefinitions)
	}
	used := map[int]bool{PortRangeMin: true}
	next := PortRangeMin
	if err := a.assignPorts(used, &next); err != nil {
		t.Fatal(err)
	}
	// hostPort 0 stays 0 (each task gets its own); the service port is
	// the app's.
	if pm := a.Container.Docker.PortMappings[0]; pm.HostPort != 0 || pm.ServicePort != PortRangeMin+1 {
		t.Fatalf("assigned %+v", pm)
	}
}

func TestStrategy(t *testing.T) {
	for _, tc := range []struct {
		u              UpgradeStrategy
		recreate       bool
		unavail, surge string
	}{
		{UpgradeStrategy{1, 1}, false, "0%", "100%"},
		{UpgradeStrategy{0.5, 0.2}, false, "50%", "20%"},
		{UpgradeStrategy{0, 0}, true, "", ""},
		{UpgradeStrategy{1, 0}, false, "0%", "1"},
	} {
		s := strategy(tc.u)
		if tc.recreate {
			if s.RollingUpdate != nil {
				t.Errorf("%+v: want Recreate, got %+v", tc.u, s)
			}
			continue
		}
		if s.RollingUpdate.MaxUnavailable.String() != tc.unavail || s.RollingUpdate.MaxSurge.String() != tc.surge {
			t.Errorf("%+v: got %s/%s", tc.u, s.RollingUpdate.MaxUnavailable, s.RollingUpdate.MaxSurge)
		}
	}
}

func noNodes(string) []string { return nil }

// TestConstraintValidation: each malformed constraint gets Marathon's
// message at its path; well-formed ones pass.
func TestConstraintValidation(t *testing.T) {
	tests := []struct {
		c    []string
		want string
	}{
		{[]string{"hostname", "UNIQUE"}, ""},
		{[]string{"hostname", "UNIQUE", "x"}, "Value specified but not used"},
		{[]string{"rack"}, "Each constraint must have either 2 or 3 fields"},
		{[]string{"rack", "CLUSTER", "a", "b"}, "Each constraint must have either 2 or 3 fields"},
		{[]string{"rack", "CLUSTER"}, "Missing value"},
		{[]string{"rack", "CLUSTER", "r1"}, ""},
		{[]string{"rack", "GROUP_BY"}, ""},
		{[]string{"rack", "GROUP_BY", "3"}, ""},
		{[]string{"rack", "GROUP_BY", "three"}, "Value was specified but is not a number"},
		{[]string{"rack", "MAX_PER", "2"}, ""},
		{[]string{"rack", "MAX_PER", "two"}, "Value was not specified or is not a number"},
		{[]string{"rack", "LIKE"}, "A regular expression value must be provided"},
		{[]string{"rack", "UNLIKE", "r[12"}, "'r[12' is not a valid regular expression"},
		{[]string{"rack", "LIKE", "r[0-9]+"}, ""},
		{[]string{"rack", "unique"}, "Constraint operator must be one of the following UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER or UNLIKE"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.c, ","), func(t *testing.T) {
			obj, err := decodeObject([]byte(`{"id":"/c","cmd":"x","constraints":[["hostname","UNIQUE"],` + mustJSON(tc.c) + `]}`))
			if err != nil {
				t.Fatal(err)
			}
			_, err = parseApp(obj, "/", "")
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ae *apiError
			if !errors.As(err, &ae) || ae.Status != http.StatusUnprocessableEntity || len(ae.Details) != 1 ||
				ae.Details[0].Path != "/constraints(1)" || len(ae.Details[0].Errors) != 1 || ae.Details[0].Errors[0] != tc.want {
				t.Fatalf("got %#v, want 422 /constraints(1) %q", err, tc.want)
			}
		})
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestConstraints: each constraint becomes its scheduling rule.
func TestConstraints(t *testing.T) {
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{LabelApp: appLabel("/c")}}
	anti := func(k string) *corev1.Affinity {
		return &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{LabelSelector: sel, TopologyKey: k}}}}
	}
	nodeAff := func(rs ...corev1.NodeSelectorRequirement) *corev1.Affinity {
		return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: rs}}}}}
	}
	spread := func(k string, skew int32, minDomains *int32) []corev1.TopologySpreadConstraint {
		return []corev1.TopologySpreadConstraint{{MaxSkew: skew, TopologyKey: k, WhenUnsatisfiable: corev1.DoNotSchedule, MinDomains: minDomains, LabelSelector: sel}}
	}
	three := int32(3)
	values := func(k string) []string {
		return map[string][]string{"rack": {"r1", "r2", "s1"}, corev1.LabelHostname: {"n1", "n2"}}[k]
	}
	tests := []struct {
		c        []string
		selector map[string]string
		affinity *corev1.Affinity
		spread   []corev1.TopologySpreadConstraint
	}{
		{c: []string{"hostname", "CLUSTER", "n1"}, selector: map[string]string{corev1.LabelHostname: "n1"}},
		{c: []string{"rack", "CLUSTER", "r1"}, selector: map[string]string{"rack": "r1"}},
		{c: []string{"hostname", "UNIQUE"}, affinity: anti(corev1.LabelHostname)},
		{c: []string{"rack", "UNIQUE"}, affinity: anti("rack")},
		{c: []string{"rack", "MAX_PER", "1"}, affinity: anti("rack")},
		{c: []string{"rack", "MAX_PER", "2"}, spread: spread("rack", 2, nil)},
		{c: []string{"rack", "GROUP_BY"}, spread: spread("rack", 1, nil)},
		{c: []string{"rack", "GROUP_BY", "3"}, spread: spread("rack", 1, &three)},
		{c: []string{"rack", "LIKE", "r1|r2"}, affinity: nodeAff(corev1.NodeSelectorRequirement{Key: "rack", Operator: corev1.NodeSelectorOpIn, Values: []string{"r1", "r2"}})},
		{c: []string{"rack", "LIKE", "r[0-9]"}, affinity: nodeAff(corev1.NodeSelectorRequirement{Key: "rack", Operator: corev1.NodeSelectorOpIn, Values: []string{"r1", "r2"}})},
		{c: []string{"rack", "UNLIKE", "s.*"}, affinity: nodeAff(corev1.NodeSelectorRequirement{Key: "rack", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"s1"}})},
		{c: []string{"hostname", "UNLIKE", "x.*"}},
		{c: []string{"rack", "LIKE", "x.*"}, affinity: nodeAff(corev1.NodeSelectorRequirement{Key: "rack", Operator: corev1.NodeSelectorOpExists},
			corev1.NodeSelectorRequirement{Key: "rack", Operator: corev1.NodeSelectorOpDoesNotExist})},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.c, ","), func(t *testing.T) {
			a := newApp()
			a.ID = "/c"
			cmd := "x"
			a.Cmd = &cmd
			a.Constraints = [][]string{tc.c}
			spec := kubeDeployment(&a, []byte("{}"), values).Spec.Template.Spec
			if !equality.Semantic.DeepEqual(spec.NodeSelector, tc.selector) || !equality.Semantic.DeepEqual(spec.Affinity, tc.affinity) ||
				!equality.Semantic.DeepEqual(spec.TopologySpreadConstraints, tc.spread) {
				t.Fatalf("selector %v, affinity %+v, spread %+v", spec.NodeSelector, spec.Affinity, spec.TopologySpreadConstraints)
			}
		})
	}
}

// FuzzDecodeApp: any body either decodes into an app that validates and
// survives a JSON round trip, or is refused with a 400 or 422; it never
// panics.
func FuzzDecodeApp(f *testing.F) {
	for _, s := range []string{
		`{"id":"/a","cmd":"sleep 1"}`,
		`{"id":"web","container":{"docker":{"image":"nginx","network":"BRIDGE","portMappings":[{"containerPort":80,"hostPort":0}]}}}`,
		`{"id":"/g/w","args":["x"],"healthChecks":[{"protocol":"TCP"}],"constraints":[["hostname","UNIQUE"]],"ports":[0,0]}`,
		`{"id":"/c","cmd":"x","constraints":[["rack","LIKE","r[0-9]+"],["rack","GROUP_BY","3"],["hostname","MAX_PER","2"],["z","UNLIKE","("]]}`,
		`{"id":"/h","cmd":"x","healthChecks":[{"protocol":"COMMAND","command":{"value":"true"}},{"protocol":"HTTP","portIndex":3}],"upgradeStrategy":{"minimumHealthCapacity":2}}`,
		`{"id":1}`, `[]`, `null`, `{"id":"/a","instances":-3}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		obj, err := decodeObject(body)
		if err == nil {
			var a *App
			a, err = parseApp(obj, "/", "")
			if err == nil {
				b, merr := json.Marshal(a)
				if merr != nil {
					t.Fatalf("marshal: %v", merr)
				}
				back := newApp()
				if uerr := json.Unmarshal(b, &back); uerr != nil {
					t.Fatalf("round trip of %s: %v", b, uerr)
				}
				if back.ID != a.ID {
					t.Fatalf("id %q became %q", a.ID, back.ID)
				}
				kubeDeployment(a, b, func(string) []string { return []string{"r1", "n-1", ""} })
				return
			}
		}
		ae, ok := err.(*apiError)
		if !ok || (ae.Status != http.StatusBadRequest && ae.Status != http.StatusUnprocessableEntity) {
			t.Fatalf("body %q: error %v", body, err)
		}
	})
}

// FuzzCanonicalID: a canonical id is absolute, valid, stable and maps to
// a Kubernetes name and a task prefix that round-trip.
func FuzzCanonicalID(f *testing.F) {
	for _, s := range []string{"/g/worker", "a/../b", "../../x", "/a.b/c", "//x//y/", "A"} {
		f.Add(s, "/g")
	}
	f.Fuzz(func(t *testing.T, id, base string) {
		if cb, ok := canonicalID(base, "/"); ok {
			base = cb
		} else {
			base = "/"
		}
		c, ok := canonicalID(id, base)
		if !ok {
			return
		}
		if !strings.HasPrefix(c, "/") || strings.Contains(c, "//") || (len(c) > 1 && strings.HasSuffix(c, "/")) {
			t.Fatalf("canonicalID(%q, %q) = %q", id, base, c)
		}
		if again, ok := canonicalID(c, "/"); !ok || again != c {
			t.Fatalf("not stable: %q → %q", c, again)
		}
		if c == "/" {
			return
		}
		prefix, uid, ok := parseTaskID(taskID(c, "uid-1"))
		if !ok || prefix != taskPrefix(c) || uid != "uid-1" {
			t.Fatalf("task id of %q: %q %q %v", c, prefix, uid, ok)
		}
		if !inGroup(c, parentID(c)) {
			t.Fatalf("%q not in its parent %q", c, parentID(c))
		}
	})
}

// TestHealthChecks: a health check becomes a readiness probe (healthy or
// unhealthy at once) and a liveness probe that waits out the grace period
// and kills after maxConsecutiveFailures (never when it is 0), aimed at the
// port the check names.
func TestHealthChecks(t *testing.T) {
	tests := []struct {
		name      string
		app       string
		readiness corev1.ProbeHandler
		liveness  *corev1.Probe // handler left out: the readiness one
	}{
		{name: "http on a port mapping",
			app:       `{"id":"/h","container":{"docker":{"image":"nginx","network":"BRIDGE","portMappings":[{"containerPort":80}]}},"healthChecks":[{"protocol":"HTTP","path":"/health","gracePeriodSeconds":30,"intervalSeconds":5,"timeoutSeconds":2,"maxConsecutiveFailures":4}]}`,
			readiness: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/health", Port: intstr.FromInt(80), Scheme: corev1.URISchemeHTTP}},
			liveness:  &corev1.Probe{InitialDelaySeconds: 30, PeriodSeconds: 5, TimeoutSeconds: 2, SuccessThreshold: 1, FailureThreshold: 4}},
		{name: "tcp on a port definition, defaults",
			app:       `{"id":"/h","cmd":"x","portDefinitions":[{"port":10500}],"requirePorts":true,"healthChecks":[{"protocol":"TCP"}]}`,
			readiness: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt(10500)}},
			liveness:  &corev1.Probe{InitialDelaySeconds: 300, PeriodSeconds: 60, TimeoutSeconds: 20, SuccessThreshold: 1, FailureThreshold: 3}},
		{name: "command, never killed",
			app:       `{"id":"/h","cmd":"x","healthChecks":[{"protocol":"COMMAND","command":{"value":"test -f /ok"},"maxConsecutiveFailures":0}]}`,
			readiness: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"/bin/sh", "-c", "test -f /ok"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj, err := decodeObject([]byte(tc.app))
			if err != nil {
				t.Fatal(err)
			}
			a, err := parseApp(obj, "/", "")
			if err != nil {
				t.Fatal(err)
			}
			c := kubeDeployment(a, []byte("{}"), noNodes).Spec.Template.Spec.Containers[0]
			if c.ReadinessProbe == nil || !equality.Semantic.DeepEqual(c.ReadinessProbe.ProbeHandler, tc.readiness) || c.ReadinessProbe.FailureThreshold != 1 {
				t.Fatalf("readiness %+v", c.ReadinessProbe)
			}
			if tc.liveness == nil {
				if c.LivenessProbe != nil {
					t.Fatalf("liveness %+v, want none", c.LivenessProbe)
				}
				return
			}
			want := *tc.liveness
			want.ProbeHandler = tc.readiness
			if !equality.Semantic.DeepEqual(c.LivenessProbe, &want) {
				t.Fatalf("liveness %+v, want %+v", c.LivenessProbe, &want)
			}
		})
	}
	obj, _ := decodeObject([]byte(`{"id":"/h","cmd":"x","healthChecks":[{"protocol":"TCP","maxConsecutiveFailures":-1}]}`))
	if _, err := parseApp(obj, "/", ""); err == nil || !strings.Contains(mustJSON(err), `"/healthChecks(0)/maxConsecutiveFailures"`) {
		t.Fatalf("negative maxConsecutiveFailures: %v", err)
	}
}
