package registry

import (
	"bytes"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestEncodedMatchesBuffer: encoding through encoded (no copy) gives the
// bytes a plain buffer gets, for the whole write and for split writes.
func TestEncodedMatchesBuffer(t *testing.T) {
	reg, err := New(NewCodecs())
	if err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", Labels: map[string]string{"app": "x"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}
	pod.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Pod"))
	var want bytes.Buffer
	if err := reg.Codecs.Protobuf.Encode(pod, &want); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		writes func(e *encoded)
	}{
		{"serializer", func(e *encoded) {
			if err := reg.Codecs.Protobuf.EncodeWithAllocator(pod, e, e); err != nil {
				t.Fatal(err)
			}
		}},
		{"split writes", func(e *encoded) {
			b := want.Bytes()
			_, _ = e.Write(b[:3])
			_, _ = e.Write(b[3:])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e encoded
			tt.writes(&e)
			if !bytes.Equal(e.data, want.Bytes()) {
				t.Errorf("encoded %x, want %x", e.data, want.Bytes())
			}
		})
	}
}
