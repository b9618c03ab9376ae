package agent

import (
	"context"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/stratus-cloud/stratus/internal/kube/controller/kubetest"
	"github.com/stratus-cloud/stratus/internal/kube/restartgate"
	"github.com/stratus-cloud/stratus/internal/runtime/exec"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestRestartGate: a pod with the restart gate annotation restarts a
// failed container only when the gate lets that exit go, not on the
// kubelet's back-off (50 ms here); meanwhile it waits in
// CrashLoopBackOff.
func TestRestartGate(t *testing.T) {
	cs := kubetest.NewClientset()
	startAgent(t, cs, exec.New(exec.Options{Dir: t.TempDir()}), "n1")
	ctx := context.Background()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "g", Namespace: "default", Annotations: map[string]string{restartgate.Annotation: ""}},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "sh", Command: []string{"sh", "-c", "exit 3"}}}}}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	status := func() corev1.ContainerStatus {
		p := getPod(t, cs, "g")
		if len(p.Status.ContainerStatuses) != 1 {
			return corev1.ContainerStatus{RestartCount: -1}
		}
		return p.Status.ContainerStatuses[0]
	}
	held := func() bool {
		s := status()
		return s.State.Waiting != nil && s.State.Waiting.Reason == "CrashLoopBackOff" && s.LastTerminationState.Terminated != nil
	}
	testenv.Eventually(t, 10*time.Second, "the first exit held", held)
	time.Sleep(300 * time.Millisecond) // six of the kubelet's back-offs
	if s := status(); s.RestartCount != 0 || !held() {
		t.Fatalf("restarted without the gate: %+v", s)
	}
	open := func(restarts int32, at time.Time) {
		patch := `{"metadata":{"annotations":{"` + restartgate.Annotation + `":"` + restartgate.Value(restarts, at) + `"}}}`
		if _, err := cs.CoreV1().Pods("default").Patch(ctx, "g", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// A gate for a time to come: restarted then, not before.
	opened := time.Now()
	open(0, opened.Add(700*time.Millisecond))
	testenv.Eventually(t, 10*time.Second, "the restart the gate let go", func() bool { return status().RestartCount == 1 })
	if took := time.Since(opened); took < 600*time.Millisecond {
		t.Fatalf("restarted %v after the gate opened for 700 ms later", took)
	}
	// That gate does not let the next exit go.
	testenv.Eventually(t, 10*time.Second, "the second exit held", func() bool { return held() && status().RestartCount == 1 })
	time.Sleep(300 * time.Millisecond)
	if s := status(); s.RestartCount != 1 {
		t.Fatalf("an old gate let a later exit go: %+v", s)
	}
	open(1, time.Now())
	testenv.Eventually(t, 10*time.Second, "restarted at once", func() bool { return status().RestartCount == 2 })
}

// TestStartGate: a pod with the start gate does not start until the gate
// is removed, and its env then reads the annotations written with it
// (the downward API's metadata.annotations['k'] and metadata.labels['k']).
func TestStartGate(t *testing.T) {
	cs := kubetest.NewClientset()
	dir := t.TempDir()
	startAgent(t, cs, exec.New(exec.Options{Dir: dir}), "n1")
	ctx := context.Background()
	field := func(path string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}
	}
	out := dir + "/env"
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "default", Labels: map[string]string{"tier": "web"},
		Annotations: map[string]string{restartgate.StartAnnotation: ""}},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "sh",
			Command: []string{"sh", "-c", `echo "$PORT0 $TIER $NONE." > ` + out + `; sleep 100`},
			Env: []corev1.EnvVar{{Name: "PORT0", ValueFrom: field("metadata.annotations['example.com/port0']")},
				{Name: "TIER", ValueFrom: field("metadata.labels['tier']")},
				{Name: "NONE", ValueFrom: field("metadata.annotations['example.com/none']")}}}}}}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if p := getPod(t, cs, "s"); len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Running != nil {
		t.Fatalf("started through the gate: %+v", p.Status.ContainerStatuses)
	}
	patch := `{"metadata":{"annotations":{"example.com/port0":"31005","` + restartgate.StartAnnotation + `":null}}}`
	if _, err := cs.CoreV1().Pods("default").Patch(ctx, "s", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	var got []byte
	testenv.Eventually(t, 10*time.Second, "started once the gate is gone", func() bool {
		got, _ = os.ReadFile(out)
		return len(got) > 0
	})
	if string(got) != "31005 web .\n" {
		t.Fatalf("env %q", got)
	}
}
