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

const busyDeploymentYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: busy
spec:
  replicas: 1
  selector:
    matchLabels: {app: busy}
  template:
    metadata:
      labels: {app: busy}
      annotations:
        sim.stratus.io/cpu-usage: 200m
    spec:
      containers:
      - name: c
        image: nginx
        resources:
          requests: {cpu: 100m}
`

const busyHPAYAML = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: busy
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: busy}
  minReplicas: 1
  maxReplicas: 5
  metrics:
  - type: Resource
    resource:
      name: cpu
      target: {type: Utilization, averageUtilization: 50}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 0
`

// TestHorizontalPodAutoscalerWithKubectl: an autoscaler (made by `kubectl
// autoscale` with 1.33, applied as autoscaling/v2 with 1.27) reads the
// simulated CPU use from metrics.k8s.io, shows it in `kubectl get hpa`,
// scales the Deployment up within the rate policy to its maximum, and,
// once the pods are idle, back down to its minimum.
func TestHorizontalPodAutoscalerWithKubectl(t *testing.T) {
	c := startCluster(t, controller.Options{HPASyncPeriod: 300 * time.Millisecond})
	timing := agent.Timing{LeaseDuration: 2 * time.Second, RenewInterval: 200 * time.Millisecond}
	stopWithTimeout(t, "sim-hpa", c.addAgent(t, "sim-hpa", sim.New(sim.Options{}), timing).Stop)
	for _, v := range []string{"1.27", "1.33"} {
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
			apply(busyDeploymentYAML)
			kn("rollout", "status", "deployment/busy", "--timeout=60s")
			if v == "1.33" {
				kn("autoscale", "deployment", "busy", "--cpu-percent=50", "--min=1", "--max=5")
			} else {
				apply(busyHPAYAML)
			}
			k.eventually(30*time.Second, "targets shown", func(out string) bool { return strings.Contains(out, "cpu: 200%/50%") },
				"-n", ns, "get", "hpa", "busy")
			out := k.eventually(60*time.Second, "scaled to the maximum", func(out string) bool {
				f := strings.Fields(out)
				return len(f) > 0 && f[len(f)-2] == "5"
			}, "-n", ns, "get", "hpa", "busy", "--no-headers")
			if !strings.Contains(out, "Deployment/busy") {
				t.Errorf("get hpa: %s", out)
			}
			if got := kn("get", "deployment", "busy", "-o", "jsonpath={.spec.replicas}"); got != "5" {
				t.Errorf("deployment replicas %s", got)
			}
			out = kn("describe", "hpa", "busy")
			for _, w := range []string{"SuccessfulRescale", "; reason: cpu resource utilization (percentage of request) above target",
				"ScalingLimited", "TooManyReplicas", "ValidMetricFound"} {
				if !strings.Contains(out, w) {
					t.Errorf("describe hpa lacks %q:\n%s", w, out)
				}
			}
			if v == "1.27" {
				t.Log("idle pods: back to the minimum")
				kn("patch", "deployment", "busy", "-p", `{"spec":{"template":{"metadata":{"annotations":{"sim.stratus.io/cpu-usage":"5m"}}}}}`)
				k.eventually(90*time.Second, "scaled to the minimum", func(out string) bool { return strings.TrimSpace(out) == "1" },
					"-n", ns, "get", "deployment", "busy", "-o", "jsonpath={.spec.replicas}")
			}
		})
	}
}
