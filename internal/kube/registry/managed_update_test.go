package registry

import (
	"fmt"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// sameManagedFields reports how got differs from want (the field manager's
// answer for the same write), times compared as "kept from before" or "new".
func sameManagedFields(got, want, before []metav1.ManagedFieldsEntry) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d entries, want %d", len(got), len(want))
	}
	kept := func(t *metav1.Time) bool {
		for _, b := range before {
			if b.Time != nil && t != nil && b.Time.Equal(t) {
				return true
			}
		}
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Manager != w.Manager || g.Operation != w.Operation || g.APIVersion != w.APIVersion || g.Subresource != w.Subresource || g.FieldsType != w.FieldsType {
			return fmt.Errorf("entry %d: %s/%s/%s/%s, want %s/%s/%s/%s", i, g.Manager, g.Operation, g.APIVersion, g.Subresource, w.Manager, w.Operation, w.APIVersion, w.Subresource)
		}
		if (g.FieldsV1 == nil) != (w.FieldsV1 == nil) || (g.FieldsV1 != nil && string(g.FieldsV1.Raw) != string(w.FieldsV1.Raw)) {
			return fmt.Errorf("entry %d (%s): fields %s, want %s", i, g.Manager, g.FieldsV1, w.FieldsV1)
		}
		if (g.Time == nil) != (w.Time == nil) || kept(g.Time) != kept(w.Time) {
			return fmt.Errorf("entry %d (%s): time %v (kept %v), want %v (kept %v)", i, g.Manager, g.Time, kept(g.Time), w.Time, kept(w.Time))
		}
	}
	return nil
}

type updateStep struct {
	manager, sub string
	mutate       func(obj runtime.Object, i int) // i tells the parallel objects apart
}

// TestUpdateFieldsMatchFieldManager runs sequences of writes on several
// objects of one shape (so later ones hit the cache) and checks every
// write's managed fields against the field manager's on the whole objects.
func TestUpdateFieldsMatchFieldManager(t *testing.T) {
	st := newStorage(t)
	pod := func(i int) runtime.Object {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("p", i), Namespace: "default", UID: "u", Labels: map[string]string{"app": "x"}},
			Spec:   corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
			Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}}}
	}
	lease := func(i int) runtime.Object {
		h, d := fmt.Sprint("n", i), int32(40)
		return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: h, Namespace: "kube-node-lease", UID: "u"},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &h, LeaseDurationSeconds: &d}}
	}
	rc := func(i int) runtime.Object {
		n := int32(1)
		return &corev1.ReplicationController{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("rc", i), Namespace: "default", UID: "u", Labels: map[string]string{"a": "1", "b": "2"}},
			Spec: corev1.ReplicationControllerSpec{Replicas: &n, Selector: map[string]string{"app": "x"},
				Template: &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}}}
	}
	running := func(obj runtime.Object, i int) {
		p := obj.(*corev1.Pod)
		ip := fmt.Sprintf("127.128.0.%d", i+2)
		now := metav1.NewTime(time.Date(2025, 1, 1, 0, 0, i, 0, time.UTC))
		p.Status.Phase, p.Status.PodIP, p.Status.PodIPs, p.Status.HostIP = corev1.PodRunning, ip, []corev1.PodIP{{IP: ip}}, "127.0.0.1"
		p.Status.StartTime = &now
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", Image: "nginx", Ready: true, ContainerID: "sim://" + ip,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}}}
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	for _, tc := range []struct {
		name     string
		resource [3]string
		new      func(i int) runtime.Object
		hits     bool // objects differ only in scalars outside lists
		steps    []updateStep
	}{
		{"pod status", [3]string{"", "v1", "pods"}, pod, true, []updateStep{
			{"kubelet", "status", running},
			{"kubelet", "status", func(obj runtime.Object, i int) {}}, // no change: time kept
			{"kubelet", "status", func(obj runtime.Object, i int) {
				p := obj.(*corev1.Pod)
				p.Status.ContainerStatuses[0].RestartCount = 1
				p.Status.Message = "restarted"
			}},
			{"kubelet", "status", func(obj runtime.Object, i int) { // two keyed items whose order flips with i
				p := obj.(*corev1.Pod)
				p.Status.PodIPs = append(p.Status.PodIPs, corev1.PodIP{IP: fmt.Sprintf("127.128.0.%d", 10*i+1)})
			}},
			{"other", "status", func(obj runtime.Object, i int) { // takes a field from kubelet
				p := obj.(*corev1.Pod)
				p.Status.Message = "mine now"
				p.Status.HostIP = ""
			}},
			{"kubectl", "", func(obj runtime.Object, i int) { // main resource: labels
				p := obj.(*corev1.Pod)
				p.Labels["extra"] = fmt.Sprint(i)
				p.Annotations = map[string]string{"note": "x"}
			}},
			{"kubectl", "", func(obj runtime.Object, i int) { // and a removal, managed fields sent back
				delete(obj.(*corev1.Pod).Labels, "app")
			}},
			{"controller", "", func(obj runtime.Object, i int) { // without managed fields, as from a trimmed informer
				p := obj.(*corev1.Pod)
				p.ManagedFields = nil
				p.Labels["trimmed"] = fmt.Sprint(i)
			}},
		}},
		{"lease renewals", [3]string{"coordination.k8s.io", "v1", "leases"}, lease, true, []updateStep{
			{"kubelet", "", func(obj runtime.Object, i int) {
				obj.(*coordinationv1.Lease).Spec.RenewTime = &metav1.MicroTime{Time: time.Date(2025, 1, 1, 0, 0, 10, i, time.UTC)}
			}},
			{"kubelet", "", func(obj runtime.Object, i int) {
				obj.(*coordinationv1.Lease).Spec.RenewTime = &metav1.MicroTime{Time: time.Date(2025, 1, 1, 0, 0, 20, i, time.UTC)}
			}},
			{"other", "", func(obj runtime.Object, i int) {
				d := int32(10 + i)
				obj.(*coordinationv1.Lease).Spec.LeaseDurationSeconds = &d
			}},
		}},
		{"rc spec and status", [3]string{"", "v1", "replicationcontrollers"}, rc, true, []updateStep{
			{"kube-controller-manager", "status", func(obj runtime.Object, i int) {
				r := obj.(*corev1.ReplicationController)
				r.Status.Replicas, r.Status.ReadyReplicas, r.Status.ObservedGeneration = int32(i+1), int32(i), 1
			}},
			{"kubectl", "", func(obj runtime.Object, i int) {
				r := obj.(*corev1.ReplicationController)
				n := int32(5 + i)
				r.Spec.Replicas = &n
				r.Labels["b"] = "3"
				r.Spec.Template.Spec.Containers[0].Image = fmt.Sprint("nginx:", i)
			}},
			{"kube-controller-manager", "status", func(obj runtime.Object, i int) {
				r := obj.(*corev1.ReplicationController)
				r.Status.Replicas, r.Status.ReadyReplicas = int32(i+5), int32(i+5)
			}},
			{"kube-controller-manager", "status", func(obj runtime.Object, i int) {
				obj.(*corev1.ReplicationController).Status.ReadyReplicas = 0
			}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := st.Reg.Lookup(tc.resource[0], tc.resource[1], tc.resource[2])
			const objects = 4
			curs := make([]runtime.Object, objects)
			for i := range curs {
				o := tc.new(i)
				st.Reg.Codecs.Scheme.Default(o)
				o.GetObjectKind().SetGroupVersionKind(r.GVK())
				curs[i] = r.FieldManager("").UpdateNoErrors(r.New(), o, "creator")
			}
			hits := len(st.updates.m)
			for si, step := range tc.steps {
				for i := range curs {
					cur := curs[i]
					obj := cur.DeepCopyObject()
					step.mutate(obj, i)
					if step.sub == "status" {
						next := cur.DeepCopyObject()
						setField(next, "Status", fieldOf(obj, "Status"))
						obj = next
					} else if r.HasStatus {
						setField(obj, "Status", fieldOf(cur, "Status"))
					}
					ref := r.FieldManager(step.sub).UpdateNoErrors(cur.DeepCopyObject(), obj.DeepCopyObject(), step.manager)
					got := st.trackUpdate(r, cur, obj.DeepCopyObject(), step.manager, step.sub)
					before, _ := meta.Accessor(cur)
					g, _ := meta.Accessor(got)
					w, _ := meta.Accessor(ref)
					if err := sameManagedFields(g.GetManagedFields(), w.GetManagedFields(), before.GetManagedFields()); err != nil {
						t.Fatalf("step %d (%s %s), object %d: %v\ngot  %+v\nwant %+v", si, step.manager, step.sub, i, err, g.GetManagedFields(), w.GetManagedFields())
					}
					curs[i] = got
				}
			}
			added := len(st.updates.m) - hits
			t.Logf("%d cache entries for %d writes", added, len(tc.steps)*objects)
			if tc.hits && added >= len(tc.steps)*objects {
				t.Errorf("cache never hit: %d entries for %d writes", added, len(tc.steps)*objects)
			}
		})
	}
}

func TestScanJSON(t *testing.T) {
	var leaves []string
	shape := scanJSON([]byte(`{"a":"x","b":{"c":1,"d":null},"e":[{"f":"g","n":2}],"h":"q\"r"}`), func(path, val []byte) {
		leaves = append(leaves, fmt.Sprintf("%q=%s", path, val))
	}, func(dst, tok []byte) []byte { return append(append(append(dst, '<'), tok...), '>') })
	if want := `{"a":<"x">,"b":{"c":_,"d":n},"e":[{"f":<"g">,"n":2}],"h":<"q\"r">}`; string(shape) != want {
		t.Errorf("shape %s, want %s", shape, want)
	}
	want := []string{`"\x00\"b\"\x00\"c\""=1`, `"\x00\"b\"\x00\"d\""=null`}
	if fmt.Sprint(leaves) != fmt.Sprint(want) {
		t.Errorf("leaves %v, want %v", leaves, want)
	}
}

func TestFieldsTemplate(t *testing.T) {
	syms := &symbols{ids: map[string]int{}}
	raw := []byte(`{"f:status":{"f:podIPs":{".":{},"k:{\"ip\":\"10.0.0.1\"}":{".":{},"f:ip":{}}},"f:x":{"v:\"a\"":{}}}}`)
	tmpl, ok := mapFields(raw, func(tok []byte) ([]byte, bool) { return syms.sym(nil, tok), true })
	if !ok || syms.bad || len(syms.vals) != 2 {
		t.Fatalf("template %s: ok %v, classes %v", tmpl, ok, syms.vals)
	}
	syms.vals[0] = "10.0.0.2"
	back, ok := mapFields(tmpl, syms.value)
	if want := `{"f:status":{"f:podIPs":{".":{},"k:{\"ip\":\"10.0.0.2\"}":{".":{},"f:ip":{}}},"f:x":{"v:\"a\"":{}}}}`; !ok || string(back) != want {
		t.Errorf("rebuilt %s, want %s", back, want)
	}
}
