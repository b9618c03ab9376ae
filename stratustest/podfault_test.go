package stratustest_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/stratus-cloud/stratus/internal/testenv"
	"github.com/stratus-cloud/stratus/stratustest"
)

// writeKubeconfig writes cfg as a kubeconfig file for kubectl.
func writeKubeconfig(t *testing.T, cfg *rest.Config) string {
	t.Helper()
	c := clientcmdapi.NewConfig()
	c.Clusters["s"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthority: cfg.CAFile, CertificateAuthorityData: cfg.CAData}
	c.AuthInfos["s"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken, ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	c.Contexts["s"] = &clientcmdapi.Context{Cluster: "s", AuthInfo: "s"}
	c.CurrentContext = "s"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*c, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPodCrashFault: a pod-crash fault makes the matching pod's container
// exit at once, and kubectl shows it in CrashLoopBackOff with the fault's
// exit code; a pod-image-pull fault's pod waits in ErrImagePull; a pod
// neither matches runs.
func TestPodCrashFault(t *testing.T) {
	kubectl := testenv.LookPath(t, "kubectl", "the Google Cloud SDK's kubectl, or a kubectl release")
	s := stratustest.Start(t, stratustest.WithSimNodes(1))
	ctx := context.Background()
	id, err := s.AddFault(ctx, stratustest.Fault{Kind: "pod-crash", Namespace: "default", Name: "crashy", ExitCode: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddFault(ctx, stratustest.Fault{Kind: "pod-crash", Verb: "get"}); err == nil {
		t.Error("a pod fault with a verb was taken")
	}
	if _, err := s.AddFault(ctx, stratustest.Fault{Kind: "pod-image-pull", Namespace: "default", Name: "pully"}); err != nil {
		t.Fatal(err)
	}
	kc := kubernetes.NewForConfigOrDie(s.KubeConfig)
	for _, name := range []string{"crashy", "steady", "pully"} {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}
		if _, err := kc.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	kcfg := writeKubeconfig(t, s.KubeConfig)
	var out string
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := exec.Command(kubectl, "--kubeconfig", kcfg, "get", "pods", "--no-headers").CombinedOutput()
		out = string(b)
		if err == nil && strings.Contains(out, "CrashLoopBackOff") && strings.Contains(out, "Running") && strings.Contains(out, "ErrImagePull") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kubectl get pods never showed crashy in CrashLoopBackOff, pully in ErrImagePull beside steady Running: %v\n%s", err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && (f[0] == "crashy" && f[2] != "CrashLoopBackOff" || f[0] == "steady" && f[2] != "Running" || f[0] == "pully" && f[2] != "ErrImagePull" && f[2] != "ImagePullBackOff") {
			t.Errorf("kubectl get pods: %q", line)
		}
	}
	p, err := kc.CoreV1().Pods("default").Get(ctx, "crashy", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cs := p.Status.ContainerStatuses; len(cs) != 1 || cs[0].LastTerminationState.Terminated == nil || cs[0].LastTerminationState.Terminated.ExitCode != 3 {
		t.Errorf("crashy's container status: %+v", cs)
	}
	if err := s.RemoveFault(ctx, id); err != nil {
		t.Fatal(err)
	}
}
