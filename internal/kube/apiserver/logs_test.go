package apiserver

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func TestLogContainer(t *testing.T) {
	pod := func(node string, names ...string) *corev1.Pod {
		p := &corev1.Pod{Spec: corev1.PodSpec{NodeName: node, InitContainers: []corev1.Container{{Name: "init"}},
			EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debugger-x"}}}}}
		p.Name = "web"
		for _, n := range names {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: n})
		}
		return p
	}
	for _, tc := range []struct {
		name    string
		pod     *corev1.Pod
		asked   string
		want    string
		wantErr string
	}{
		{"the only one", pod("n1", "app"), "", "app", ""},
		{"named", pod("n1", "app", "side"), "side", "side", ""},
		{"an init container", pod("n1", "app"), "init", "init", ""},
		{"an ephemeral container", pod("n1", "app"), "debugger-x", "debugger-x", ""},
		{"must choose", pod("n1", "app", "side"), "", "", "a container name must be specified for pod web, choose one of: [app side]"},
		{"unknown", pod("n1", "app"), "nope", "", "container nope is not valid for pod web"},
		{"not scheduled", pod("", "app"), "", "", `container "app" in pod "web" is waiting to start: ContainerCreating`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := logContainer(tc.pod, tc.asked)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q %v, want %q", got, err, tc.want)
			}
		})
	}
}

func TestKubeletLogQuery(t *testing.T) {
	q := kubeletLogQuery(corev1.PodLogOptions{Follow: true, TailLines: ptr.To[int64](10), LimitBytes: ptr.To[int64](0)})
	if got, want := q.Encode(), "follow=true&limitBytes=0&previous=false&tailLines=10&timestamps=false"; got != want {
		t.Errorf("query %s, want %s", got, want)
	}
}
