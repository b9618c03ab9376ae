package registry

import (
	"context"
	"fmt"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

// BenchmarkCreatePod measures the storage side of one pod create
// (defaulting, validation, managed fields, protobuf encoding, the store
// transaction), without HTTP.
func BenchmarkCreatePod(b *testing.B) {
	for _, manager := range []string{"", "kubectl"} {
		b.Run("manager="+manager, func(b *testing.B) {
			st := newStorageB(b)
			r := st.Reg.Lookup("", "v1", "pods")
			r.FieldManager("")
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p%d", i), Namespace: "default", Labels: map[string]string{"app": "x"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1.27"}}}}
				i++
				if _, err := st.Create(context.Background(), r, p, WriteOptions{FieldManager: manager}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkListPods lists 10,000 stored pods (decoded objects are cached).
func BenchmarkListPods(b *testing.B) {
	st := newStorageB(b)
	r := st.Reg.Lookup("", "v1", "pods")
	for i := range 10_000 {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p%05d", i), Namespace: "default"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1.27"}}}}
		if _, err := st.Create(context.Background(), r, p, WriteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		res, err := st.List(context.Background(), r, "default", Predicate{}, 0, "")
		if err != nil || len(res.Items) != 10_000 {
			b.Fatal(err, len(res.Items))
		}
	}
}

// runningStatus is the status a node agent writes when a pod's only
// container has started.
func runningStatus(p *corev1.Pod, ip string) corev1.PodStatus {
	now := metav1.Now()
	st := corev1.PodStatus{Phase: corev1.PodRunning, HostIP: "127.0.0.1", HostIPs: []corev1.HostIP{{IP: "127.0.0.1"}},
		PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}, StartTime: &now, QOSClass: p.Status.QOSClass,
		ContainerStatuses: []corev1.ContainerStatus{{Name: "c", Image: "nginx:1.27", ImageID: "sim://nginx:1.27", Ready: true,
			ContainerID: "sim://" + ip, Started: ptr.To(true), State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}}}}
	for _, t := range []corev1.PodConditionType{corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.PodReady, corev1.ContainersReady, corev1.PodScheduled} {
		st.Conditions = append(st.Conditions, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	return st
}

// BenchmarkUpdatePodStatus measures a node agent's first status write of a
// pod (the bulk of the writes when thousands of pods start), storage side.
func BenchmarkUpdatePodStatus(b *testing.B) {
	st := newStorageB(b)
	r := st.Reg.Lookup("", "v1", "pods")
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p%d", i), Namespace: "default", Labels: map[string]string{"app": "x"}},
			Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "nginx:1.27"}}}}
		if _, err := st.Create(ctx, r, p, WriteOptions{FieldManager: "kube-controller-manager"}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		_, _, err := st.Update(ctx, r, "default", p.Name, func(cur runtime.Object) (runtime.Object, error) {
			cp := cur.(*corev1.Pod)
			cp.Status = runningStatus(cp, fmt.Sprintf("127.128.%d.%d", i/250, i%250+2))
			return cp, nil
		}, WriteOptions{FieldManager: "kubelet", Subresource: "status"})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenewLease measures one lease renewal (a main-resource update
// that changes spec.renewTime only), as 1,000 idle nodes make 100 a second.
func BenchmarkRenewLease(b *testing.B) {
	st := newStorageB(b)
	r := st.Reg.Lookup("coordination.k8s.io", "v1", "leases")
	ctx := context.Background()
	holder, dur := "n1", int32(40)
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "n1", Namespace: "default"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &dur}}
	if _, err := st.Create(ctx, r, l, WriteOptions{FieldManager: "kubelet"}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_, _, err := st.Update(ctx, r, "default", "n1", func(cur runtime.Object) (runtime.Object, error) {
			cl := cur.(*coordinationv1.Lease)
			cl.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
			return cl, nil
		}, WriteOptions{FieldManager: "kubelet"})
		if err != nil {
			b.Fatal(err)
		}
	}
}
