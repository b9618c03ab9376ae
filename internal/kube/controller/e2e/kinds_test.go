package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/kube/controller"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

const indexedJobYAML = `apiVersion: batch/v1
kind: Job
metadata:
  name: indexed
spec:
  completions: 3
  parallelism: 2
  completionMode: Indexed
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: work
        image: busybox
`

const failingJobYAML = `apiVersion: batch/v1
kind: Job
metadata:
  name: failing
spec:
  backoffLimit: 1
  template:
    metadata:
      annotations:
        sim.stratus.io/exit-code: "3"
    spec:
      restartPolicy: Never
      containers:
      - name: work
        image: busybox
`

const ttlJobYAML = `apiVersion: batch/v1
kind: Job
metadata:
  name: short-lived
spec:
  ttlSecondsAfterFinished: 0
  template:
    spec:
      restartPolicy: OnFailure
      containers:
      - name: work
        image: busybox
`

// TestJobsAndCascadesWithKubectl: Jobs run to completion under the sim
// runtime (plain, indexed, failing, with a TTL) and deletes cascade in each
// of the three modes, driven by kubectl 1.27, 1.29 and 1.33 with their
// default validation.
func TestJobsAndCascadesWithKubectl(t *testing.T) {
	c := startCluster(t, controller.Options{})
	timing := agent.Timing{LeaseDuration: 2 * time.Second, RenewInterval: 200 * time.Millisecond}
	a := c.addAgent(t, "sim-jobs", sim.New(sim.Options{CompleteAfter: 200 * time.Millisecond}), timing)
	stopWithTimeout(t, "sim-jobs", a.Stop)
	for _, v := range []string{"1.27", "1.29", "1.33"} {
		t.Run(v, func(t *testing.T) {
			bin := testenv.LookPath(t, "/usr/lib/google-cloud-sdk/bin/kubectl."+v, "the Google Cloud SDK's versioned kubectl binaries")
			k := &kubectl{t: t, bin: bin, kubeconfig: c.srv.KubeconfigPath(), home: t.TempDir()}
			ns := "v" + strings.ReplaceAll(v, ".", "-")
			k.must("create", "namespace", ns)
			kn := func(args ...string) string { return k.must(append([]string{"-n", ns}, args...)...) }
			apply := func(manifest string) {
				t.Helper()
				if out, err := k.runIn(manifest, "-n", ns, "apply", "-f", "-"); err != nil {
					t.Fatalf("apply: %v\n%s", err, out)
				}
			}

			t.Log("kubectl create job completes")
			kn("create", "job", "hello", "--image=busybox", "--", "echo", "hi")
			kn("wait", "--for=condition=complete", "job/hello", "--timeout=30s")
			out := kn("get", "job", "hello")
			for _, w := range []string{"STATUS", "COMPLETIONS", "Complete", "1/1"} {
				if !strings.Contains(out, w) {
					t.Errorf("get job: lacks %q:\n%s", w, out)
				}
			}
			if got := kn("get", "pods", "-l", "job-name=hello", "-o", "jsonpath={.items[*].status.phase}"); got != "Succeeded" {
				t.Errorf("job pod phase %q", got)
			}

			t.Log("indexed job: each index once")
			apply(indexedJobYAML)
			kn("wait", "--for=condition=complete", "job/indexed", "--timeout=30s")
			if got := kn("get", "job", "indexed", "-o", "jsonpath={.status.completedIndexes} {.status.succeeded}"); got != "0-2 3" {
				t.Errorf("indexed job: completedIndexes and succeeded %q", got)
			}
			if got := kn("get", "pods", "-l", "batch.kubernetes.io/job-completion-index=2", "-o", "jsonpath={.items[0].spec.hostname}"); got != "indexed-2" {
				t.Errorf("index 2's hostname %q", got)
			}

			t.Log("failing job: backoffLimit")
			apply(failingJobYAML)
			kn("wait", "--for=condition=failed", "job/failing", "--timeout=30s")
			if got := kn("get", "job", "failing", "-o", `jsonpath={.status.failed} {.status.conditions[?(@.type=="Failed")].reason}`); got != "2 BackoffLimitExceeded" {
				t.Errorf("failing job: %q", got)
			}

			t.Log("ttlSecondsAfterFinished: 0 deletes the finished job")
			apply(ttlJobYAML)
			k.eventually(30*time.Second, "short-lived job deleted", func(out string) bool { return strings.TrimSpace(out) == "" },
				"-n", ns, "get", "jobs", "--field-selector=metadata.name=short-lived", "-o", "name")

			t.Log("delete in each cascade mode")
			for _, mode := range []string{"background", "foreground", "orphan"} {
				name := "cascade-" + mode
				kn("create", "deployment", name, "--image=nginx", "--replicas=2")
				k.eventually(30*time.Second, name+" replica set", func(out string) bool { return countLines(out) == 1 },
					"-n", ns, "get", "rs", "-l", "app="+name, "-o", "name")
				kn("delete", "deployment", name, "--cascade="+mode, "--timeout=30s")
				want := 0
				if mode == "orphan" {
					want = 1
				}
				k.eventually(30*time.Second, fmt.Sprintf("%s: %d replica sets left", name, want), func(out string) bool { return countLines(out) == want },
					"-n", ns, "get", "rs", "-l", "app="+name, "-o", "name")
				if mode == "orphan" {
					if refs := kn("get", "rs", "-l", "app="+name, "-o", "jsonpath={.items[0].metadata.ownerReferences}"); refs != "" {
						t.Errorf("orphaned replica set still owned: %s", refs)
					}
				}
			}
			// A kind the collector did not know before: a ConfigMap owned by a Job.
			kn("create", "configmap", "orphan-cm")
			kn("delete", "configmap", "orphan-cm", "--cascade=orphan", "--timeout=30s")
			kn("delete", "jobs", "--all", "--cascade=foreground", "--timeout=30s")
		})
	}
}
