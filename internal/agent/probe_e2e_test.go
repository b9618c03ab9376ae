package agent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/runtime/exec"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// probeServer is a tiny HTTP server a container runs: it listens on its
// pod IP after DELAY seconds and answers every GET with the status code
// written in the file STATUS (200 without one).
const probeServer = `
import http.server, os, time
time.sleep(float(os.environ.get("DELAY", "0")))
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            code = int(open(os.environ["STATUS"]).read())
        except Exception:
            code = 200
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
http.server.HTTPServer((os.environ["POD_IP"], 8080), H).serve_forever()
`

// TestKubectlProbes runs real processes (the exec runtime) with httpGet,
// tcpSocket and exec probes, and reads the result as kubectl shows it: a
// pod is Ready only while its HTTP endpoint answers 200–399, a failing
// liveness probe restarts the container (RESTARTS, lastState, the
// kubelet's events), and a startup probe holds the others back.
func TestKubectlProbes(t *testing.T) {
	python := testenv.LookPath(t, "python3", "apt-get install python3")
	kubectl := kubectlBin(t, "1.33")
	srv := apiservertest.Start(t)
	cs, err := kubernetes.NewForConfig(apiservertest.RESTConfig(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a, err := New(Options{Client: cs, NodeName: "n1", Runtime: exec.New(exec.Options{Dir: dir}),
		Certs:  LocalCerts{Issue: srv.IssueKubeletServingCert, CA: srv.CACert()},
		Timing: Timing{BackoffBase: 100 * time.Millisecond, BackoffMax: 500 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Stop(ctx)
	})
	ctx := context.Background()
	n, err := cs.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Spec.PodCIDR = "127.128.9.0/24"
	if _, err := cs.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	status := func(pod string) string { return filepath.Join(dir, pod+".status") }
	setStatus := func(pod, code string) {
		if err := os.WriteFile(status(pod), []byte(code), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	grace := int64(1)
	server := func(name, delay string) corev1.Container {
		return corev1.Container{Name: "web", Image: "python3", Command: []string{python, "-c", probeServer},
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			Env: []corev1.EnvVar{{Name: "STATUS", Value: status(name)}, {Name: "DELAY", Value: delay},
				{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}}}}
	}
	httpProbe := func(port intstr.IntOrString, failures int32) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: port}},
			PeriodSeconds: 1, FailureThreshold: failures}
	}
	web := server("web", "0")
	web.ReadinessProbe = httpProbe(intstr.FromString("http"), 1)
	live := server("live", "0")
	live.LivenessProbe = httpProbe(intstr.FromInt(8080), 2)
	live.LivenessProbe.InitialDelaySeconds = 1
	boot := server("boot", "3")
	boot.StartupProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http")}},
		PeriodSeconds: 1, FailureThreshold: 30}
	boot.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}, PeriodSeconds: 1}
	setStatus("web", "503")
	setStatus("live", "500")
	for name, c := range map[string]corev1.Container{"web": web, "live": live, "boot": boot} {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: corev1.PodSpec{NodeName: "n1", TerminationGracePeriodSeconds: &grace, Containers: []corev1.Container{c}}}
		if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	k := &kctl{t: t, bin: kubectl, home: t.TempDir(), cfg: srv.KubeconfigPath(), dir: t.TempDir()}
	// NAME READY STATUS RESTARTS AGE
	row := func(name string) []string {
		out, _, err := k.run("", "get", "pod", name, "--no-headers")
		if err != nil {
			return nil
		}
		return strings.Fields(out)
	}
	events := func(name string) string {
		out, _, _ := k.run("", "get", "events", "--field-selector", "involvedObject.name="+name, "-o",
			"custom-columns=TYPE:.type,REASON:.reason,MESSAGE:.message", "--no-headers")
		return out
	}

	// boot: not started (nor ready) while its port is closed
	testenv.Eventually(t, 15*time.Second, "boot running", func() bool {
		p := getPodNS(t, cs, "boot")
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Running != nil
	})
	if s := getPodNS(t, cs, "boot").Status.ContainerStatuses[0]; s.Ready || s.Started == nil || *s.Started {
		t.Fatalf("boot is started or ready before its startup probe passed: %+v", s)
	}

	// web: Running 0/1 while /healthz answers 503, 1/1 once it answers 200
	testenv.Eventually(t, 15*time.Second, "web running and unready", func() bool {
		r := row("web")
		return len(r) >= 4 && r[1] == "0/1" && r[2] == "Running" && strings.Contains(events("web"), "Readiness probe failed: HTTP probe failed with statuscode: 503")
	})
	setStatus("web", "200")
	testenv.Eventually(t, 10*time.Second, "web ready", func() bool { r := row("web"); return len(r) >= 4 && r[1] == "1/1" })

	// live: killed after two failures, restarted, RESTARTS counts it
	testenv.Eventually(t, 20*time.Second, "live restarted", func() bool {
		r := row("live")
		return len(r) >= 4 && r[3] != "0"
	})
	// (a loaded machine may start the server after the first probes,
	// whose failure is then a refused connection)
	testenv.Eventually(t, 20*time.Second, "live's events", func() bool {
		ev := events("live")
		return strings.Contains(ev, "Warning   Unhealthy   Liveness probe failed: HTTP probe failed with statuscode: 500") &&
			strings.Contains(ev, "Normal    Killing     Container web failed liveness probe, will be restarted")
	})
	p := getPodNS(t, cs, "live")
	if s := p.Status.ContainerStatuses[0]; s.RestartCount < 1 || s.LastTerminationState.Terminated == nil || s.LastTerminationState.Terminated.Reason != "Error" {
		t.Fatalf("live's status after a liveness kill: %+v", s)
	}
	setStatus("live", "200")

	// boot: started and ready once its port opens
	testenv.Eventually(t, 15*time.Second, "boot ready", func() bool { r := row("boot"); return len(r) >= 4 && r[1] == "1/1" })
	if s := getPodNS(t, cs, "boot").Status.ContainerStatuses[0]; s.RestartCount != 0 || !*s.Started {
		t.Fatalf("boot: %+v", s)
	}
	// web goes unready again when its endpoint fails, without a restart
	setStatus("web", "500")
	testenv.Eventually(t, 10*time.Second, "web unready again", func() bool { r := row("web"); return len(r) >= 4 && r[1] == "0/1" && r[3] == "0" })
}

func getPodNS(t *testing.T, cs kubernetes.Interface, name string) *corev1.Pod {
	t.Helper()
	p, err := cs.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
