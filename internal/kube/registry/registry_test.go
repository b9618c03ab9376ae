package registry

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/stratus-cloud/stratus/internal/store/memory"
)

func newStorage(t *testing.T) *Storage { return newStorageB(t) }

func newStorageB(t testing.TB) *Storage {
	t.Helper()
	reg, err := New(NewCodecs())
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.New(memory.Options{})
	t.Cleanup(func() { mem.Close() })
	st := NewStorage(mem, reg)
	if _, err := st.Create(context.Background(), reg.Lookup("", "v1", "namespaces"), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestPullPolicy(t *testing.T) {
	for image, want := range map[string]corev1.PullPolicy{
		"nginx": corev1.PullAlways, "nginx:latest": corev1.PullAlways, "nginx:1.27": corev1.PullIfNotPresent,
		"localhost:5000/x": corev1.PullAlways, "localhost:5000/x:v1": corev1.PullIfNotPresent, "x@sha256:abc": corev1.PullIfNotPresent,
	} {
		if got := pullPolicy(image); got != want {
			t.Errorf("pullPolicy(%q) = %s, want %s", image, got, want)
		}
	}
}

func TestPodRow(t *testing.T) {
	now := time.Now()
	created := metav1.NewTime(now.Add(-90 * time.Second))
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	tests := []struct {
		name string
		pod  corev1.Pod
		want []interface{}
	}{
		{"pending", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", CreationTimestamp: created},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}, Status: corev1.PodStatus{Phase: corev1.PodPending}},
			[]interface{}{"p", "0/1", "Pending", "0", "90s", none, none, none, none}},
		{"running", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", CreationTimestamp: created},
			Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "a"}, {Name: "b"}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1", ContainerStatuses: []corev1.ContainerStatus{
				{Name: "a", Ready: true, State: running, RestartCount: 2}, {Name: "b", State: running}}}},
			[]interface{}{"p", "1/2", "Running", "2", "90s", "10.0.0.1", "n1", none, none}},
		{"waiting", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", CreationTimestamp: created},
			Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}},
			Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}}}}}},
			[]interface{}{"p", "0/1", "ImagePullBackOff", "0", "90s", none, none, none, none}},
		{"terminating", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", CreationTimestamp: created, DeletionTimestamp: &created},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}, Status: corev1.PodStatus{Phase: corev1.PodRunning}},
			[]interface{}{"p", "0/1", "Terminating", "0", "90s", none, none, none, none}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := podRow(&tt.pod, now)
			if len(got) != len(podColumns) {
				t.Fatalf("%d cells for %d columns", len(got), len(podColumns))
			}
			for i := range tt.want {
				if got[i] != tt.want[i] {
					t.Errorf("cell %d (%s) = %v, want %v", i, podColumns[i].Name, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestEveryResourcePrints(t *testing.T) {
	reg, err := New(NewCodecs())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reg.Resources {
		obj := r.New()
		if got := r.Row(obj, time.Now()); len(got) != len(r.Columns) {
			t.Errorf("%s: %d cells for %d columns", r.Name, len(got), len(r.Columns))
		}
	}
}

func TestServiceRow(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "s"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, ClusterIP: "127.100.0.9",
		Selector: map[string]string{"app": "x"}, Ports: []corev1.ServicePort{{Port: 80, NodePort: 30001, Protocol: "TCP"}, {Port: 53, Protocol: "UDP"}}}}
	got := serviceRow(svc, time.Now())
	want := []interface{}{"s", "NodePort", "127.100.0.9", none, "80:30001/TCP,53/UDP"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("cell %d = %v, want %v", i, got[i], want[i])
		}
	}
	if got[6] != "app=x" {
		t.Errorf("selector %v", got[6])
	}
}

func TestValidation(t *testing.T) {
	st := newStorage(t)
	ctx := context.Background()
	tests := []struct {
		res  string
		obj  runtime.Object
		want string
	}{
		{"pods", &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"}}, "spec.containers: Required value"},
		{"pods", &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "Bad_Name", Namespace: "default"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}}, "metadata.name: Invalid value"},
		{"pods", &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}, {Name: "c", Image: "i"}}}}, `spec.containers[1].name: Duplicate value: "c"`},
		{"services", &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "default"}}, "spec.ports: Required value"},
		{"services", &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "default"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80, NodePort: 30000}}}}, "spec.ports[0].nodePort: Forbidden"},
		{"configmaps", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "default"}, Data: map[string]string{"bad key": "v"}}, "data[bad key]"},
	}
	for _, tt := range tests {
		r := st.Reg.Lookup("", "v1", tt.res)
		_, err := st.Create(ctx, r, tt.obj, WriteOptions{})
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want Invalid with %q", tt.res, err, tt.want)
		}
	}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "default"}, Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "c"}}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}}}}
	_, err := st.Create(ctx, st.Reg.Lookup("apps", "v1", "deployments"), d, WriteOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "`selector` does not match template `labels`") {
		t.Errorf("deployment selector mismatch: %v", err)
	}
}

// TestValidationMessages checks the real server's texts, as kubectl prints
// them, for resources and deployment strategies.
func TestValidationMessages(t *testing.T) {
	st := newStorage(t)
	ctx := context.Background()
	pod := func(req, lim string) *corev1.Pod {
		rr := corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
		if req != "" {
			rr.Requests[corev1.ResourceCPU] = resource.MustParse(req)
		}
		if lim != "" {
			rr.Limits[corev1.ResourceCPU] = resource.MustParse(lim)
		}
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: "p-", Namespace: "default"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i", Resources: rr}}}}
	}
	withVolumes := func(vols []corev1.Volume, mounts ...corev1.VolumeMount) *corev1.Pod {
		p := pod("", "")
		p.Spec.Volumes, p.Spec.Containers[0].VolumeMounts = vols, mounts
		return p
	}
	withTolerations := func(ts ...corev1.Toleration) *corev1.Pod {
		p := pod("", "")
		p.Spec.Tolerations = ts
		return p
	}
	withEnv := func(name string) *corev1.Pod {
		p := pod("", "")
		p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: name, Value: "v"}}
		return p
	}
	svc := func(f func(*corev1.ServicePort)) *corev1.Service {
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{GenerateName: "s-", Namespace: "default"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
		f(&s.Spec.Ports[0])
		return s
	}
	dep := func(f func(*appsv1.DeploymentSpec)) *appsv1.Deployment {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{GenerateName: "d-", Namespace: "default"}, Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}}}}
		f(&d.Spec)
		return d
	}
	rolling := func(unavailable, surge intstr.IntOrString) func(*appsv1.DeploymentSpec) {
		return func(s *appsv1.DeploymentSpec) {
			s.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: &unavailable, MaxSurge: &surge}}
		}
	}
	tests := []struct {
		name string
		obj  runtime.Object
		want string // "" for valid
	}{
		{"request above limit", pod("2", "1"), `spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1`},
		{"negative limit", pod("", "-1"), `spec.containers[0].resources.limits[cpu]: Invalid value: "-1": must be greater than or equal to 0`},
		{"request at limit", pod("500m", "0.5"), ""},
		{"request without limit", pod("4", ""), ""},
		{"surge and unavailable 0", dep(rolling(intstr.FromInt32(0), intstr.FromString("0%"))), "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"},
		{"bad percent", dep(rolling(intstr.FromString("x%"), intstr.FromInt32(1))), `spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "x%": a valid percent string must be`},
		{"over 100%", dep(rolling(intstr.FromString("101%"), intstr.FromInt32(1))), `spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "101%": must not be greater than 100%`},
		{"negative surge", dep(rolling(intstr.FromInt32(1), intstr.FromInt32(-1))), `spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: must be greater than or equal to 0`},
		{"rolling 0 and 1", dep(rolling(intstr.FromInt32(0), intstr.FromInt32(1))), ""},
		{"recreate with rolling", dep(func(s *appsv1.DeploymentSpec) {
			rolling(intstr.FromInt32(1), intstr.FromInt32(1))(s)
			s.Strategy.Type = appsv1.RecreateDeploymentStrategyType
		}), "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"},
		{"unknown strategy", dep(func(s *appsv1.DeploymentSpec) { s.Strategy.Type = "Sideways" }), `spec.strategy.type: Unsupported value: "Sideways": supported values: "Recreate", "RollingUpdate"`},
		{"deadline not above minReady", dep(func(s *appsv1.DeploymentSpec) {
			s.MinReadySeconds, s.ProgressDeadlineSeconds = 10, new(int32(10))
		}), "spec.progressDeadlineSeconds: Invalid value: 10: must be greater than minReadySeconds"},
		{"mount of a missing volume", withVolumes([]corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			corev1.VolumeMount{Name: "x", MountPath: "/x"}), `spec.containers[0].volumeMounts[0].name: Not found: "x"`},
		{"mount without path", withVolumes([]corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			corev1.VolumeMount{Name: "v"}), "spec.containers[0].volumeMounts[0].mountPath: Required value"},
		{"volume without type", withVolumes([]corev1.Volume{{Name: "v"}}), "spec.volumes[0]: Required value: must specify a volume type"},
		{"volume twice", withVolumes([]corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			{Name: "v", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}), `spec.volumes[1].name: Duplicate value: "v"`},
		{"volume mounted", withVolumes([]corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}}},
			corev1.VolumeMount{Name: "v", MountPath: "/etc/x"}), ""},
		{"toleration Exists with a value", withTolerations(corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists, Value: "v"}),
			"spec.tolerations[0].operator: Invalid value: {\"key\":\"k\",\"operator\":\"Exists\",\"value\":\"v\"}: value must be empty when `operator` is 'Exists'"},
		{"toleration without key", withTolerations(corev1.Toleration{Operator: corev1.TolerationOpEqual, Value: "v"}),
			`spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when ` + "`key`" + ` is empty`},
		{"toleration seconds without NoExecute", withTolerations(corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists,
			Effect: corev1.TaintEffectNoSchedule, TolerationSeconds: new(int64(5))}),
			`spec.tolerations[0].effect: Invalid value: "NoSchedule": effect must be 'NoExecute' when ` + "`tolerationSeconds`" + ` is set`},
		{"unknown toleration operator", withTolerations(corev1.Toleration{Key: "k", Operator: "Near"}),
			`spec.tolerations[0].operator: Unsupported value: "Near": supported values: "Equal", "Exists"`},
		{"unknown taint effect", withTolerations(corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists, Effect: "Never"}),
			`spec.tolerations[0].effect: Unsupported value: "Never"`},
		{"toleration ok", withTolerations(corev1.Toleration{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists,
			Effect: corev1.TaintEffectNoExecute, TolerationSeconds: new(int64(300))}, corev1.Toleration{Operator: corev1.TolerationOpExists}), ""},
		{"bad node selector", func() *corev1.Pod {
			p := pod("", "")
			p.Spec.NodeSelector = map[string]string{"bad key!": "v"}
			return p
		}(), `spec.nodeSelector: Invalid value: "bad key!"`},
		{"bad port name", svc(func(p *corev1.ServicePort) { p.Name = "HTTP_1" }), `spec.ports[0].name: Invalid value: "HTTP_1": a lowercase RFC 1123 label must consist of`},
		{"target port out of range", svc(func(p *corev1.ServicePort) { p.TargetPort = intstr.FromInt32(70000) }), "spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive"},
		{"bad target port name", svc(func(p *corev1.ServicePort) { p.TargetPort = intstr.FromString("web_port") }), `spec.ports[0].targetPort: Invalid value: "web_port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`},
		{"named target port", svc(func(p *corev1.ServicePort) { p.TargetPort = intstr.FromString("http") }), ""},
		{"bad selector", func() *corev1.Service {
			s := svc(func(*corev1.ServicePort) {})
			s.Spec.Selector = map[string]string{"app": "bad value"}
			return s
		}(), `spec.selector: Invalid value: "bad value"`},
		{"unknown session affinity", func() *corev1.Service {
			s := svc(func(*corev1.ServicePort) {})
			s.Spec.SessionAffinity = "Sticky"
			return s
		}(), `spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"`},
		{"env name with =", withEnv("A=B"), `spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`},
		{"env without name", withEnv(""), "spec.containers[0].env[0].name: Required value"},
		{"relaxed env name", withEnv("1.my-var"), ""},
		{"negative history", dep(func(s *appsv1.DeploymentSpec) { s.RevisionHistoryLimit = new(int32(-1)) }), "spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0"},
	}
	for _, tt := range tests {
		r := st.Reg.Lookup("", "v1", "pods")
		switch tt.obj.(type) {
		case *appsv1.Deployment:
			r = st.Reg.Lookup("apps", "v1", "deployments")
		case *corev1.Service:
			r = st.Reg.Lookup("", "v1", "services")
		}
		_, err := st.Create(ctx, r, tt.obj, WriteOptions{})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v, want it accepted", tt.name, err)
		case tt.want != "" && (!apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want Invalid with %q", tt.name, err, tt.want)
		}
	}
}

func TestContinueToken(t *testing.T) {
	tests := []struct {
		rev     int64
		wantRev int64
	}{
		{42, 42},
		{-1, 0}, // the "inconsistent" token: the newest state
	}
	for _, tc := range tests {
		got, rev, err := decodeContinue(encodeContinue(tc.rev, "default/p10"))
		if err != nil || got != "default/p10" || rev != tc.wantRev {
			t.Errorf("round trip of rev %d: %q %d %v", tc.rev, got, rev, err)
		}
	}
	raw := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, bad := range []string{"!!", "e30", encodeContinue(1, "/../x"), encodeContinue(0, "a"), encodeContinue(-2, "a"),
		raw(`{"v":"meta.k8s.io/v2","rv":1,"start":"a"}`), raw(`{"v":"meta.k8s.io/v1","rv":1,"start":""}`)} {
		if _, _, err := decodeContinue(bad); err == nil {
			t.Errorf("decodeContinue(%q) accepted", bad)
		}
	}
}

func TestFieldSelectorSupport(t *testing.T) {
	reg, _ := New(NewCodecs())
	pods := reg.Lookup("", "v1", "pods")
	for sel, ok := range map[string]bool{"spec.nodeName=n": true, "status.phase!=Running": true, "metadata.name=x": true, "spec.foo=1": false} {
		s, err := fields.ParseSelector(sel)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckFieldSelector(pods, s); (err == nil) != ok {
			t.Errorf("%s: %v", sel, err)
		}
	}
}

func TestGenerationAndNoopUpdate(t *testing.T) {
	st := newStorage(t)
	ctx := context.Background()
	r := st.Reg.Lookup("apps", "v1", "replicasets")
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "rs", Namespace: "default"}, Spec: appsv1.ReplicaSetSpec{
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}}}}
	created, err := st.Create(ctx, r, rs, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	same, _, err := st.Update(ctx, r, "default", "rs", func(cur runtime.Object) (runtime.Object, error) { return cur, nil }, WriteOptions{})
	if err != nil || same.(*appsv1.ReplicaSet).ResourceVersion != created.(*appsv1.ReplicaSet).ResourceVersion {
		t.Fatalf("no-op update wrote: %v", err)
	}
	labeled, _, _ := st.Update(ctx, r, "default", "rs", func(cur runtime.Object) (runtime.Object, error) {
		cur.(*appsv1.ReplicaSet).Labels = map[string]string{"x": "y"}
		return cur, nil
	}, WriteOptions{})
	if labeled.(*appsv1.ReplicaSet).Generation != 1 {
		t.Fatalf("metadata change bumped generation")
	}
	scaled, _, _ := st.Update(ctx, r, "default", "rs", func(cur runtime.Object) (runtime.Object, error) {
		n := int32(4)
		cur.(*appsv1.ReplicaSet).Spec.Replicas = &n
		return cur, nil
	}, WriteOptions{})
	if scaled.(*appsv1.ReplicaSet).Generation != 2 {
		t.Fatalf("spec change: generation %d", scaled.(*appsv1.ReplicaSet).Generation)
	}
}

// TestCreateFieldsMatchFieldManager checks the cached managed fields of a
// create against what the field manager computes for the same object.
func TestCreateFieldsMatchFieldManager(t *testing.T) {
	st := newStorage(t)
	ctx := context.Background()
	r := st.Reg.Lookup("", "v1", "pods")
	mk := func(name, image, label string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": label}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: image, Ports: []corev1.ContainerPort{{ContainerPort: 80}}}}}}
	}
	for i, p := range []*corev1.Pod{mk("a", "nginx", "x"), mk("b", "nginx", "y"), mk("c", "nginx:2", "x"), mk("d", "nginx", "z")} {
		got, err := st.Create(ctx, r, p, WriteOptions{FieldManager: "tester"})
		if err != nil {
			t.Fatal(err)
		}
		// Recompute with the field manager from an identical object.
		want := got.DeepCopyObject().(*corev1.Pod)
		want.ManagedFields = nil
		ref := r.FieldManager("").UpdateNoErrors(r.New(), want, "tester").(*corev1.Pod)
		g, w := got.(*corev1.Pod).ManagedFields, ref.ManagedFields
		if len(g) != 1 || len(w) != 1 || string(g[0].FieldsV1.Raw) != string(w[0].FieldsV1.Raw) || g[0].APIVersion != w[0].APIVersion || g[0].Operation != w[0].Operation {
			t.Fatalf("pod %d: cached %+v, field manager %+v", i, g, w)
		}
	}
	if len(st.fields.m) != 2 {
		t.Fatalf("shape cache has %d entries, want 2 (two images)", len(st.fields.m))
	}
}

func TestShapeKey(t *testing.T) {
	k := func(s string) [32]byte { return shapeKey("k", "m", []byte(s)) }
	if k(`{"a":"x","b":[{"n":"1"}]}`) != k(`{"a":"y","b":[{"n":"1"}]}`) {
		t.Error("scalar outside lists changed the shape")
	}
	if k(`{"a":"x","b":[{"n":"1"}]}`) == k(`{"a":"x","b":[{"n":"2"}]}`) {
		t.Error("list item value did not change the shape")
	}
	if k(`{"a":"x"}`) == k(`{"c":"x"}`) || k(`{"a":{"q":1}}`) == k(`{"a":{"r":1}}`) {
		t.Error("keys did not change the shape")
	}
	if k(`{"a":"x\"y","b":1}`) != k(`{"a":"z","b":2}`) {
		t.Error("escaped quotes broke the scanner")
	}
}
