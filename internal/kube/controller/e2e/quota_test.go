package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/kube/controller"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

const quotaYAML = `apiVersion: v1
kind: LimitRange
metadata:
  name: defaults
spec:
  limits:
  - type: Container
    default: {cpu: 200m}
    defaultRequest: {cpu: 100m}
    max: {cpu: "1"}
---
apiVersion: v1
kind: ResourceQuota
metadata:
  name: compute
spec:
  hard:
    pods: "2"
    requests.cpu: 300m
    count/configmaps: "3"
`

const bigPodYAML = `apiVersion: v1
kind: Pod
metadata:
  name: big
spec:
  containers:
  - name: c
    image: nginx
    resources:
      limits: {cpu: "2"}
`

// TestQuotaAndLimitRangeWithKubectl: a LimitRange fills in a pod's
// requests and limits and refuses one over its max; a ResourceQuota
// refuses what would exceed it with the API's 403 text, shows its usage,
// and lets a pod in once another is gone. kubectl 1.27 and 1.33.
func TestQuotaAndLimitRangeWithKubectl(t *testing.T) {
	c := startCluster(t, controller.Options{})
	for _, v := range []string{"1.27", "1.33"} {
		t.Run(v, func(t *testing.T) {
			bin := testenv.LookPath(t, "/usr/lib/google-cloud-sdk/bin/kubectl."+v, "the Google Cloud SDK's versioned kubectl binaries")
			k := &kubectl{t: t, bin: bin, kubeconfig: c.srv.KubeconfigPath(), home: t.TempDir()}
			ns := "v" + strings.ReplaceAll(v, ".", "-")
			k.must("create", "namespace", ns)
			kn := func(args ...string) string { return k.must(append([]string{"-n", ns}, args...)...) }
			if out, err := k.runIn(quotaYAML, "-n", ns, "apply", "-f", "-"); err != nil {
				t.Fatalf("apply: %v\n%s", err, out)
			}

			kn("run", "p1", "--image=nginx")
			got := kn("get", "pod", "p1", "-o", `jsonpath={.spec.containers[0].resources.requests.cpu} {.spec.containers[0].resources.limits.cpu} {.metadata.annotations.kubernetes\.io/limit-ranger}`)
			if got != "100m 200m LimitRanger plugin set: cpu request for container p1; cpu limit for container p1" {
				t.Errorf("defaults: %q", got)
			}
			if out, err := k.runIn(bigPodYAML, "-n", ns, "create", "-f", "-"); err == nil ||
				!strings.Contains(out, `pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2`) {
				t.Errorf("over the max: %v\n%s", err, out)
			}
			kn("run", "p2", "--image=nginx")
			out, err := k.run("-n", ns, "run", "p3", "--image=nginx")
			want := `Error from server (Forbidden): pods "p3" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2`
			if err == nil || !strings.Contains(out, want) {
				t.Errorf("over the quota: %v\n%s\nwant %s", err, out, want)
			}
			for i := range 4 {
				_, err := k.run("-n", ns, "create", "configmap", "cm"+string(rune('a'+i)))
				if (err != nil) != (i == 3) {
					t.Errorf("configmap %d: %v", i, err)
				}
			}
			k.eventually(20*time.Second, "usage in status", func(out string) bool {
				return strings.Contains(out, "count/configmaps: 3/3") && strings.Contains(out, "pods: 2/2") && strings.Contains(out, "requests.cpu: 200m/300m")
			}, "-n", ns, "get", "quota", "compute")
			out = kn("describe", "quota", "compute")
			for _, w := range []string{"Resource", "Used", "Hard", "requests.cpu", "200m", "300m"} {
				if !strings.Contains(out, w) {
					t.Errorf("describe quota lacks %q:\n%s", w, out)
				}
			}
			kn("delete", "pod", "p1", "--grace-period=0", "--force")
			k.eventually(20*time.Second, "room again", func(string) bool { return true }, "-n", ns, "run", "p3", "--image=nginx")

			t.Log("a quota on cpu without defaults wants requests")
			k.must("create", "namespace", ns+"-bare")
			k.must("-n", ns+"-bare", "create", "quota", "q", "--hard=requests.cpu=1,limits.cpu=1")
			out, err = k.run("-n", ns+"-bare", "run", "naked", "--image=nginx")
			if want := `pods "naked" is forbidden: failed quota: q: must specify limits.cpu for: naked; requests.cpu for: naked`; err == nil || !strings.Contains(out, want) {
				t.Errorf("no requests: %v\n%s\nwant %s", err, out, want)
			}
		})
	}
}
