package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/kube/controller"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

const rolloutDaemonSetYAML = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: c
        image: nginx:1.25
`

const rolloutStatefulSetYAML = `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  replicas: 2
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: c
        image: nginx:1.25
`

// TestRolloutHistoryAndUndoWithKubectl: DaemonSets and StatefulSets keep
// ControllerRevisions, so kubectl lists their history, shows one
// revision's template, and undoes to the previous revision and to a
// chosen one (the restored revision is renumbered, as upstream).
func TestRolloutHistoryAndUndoWithKubectl(t *testing.T) {
	c := startCluster(t, controller.Options{})
	timing := agent.Timing{LeaseDuration: 2 * time.Second, RenewInterval: 200 * time.Millisecond}
	stopWithTimeout(t, "sim-rollout", c.addAgent(t, "sim-rollout", sim.New(sim.Options{}), timing).Stop)
	for _, v := range []string{"1.27", "1.33"} {
		t.Run(v, func(t *testing.T) {
			bin := testenv.LookPath(t, "/usr/lib/google-cloud-sdk/bin/kubectl."+v, "the Google Cloud SDK's versioned kubectl binaries")
			k := &kubectl{t: t, bin: bin, kubeconfig: c.srv.KubeconfigPath(), home: t.TempDir()}
			ns := "v" + strings.ReplaceAll(v, ".", "-")
			k.must("create", "namespace", ns)
			kn := func(args ...string) string { return k.must(append([]string{"-n", ns}, args...)...) }
			for _, tc := range []struct{ obj, manifest, podSel string }{
				{"daemonset/agent", rolloutDaemonSetYAML, "app=agent"},
				{"statefulset/db", rolloutStatefulSetYAML, "app=db"},
			} {
				t.Log(tc.obj)
				if out, err := k.runIn(tc.manifest, "-n", ns, "apply", "-f", "-"); err != nil {
					t.Fatalf("apply: %v\n%s", err, out)
				}
				kn("rollout", "status", tc.obj, "--timeout=60s")
				kn("set", "image", tc.obj, "c=nginx:1.26")
				kn("rollout", "status", tc.obj, "--timeout=60s")
				out := kn("rollout", "history", tc.obj)
				if !strings.Contains(out, "REVISION") || countRevisions(out) != "1 2" {
					t.Fatalf("history after one update:\n%s", out)
				}
				if out := kn("rollout", "history", tc.obj, "--revision=1"); !strings.Contains(out, "nginx:1.25") {
					t.Errorf("revision 1's template:\n%s", out)
				}
				kn("rollout", "undo", tc.obj)
				kn("rollout", "status", tc.obj, "--timeout=60s")
				if got := kn("get", tc.obj, "-o", "jsonpath={.spec.template.spec.containers[0].image}"); got != "nginx:1.25" {
					t.Errorf("after undo: image %q", got)
				}
				if out := kn("rollout", "history", tc.obj); countRevisions(out) != "2 3" {
					t.Errorf("history after undo (revision 1 renumbered 3):\n%s", out)
				}
				k.eventually(60*time.Second, "pods back on the first template", func(out string) bool {
					imgs := strings.Fields(out)
					if len(imgs) == 0 {
						return false
					}
					for _, i := range imgs {
						if i != "nginx:1.25" {
							return false
						}
					}
					return true
				}, "-n", ns, "get", "pods", "-l", tc.podSel, "-o", "jsonpath={.items[*].spec.containers[0].image}")
				kn("rollout", "undo", tc.obj, "--to-revision=2")
				if got := kn("get", tc.obj, "-o", "jsonpath={.spec.template.spec.containers[0].image}"); got != "nginx:1.26" {
					t.Errorf("after undo to revision 2: image %q", got)
				}
				k.eventually(10*time.Second, "revision 2 renumbered 4", func(out string) bool { return countRevisions(out) == "3 4" },
					"-n", ns, "rollout", "history", tc.obj)
				if out := kn("rollout", "undo", tc.obj, "--to-revision=4"); !strings.Contains(out, "skipped rollback (current template already matches revision 4)") {
					t.Errorf("undo to the current revision:\n%s", out)
				}
				if out, err := k.run("-n", ns, "rollout", "undo", tc.obj, "--to-revision=9"); err == nil || !strings.Contains(out, "unable to find specified revision 9 in history") {
					t.Errorf("undo to a missing revision: %v\n%s", err, out)
				}
			}
		})
	}
}

// countRevisions is the REVISION column of `kubectl rollout history`.
func countRevisions(out string) string {
	var revs []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && f[0] != "REVISION" && strings.Trim(f[0], "0123456789") == "" {
			revs = append(revs, f[0])
		}
	}
	return strings.Join(revs, " ")
}
