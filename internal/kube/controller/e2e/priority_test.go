package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/kube/controller"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestPriorityAndPreemptionWithKubectl: the system classes exist; a pod
// takes its class's priority (an unknown class is refused with the API's
// text); a high-priority pod that fits nowhere preempts a low-priority
// one and runs in its place, and the preempted pod's replacement waits.
func TestPriorityAndPreemptionWithKubectl(t *testing.T) {
	c := startCluster(t, controller.Options{})
	timing := agent.Timing{LeaseDuration: 2 * time.Second, RenewInterval: 200 * time.Millisecond}
	stopWithTimeout(t, "sim-prio", c.addAgent(t, "sim-prio", sim.New(sim.Options{}), timing).Stop)
	bin := testenv.LookPath(t, "/usr/lib/google-cloud-sdk/bin/kubectl.1.33", "the Google Cloud SDK's versioned kubectl binaries")
	k := &kubectl{t: t, bin: bin, kubeconfig: c.srv.KubeconfigPath(), home: t.TempDir()}
	if out := k.must("get", "priorityclass"); !strings.Contains(out, "system-node-critical") || !strings.Contains(out, "2000000000") {
		t.Errorf("get priorityclass:\n%s", out)
	}
	k.must("create", "priorityclass", "low", "--value=100")
	k.must("create", "priorityclass", "high", "--value=1000")
	if out, err := k.runIn(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"spec":{"priorityClassName":"nope","containers":[{"name":"c","image":"nginx"}]}}`, "create", "-f", "-"); err == nil ||
		!strings.Contains(out, `pods "x" is forbidden: no PriorityClass with name nope was found`) {
		t.Errorf("unknown class: %v\n%s", err, out)
	}
	k.eventually(20*time.Second, "node", func(out string) bool { return strings.TrimSpace(out) != "" },
		"get", "node", "sim-prio", "-o", "jsonpath={.status.allocatable.cpu}")
	alloc := resource.MustParse(k.must("get", "node", "sim-prio", "-o", "jsonpath={.status.allocatable.cpu}"))
	req := strconv.FormatInt(alloc.MilliValue()*45/100, 10) + "m"
	podSpec := func(class string) string {
		return fmt.Sprintf(`{"priorityClassName":%q,"containers":[{"name":"c","image":"nginx","resources":{"requests":{"cpu":%q}}}]}`, class, req)
	}
	dep := fmt.Sprintf(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"low"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"low"}},"template":{"metadata":{"labels":{"app":"low"}},"spec":%s}}}`, podSpec("low"))
	if out, err := k.runIn(dep, "apply", "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	k.must("rollout", "status", "deployment/low", "--timeout=60s")
	if got := k.must("get", "pods", "-l", "app=low", "-o", "jsonpath={.items[0].spec.priority}"); got != "100" {
		t.Errorf("low pod's priority %q", got)
	}
	vip := fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"vip"},"spec":%s}`, podSpec("high"))
	if out, err := k.runIn(vip, "create", "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	k.must("wait", "--for=condition=Ready", "pod/vip", "--timeout=60s")
	k.eventually(20*time.Second, "a Preempted event", func(out string) bool { return strings.Contains(out, "Preempted by pod") },
		"get", "events", "--field-selector=reason=Preempted")
	k.eventually(30*time.Second, "one low pod running, its replacement pending", func(out string) bool {
		f := strings.Fields(out)
		running, pending := 0, 0
		for _, s := range f {
			switch s {
			case "Running":
				running++
			case "Pending":
				pending++
			}
		}
		return running == 1 && pending == 1
	}, "get", "pods", "-l", "app=low", "-o", "jsonpath={.items[*].status.phase}")
}
