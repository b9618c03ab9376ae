package registry

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
