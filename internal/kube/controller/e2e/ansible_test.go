package e2e

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/kube/controller"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestAnsibleKubernetesCore runs Ansible's kubernetes.core modules (Debian
// ansible with Debian's python3-kubernetes) as a playbook user would
// (testdata/ansible-k8s.yml): k8s with wait and idempotence, k8s_service,
// k8s_info waiting for Ready, k8s_scale (a strategic merge patch naming
// the parent's kind on the scale subresource), k8s_exec, k8s_log,
// k8s_cluster_info, k8s_json_patch, k8s_taint, k8s_drain, k8s_cp and a
// namespace deletion waited for.
func TestAnsibleKubernetesCore(t *testing.T) {
	bin := testenv.LookPath(t, "ansible-playbook", "apt-get install ansible")
	_, err := os.Stat("/usr/lib/python3/dist-packages/ansible_collections/kubernetes/core/plugins/modules/k8s_scale.py")
	testenv.Need(t, err == nil, "ansible's kubernetes.core collection missing (install: apt-get install ansible)")
	err = exec.Command("/usr/bin/python3", "-c", "import kubernetes").Run()
	testenv.Need(t, err == nil, "Debian's python3-kubernetes is not installed (apt-get install python3-kubernetes)")
	c := startCluster(t, controller.Options{})
	timing := agent.Timing{LeaseDuration: 2 * time.Second, RenewInterval: 200 * time.Millisecond}
	a := c.addAgent(t, "sim-ansible", sim.New(sim.Options{}), timing)
	stopWithTimeout(t, "sim-ansible", a.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-i", "localhost,", "-e", "ansible_python_interpreter=/usr/bin/python3", "testdata/ansible-k8s.yml")
	cmd.Env = append(os.Environ(), "K8S_AUTH_KUBECONFIG="+c.srv.KubeconfigPath(), "HOME="+t.TempDir(), "ANSIBLE_LOCAL_TEMP="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "failed=0") {
		t.Fatalf("ansible-playbook: %v\n%s", err, out)
	}
}
