package agent

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver"
	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/runtime"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// kubectlBin finds a versioned kubectl (the Google Cloud SDK's).
func kubectlBin(t *testing.T, version string) string {
	bin := "/usr/lib/google-cloud-sdk/bin/kubectl." + version
	if _, err := os.Stat(bin); err != nil {
		bin = testenv.LookPath(t, "kubectl."+version, "install the Google Cloud SDK kubectl component (versioned kubectl binaries)")
	}
	return bin
}

type kctl struct {
	t         *testing.T
	bin, home string
	cfg, dir  string
}

func (k *kctl) cmd(ctx context.Context, stdin string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, k.bin, args...)
	cmd.Env = []string{"HOME=" + k.home, "KUBECONFIG=" + k.cfg, "PATH=/usr/bin:/bin"}
	cmd.Dir = k.dir
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	return cmd
}

func (k *kctl) run(stdin string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := k.cmd(ctx, stdin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

func (k *kctl) ok(stdin string, args ...string) string {
	k.t.Helper()
	out, errs, err := k.run(stdin, args...)
	if err != nil {
		k.t.Fatalf("kubectl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errs)
	}
	return out
}

// TestKubectlNodeChannel drives the API-server-to-node channel with real
// kubectl binaries against a sim node: exec (with and without stdin, exit
// codes), attach, cp both ways, port-forward and logs.
func TestKubectlNodeChannel(t *testing.T) {
	srv := apiservertest.Start(t)
	cs, err := kubernetes.NewForConfig(apiservertest.RESTConfig(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	startChannelAgent(t, cs, srv, sim.New(sim.Options{Ports: true}), "127.128.7.0/24")
	ctx := context.Background()
	pods := []*corev1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Annotations: map[string]string{sim.AnnotationOutput: "web started"}},
			Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "web", Image: "nginx",
				Ports: []corev1.ContainerPort{{ContainerPort: 8080}}, Env: []corev1.EnvVar{{Name: "GREETING", Value: "hi"}}}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "shell", Namespace: "default"},
			Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "sh", Image: "busybox", Command: []string{"sh"}, Stdin: true}}}},
	}
	for _, p := range pods {
		if _, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"web", "shell"} {
		testenv.Eventually(t, 10*time.Second, name+" running", func() bool {
			p, err := cs.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
			return err == nil && p.Status.Phase == corev1.PodRunning
		})
	}
	for _, v := range []string{"1.27", "1.29", "1.33"} {
		t.Run(v, func(t *testing.T) {
			k := &kctl{t: t, bin: kubectlBin(t, v), home: t.TempDir(), cfg: srv.KubeconfigPath(), dir: t.TempDir()}
			kubectlScenario(t, k)
		})
	}
}

// startChannelAgent starts node n1 on rt, serving the node channel with a
// certificate from srv, its pods' addresses from podCIDR.
func startChannelAgent(t *testing.T, cs kubernetes.Interface, srv *apiserver.Server, rt runtime.Runtime, podCIDR string) {
	t.Helper()
	a, err := New(Options{Client: cs, NodeName: "n1", Runtime: rt,
		Certs: LocalCerts{Issue: srv.IssueKubeletServingCert, CA: srv.CACert()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Stop(ctx)
	})
	ctx := context.Background()
	n, err := cs.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Spec.PodCIDR = podCIDR
	if _, err := cs.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func kubectlScenario(t *testing.T, k *kctl) {
	if got := k.ok("", "exec", "web", "--", "echo", "hello", "world"); got != "hello world\n" {
		t.Errorf("exec echo: %q", got)
	}
	if got := k.ok("", "exec", "web", "--", "sh", "-c", "echo $GREETING; hostname"); got != "hi\nweb\n" {
		t.Errorf("exec sh -c: %q", got)
	}
	if got := k.ok("from stdin\n", "exec", "-i", "web", "--", "cat"); got != "from stdin\n" {
		t.Errorf("exec -i cat: %q", got)
	}
	_, errs, err := k.run("", "exec", "web", "--", "sh", "-c", "exit 3")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 || !strings.Contains(errs, "command terminated with exit code 3") {
		t.Errorf("exec exit 3: %v %q", err, errs)
	}
	_, errs, err = k.run("", "exec", "web", "-c", "nope", "--", "true")
	if err == nil || !strings.Contains(errs, "container nope is not valid for pod web") {
		t.Errorf("exec into a missing container: %v %q", err, errs)
	}

	// cp both ways (tar through exec)
	src := filepath.Join(k.dir, "in.txt")
	if err := os.WriteFile(src, []byte("copied content\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k.ok("", "cp", src, "web:/tmp/in.txt")
	if got := k.ok("", "exec", "web", "--", "cat", "/tmp/in.txt"); got != "copied content\n" {
		t.Errorf("cp into the pod: cat says %q", got)
	}
	k.ok("", "cp", "web:/tmp/in.txt", filepath.Join(k.dir, "back.txt"))
	if b, err := os.ReadFile(filepath.Join(k.dir, "back.txt")); err != nil || string(b) != "copied content\n" {
		t.Errorf("cp out of the pod: %q %v", b, err)
	}

	// attach to a shell that reads stdin
	if got := k.ok("echo attached\nexit\n", "attach", "-i", "shell"); !strings.Contains(got, "attached") {
		t.Errorf("attach -i: %q", got)
	}

	// kubectl debug: an ephemeral container, attached (busybox's shell
	// under sim reads the commands)
	if got := k.ok("echo debugged\nexit\n", "debug", "-i", "web", "--image=busybox"); !strings.Contains(got, "debugged") {
		t.Errorf("debug -i: %q", got)
	}
	// a debug container with a command the sim shell knows runs it and
	// ends, and kubectl reads its log (an ephemeral container's)
	if got := k.ok("", "debug", "-i", "web", "--image=busybox", "--", "sh", "-c", "echo in debug"); !strings.Contains(got, "in debug") {
		t.Errorf("debug -- sh -c: %q", got)
	}
	// the newcomer's first pod: its command's output, then it is gone
	name := "once-" + strings.ReplaceAll(path.Base(k.bin), ".", "-")
	if got := k.ok("", "run", "-i", "--rm", "--restart=Never", name, "--image=busybox",
		`--overrides={"spec":{"nodeName":"n1"}}`, "--", "echo", "hello", "newcomer"); !strings.Contains(got, "hello newcomer\n") {
		t.Errorf("run -i --rm -- echo: %q", got)
	}
	_, _, err = k.run("", "run", "-i", "--rm", "--restart=Never", name+"-fails", "--image=busybox",
		`--overrides={"spec":{"nodeName":"n1"}}`, "--", "sh", "-c", "exit 3")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Errorf("run -i --rm -- sh -c 'exit 3': %v", err)
	}
	_, errs, err = k.run("", "debug", "-i", "nope", "--image=busybox")
	if err == nil || !strings.Contains(errs, `pods "nope" not found`) || strings.Contains(errs, "panic") {
		t.Errorf("debug of a missing pod: %v %q", err, errs)
	}

	// top, from metrics.k8s.io (simulated usage under sim)
	if got := k.ok("", "top", "node"); !strings.Contains(got, "n1") || !strings.Contains(got, "CPU(cores)") || !strings.Contains(got, "Mi") {
		t.Errorf("top node: %q", got)
	}
	if got := k.ok("", "top", "pod"); !strings.Contains(got, "web") || !strings.Contains(got, "shell") || !strings.Contains(got, "Mi") {
		t.Errorf("top pod: %q", got)
	}
	if got := k.ok("", "top", "pod", "web", "--containers"); !strings.Contains(got, "web") {
		t.Errorf("top pod --containers: %q", got)
	}

	if got := k.ok("", "logs", "web"); !strings.HasSuffix(got, "web started\n") {
		t.Errorf("logs: %q", got)
	}

	// port-forward, and HTTP GETs through it: a declared port answers
	// from its listener, an undeclared one (busybox's pod declares none)
	// from the sim runtime's greeting all the same
	for _, f := range []struct{ target, port, want string }{
		{"pod/web", "8080", "Hello from pod default/web"},
		{"pod/shell", "80", "Hello from pod default/shell"},
	} {
		for i, body := range forwardGet(t, k, f.target, f.port, 2) { // two connections over one forward
			if !strings.Contains(body, f.want) {
				t.Errorf("GET %d through port-forward to %s:%s: %q", i, f.target, f.port, body)
			}
		}
	}
}

// forwardGet runs kubectl port-forward TARGET :PORT and GETs / through it
// n times, each on a connection of its own; it returns the bodies.
func forwardGet(t *testing.T, k *kctl, target, port string, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pf := k.cmd(ctx, "", "port-forward", target, ":"+port)
	stdout, err := pf.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var pfErr bytes.Buffer
	pf.Stderr = &pfErr
	if err := pf.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pf.Process.Kill(); _ = pf.Wait() }()
	sc := bufio.NewScanner(stdout)
	re := regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> ` + port)
	local := ""
	for local == "" && sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			local = m[1]
		}
	}
	if local == "" {
		t.Fatalf("port-forward printed no port; stderr %s", pfErr.String())
	}
	go func() {
		for sc.Scan() {
		}
	}()
	var bodies []string
	for i := range n {
		resp, err := http.Get("http://127.0.0.1:" + local + "/")
		if err != nil {
			t.Fatalf("GET through port-forward (%d): %v; stderr %s", i, err, pfErr.String())
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET through port-forward (%d): status %d", i, resp.StatusCode)
		}
		bodies = append(bodies, b.String())
	}
	return bodies
}
