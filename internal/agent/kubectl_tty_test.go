package agent

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	rtexec "github.com/stratus-cloud/stratus/internal/runtime/exec"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestKubectlExecTTYExecRuntime: `kubectl exec -it` from a terminal into a
// pod of the exec runtime gets a terminal of the terminal's size (kubectl
// sends it; the runtime allocates a pty), its typed input echoed and
// answered, with kubectl 1.27, 1.29 and 1.33 (SPDY and WebSocket); and
// `kubectl attach -i` writes to a `stdin: true` container's open stdin.
func TestKubectlExecTTYExecRuntime(t *testing.T) {
	srv := apiservertest.Start(t)
	cs, err := kubernetes.NewForConfig(apiservertest.RESTConfig(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	rt := rtexec.New(rtexec.Options{Dir: t.TempDir()})
	t.Cleanup(func() { _ = rt.Close() })
	startChannelAgent(t, cs, srv, rt, "127.128.8.0/24")
	ctx := context.Background()
	if _, err := cs.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "host", Namespace: "default"},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "sleep", Command: []string{"sleep", "300"}}}}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, "the pod running", func() bool {
		p, err := cs.CoreV1().Pods("default").Get(ctx, "host", metav1.GetOptions{})
		if err == nil && p.Status.Phase != corev1.PodRunning {
			t.Logf("pod: %s %+v", p.Status.Phase, p.Status.ContainerStatuses)
		}
		return err == nil && p.Status.Phase == corev1.PodRunning
	})
	script := `[ -t 0 ] && [ -t 1 ] && echo on-a-terminal; stty size; read line; echo "typed:$line"`
	for _, v := range []string{"1.27", "1.29", "1.33"} {
		t.Run(v, func(t *testing.T) {
			k := &kctl{t: t, bin: kubectlBin(t, v), home: t.TempDir(), cfg: srv.KubeconfigPath(), dir: t.TempDir()}
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			cmd := k.cmd(cctx, "", "exec", "-it", "host", "--", "sh", "-c", script)
			term, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
			if err != nil {
				t.Fatal(err)
			}
			defer term.Close()
			var mu sync.Mutex
			var seen strings.Builder
			done := make(chan struct{})
			go func() {
				defer close(done)
				b := make([]byte, 4096)
				for {
					n, err := term.Read(b)
					mu.Lock()
					seen.Write(b[:n])
					mu.Unlock()
					if err != nil {
						return // EIO once kubectl exits
					}
				}
			}()
			output := func() string {
				mu.Lock()
				defer mu.Unlock()
				return seen.String()
			}
			// Type once the remote shell has told its size (it then
			// reads the line).
			testenv.Eventually(t, 20*time.Second, "the remote terminal's size", func() bool { return strings.Contains(output(), "30 100") })
			if _, err := term.Write([]byte("hello\r")); err != nil {
				t.Fatal(err)
			}
			err = cmd.Wait()
			<-done
			got := output()
			if err != nil {
				t.Fatalf("kubectl exec -it: %v\n%s", err, got)
			}
			for _, w := range []string{"on-a-terminal", "30 100", "typed:hello"} {
				if !strings.Contains(got, w) {
					t.Errorf("kubectl exec -it output %q lacks %q", got, w)
				}
			}
		})
	}

	// attach -i: a container that keeps its stdin open reads what each
	// attached client types, one client after another.
	if _, err := cs.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "reader", Namespace: "default"},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "sh", Stdin: true,
			Command: []string{"sh", "-c", `while read line; do echo "read:$line"; done`}}}}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, "the reader running", func() bool {
		p, err := cs.CoreV1().Pods("default").Get(ctx, "reader", metav1.GetOptions{})
		return err == nil && p.Status.Phase == corev1.PodRunning
	})
	for _, v := range []string{"1.27", "1.29", "1.33"} {
		t.Run("attach "+v, func(t *testing.T) {
			k := &kctl{t: t, bin: kubectlBin(t, v), home: t.TempDir(), cfg: srv.KubeconfigPath(), dir: t.TempDir()}
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			cmd := k.cmd(cctx, "", "attach", "-i", "reader")
			in, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var out strings.Builder
			cmd.Stdout = writerFunc(func(b []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return out.Write(b) })
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
			want := "read:from-" + v
			testenv.Eventually(t, 20*time.Second, "the line read back", func() bool {
				// attach shows output from when it is attached: type until
				// a line comes back
				_, _ = in.Write([]byte("from-" + v + "\n"))
				mu.Lock()
				defer mu.Unlock()
				return strings.Contains(out.String(), want)
			})
		})
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
