package controller

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// TestRevisionData: a revision's data is the patch kubectl v1.27–v1.33
// computes from the object (it compares the two byte for byte), and its
// hash changes with the data and the collision count.
func TestRevisionData(t *testing.T) {
	tpl := &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "a"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}, TerminationGracePeriodSeconds: ptr.To[int64](30)}}
	got, err := revisionData(tpl)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"spec":{"template":{"$patch":"replace","metadata":{"creationTimestamp":null,"labels":{"app":"a"}},"spec":{"containers":[{"image":"nginx","name":"c","resources":{}}],"terminationGracePeriodSeconds":30}}}}`
	if string(got) != want {
		t.Errorf("data\n got %s\nwant %s", got, want)
	}
	other := tpl.DeepCopy()
	other.Spec.Containers[0].Image = "nginx:2"
	od, _ := revisionData(other)
	for _, tc := range []struct {
		name string
		a, b string
		same bool
	}{
		{"same data", revisionHash(got, nil), revisionHash(got, nil), true},
		{"other template", revisionHash(got, nil), revisionHash(od, nil), false},
		{"a collision", revisionHash(got, nil), revisionHash(got, ptr.To[int32](1)), false},
	} {
		if (tc.a == tc.b) != tc.same {
			t.Errorf("%s: %q vs %q", tc.name, tc.a, tc.b)
		}
	}
	if n := revisionName(string(make([]byte, 300)), "h"); len(n) != 225 {
		t.Errorf("long owner name: %d chars", len(n))
	}
}
