package agent

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/stratus-cloud/stratus/internal/kube/controller/kubetest"
	"github.com/stratus-cloud/stratus/internal/runtime"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestReadinessProbe: an exec readiness probe gates the container's and
// the pod's readiness, after its initial delay, and failureThreshold
// failures in a row make it unready again. Under sim the probe runs in
// the sim shell; a program the shell does not know counts as the image's
// and succeeds.
func TestReadinessProbe(t *testing.T) {
	rt := sim.New(sim.Options{})
	cs := kubetest.NewClientset()
	startAgent(t, cs, rt, "n1")
	ctx := context.Background()
	podWith := func(name string, cmd ...string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: corev1.PodSpec{NodeName: "n1", RestartPolicy: corev1.RestartPolicyAlways, Containers: []corev1.Container{{
				Name: "c", Image: "mysql",
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: cmd}},
					PeriodSeconds: 1, TimeoutSeconds: 1, FailureThreshold: 2, SuccessThreshold: 1}}}}}
	}
	ready := func(name string) bool {
		p := getPod(t, cs, name)
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady {
				return c.Status == corev1.ConditionTrue && p.Status.ContainerStatuses[0].Ready
			}
		}
		return false
	}
	for _, p := range []*corev1.Pod{podWith("gated", "sh", "-c", "cat /tmp/healthy"), podWith("image-program", "mysqladmin", "ping")} {
		if _, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 10*time.Second, "image-program ready", func() bool { return ready("image-program") })
	testenv.Eventually(t, 10*time.Second, "gated running", func() bool { return getPod(t, cs, "gated").Status.Phase == corev1.PodRunning })
	// Running, probed and failing for a while: never ready.
	time.Sleep(2500 * time.Millisecond)
	if ready("gated") {
		t.Fatal("ready although its probe fails")
	}
	id := strings.TrimPrefix(getPod(t, cs, "gated").Status.ContainerStatuses[0].ContainerID, "sim://")
	shell := func(script string) {
		if code, err := rt.Exec(ctx, id, []string{"sh", "-c", script}, runtime.Streams{}); err != nil || code != 0 {
			t.Fatalf("%s: %d %v", script, code, err)
		}
	}
	shell("echo ok > /tmp/healthy")
	testenv.Eventually(t, 5*time.Second, "ready once the probe passes", func() bool { return ready("gated") })
	shell("rm /tmp/healthy")
	testenv.Eventually(t, 6*time.Second, "unready after two failures", func() bool { return !ready("gated") })
	if p := getPod(t, cs, "gated"); p.Status.Phase != corev1.PodRunning || p.Status.ContainerStatuses[0].RestartCount != 0 {
		t.Fatalf("a readiness failure must not restart the container: %+v", p.Status)
	}
}

// TestSimProbes: under sim nothing listens, so network probes pass
// without being run (ready at once, never killed), while an exec
// liveness probe runs in the sim shell: a command of the image passes, a
// failing shell command kills and restarts the container.
func TestSimProbes(t *testing.T) {
	cs := kubetest.NewClientset()
	startAgent(t, cs, sim.New(sim.Options{}), "n1")
	ctx := context.Background()
	probe := func(h corev1.ProbeHandler) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: h, PeriodSeconds: 1, TimeoutSeconds: 1, FailureThreshold: 1, SuccessThreshold: 1}
	}
	httpGet := corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt(80)}}
	pods := map[string]corev1.Container{
		"web": {Name: "c", Image: "nginx", ReadinessProbe: probe(httpGet), LivenessProbe: probe(httpGet),
			StartupProbe: probe(corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt(80)}})},
		"db":   {Name: "c", Image: "mysql", LivenessProbe: probe(corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"mysqladmin", "ping"}}})},
		"dies": {Name: "c", Image: "busybox", LivenessProbe: probe(corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"sh", "-c", "exit 1"}}})},
	}
	for name, c := range pods {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: corev1.PodSpec{NodeName: "n1", RestartPolicy: corev1.RestartPolicyAlways, Containers: []corev1.Container{c}}}
		if _, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 10*time.Second, "web ready", func() bool {
		p := getPod(t, cs, "web")
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].Ready && *p.Status.ContainerStatuses[0].Started
	})
	testenv.Eventually(t, 10*time.Second, "dies restarted", func() bool {
		p := getPod(t, cs, "dies")
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount >= 1
	})
	for _, name := range []string{"web", "db"} {
		if p := getPod(t, cs, name); len(p.Status.ContainerStatuses) != 1 || p.Status.ContainerStatuses[0].RestartCount != 0 {
			t.Fatalf("%s restarted: %+v", name, p.Status)
		}
	}
}
