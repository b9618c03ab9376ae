package registry

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestGenerateNameRetries: a create with generateName whose generated
// name is taken tries new names, up to 8, as kube-apiserver; a create
// with a name of its own does not.
func TestGenerateNameRetries(t *testing.T) {
	tests := []struct {
		name    string
		names   []string // what the generator returns, in turn
		pod     metav1.ObjectMeta
		want    string
		wantErr bool
	}{
		{name: "free at once", names: []string{"web-ccccc"}, pod: metav1.ObjectMeta{GenerateName: "web-"}, want: "web-ccccc"},
		{name: "taken, then free", names: []string{"web-bbbbb", "web-bbbbb", "web-ddddd"}, pod: metav1.ObjectMeta{GenerateName: "web-"}, want: "web-ddddd"},
		{name: "taken 8 times", names: []string{"web-bbbbb"}, pod: metav1.ObjectMeta{GenerateName: "web-"}, wantErr: true},
		{name: "own name taken", names: []string{"web-zzzzz"}, pod: metav1.ObjectMeta{Name: "web-bbbbb", GenerateName: "web-"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStorageB(t)
			pods := st.Reg.Lookup("", "v1", "pods")
			ctx := context.Background()
			spec := corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}
			taken := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-bbbbb", Namespace: "default"}, Spec: spec}
			if _, err := st.Create(ctx, pods, taken, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			calls := 0
			st.GenerateName = func(string) string {
				n := tt.names[min(calls, len(tt.names)-1)]
				calls++
				return n
			}
			pod := &corev1.Pod{ObjectMeta: tt.pod, Spec: spec}
			pod.Namespace = "default"
			out, err := st.Create(ctx, pods, pod, WriteOptions{})
			if tt.wantErr {
				if !apierrors.IsAlreadyExists(err) {
					t.Fatalf("err = %v, want AlreadyExists", err)
				}
				if tt.pod.Name == "" && calls != maxGenerateNameAttempts {
					t.Errorf("%d names tried, want %d", calls, maxGenerateNameAttempts)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := out.(*corev1.Pod).Name; got != tt.want {
				t.Errorf("name %q, want %q", got, tt.want)
			}
		})
	}
}
