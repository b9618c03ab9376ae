package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/kube/controller"
	"github.com/stratus-cloud/stratus/internal/runtime/exec"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

const claimAndPodYAML = `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
---
apiVersion: v1
kind: Pod
metadata:
  name: user
spec:
  nodeSelector:
    kubernetes.io/hostname: exec-vol
  containers:
  - name: main
    image: busybox
    command: [sleep, "3600"]
    volumeMounts:
    - name: data
      mountPath: /data
  volumes:
  - name: data
    persistentVolumeClaim:
      claimName: data
`

const volumeStatefulSetYAML = `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: web
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      nodeSelector:
        kubernetes.io/hostname: sim-vol
      containers:
      - name: nginx
        image: nginx
        volumeMounts:
        - name: www
          mountPath: /usr/share/nginx/html
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 100Mi
`

const staticVolumeYAML = `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: manual
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: Immediate
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: small
spec:
  storageClassName: manual
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /tmp/small}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: static
spec:
  storageClassName: manual
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 500Mi
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: toobig
spec:
  storageClassName: manual
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 5Gi
---
apiVersion: v1
kind: Pod
metadata:
  name: waits
spec:
  containers:
  - name: main
    image: busybox
  volumes:
  - name: data
    persistentVolumeClaim:
      claimName: toobig
`

// TestVolumesWithKubectl: the default StorageClass exists, a claim waits
// for its first consumer, is provisioned (a real directory for an exec
// node, a simulated volume for a sim node) and bound on the node the
// scheduler chose; StatefulSet claims bind; a static volume binds an
// Immediate claim; a pod whose Immediate claim cannot bind stays Pending
// with the scheduler's message; deleting a claim deletes its volume and
// directory. Driven by kubectl 1.27 and 1.33.
func TestVolumesWithKubectl(t *testing.T) {
	volDir := t.TempDir()
	c := startCluster(t, controller.Options{VolumeDir: volDir})
	timing := agent.Timing{LeaseDuration: 2 * time.Second, RenewInterval: 200 * time.Millisecond}
	stopWithTimeout(t, "sim-vol", c.addAgent(t, "sim-vol", sim.New(sim.Options{}), timing).Stop)
	stopWithTimeout(t, "exec-vol", c.addAgent(t, "exec-vol", exec.New(exec.Options{Dir: t.TempDir()}), timing).Stop)
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

			out := k.eventually(10*time.Second, "default storage class", func(out string) bool { return strings.Contains(out, "standard (default)") },
				"get", "storageclass")
			for _, w := range []string{"stratus.io/hostpath", "Delete", "WaitForFirstConsumer"} {
				if !strings.Contains(out, w) {
					t.Errorf("get storageclass lacks %q:\n%s", w, out)
				}
			}

			t.Log("a claim waits for its first consumer")
			apply(strings.SplitN(claimAndPodYAML, "---", 2)[0])
			k.eventually(10*time.Second, "WaitForFirstConsumer event", func(out string) bool {
				return strings.Contains(out, "waiting for first consumer to be created before binding")
			}, "-n", ns, "describe", "pvc", "data")
			if got := kn("get", "pvc", "data", "-o", "jsonpath={.status.phase} {.spec.storageClassName}"); got != "Pending standard" {
				t.Errorf("claim before its pod: %q", got)
			}

			t.Log("its pod is scheduled, the claim provisioned and bound")
			apply(claimAndPodYAML)
			kn("wait", "--for=jsonpath={.status.phase}=Bound", "pvc/data", "--timeout=30s")
			kn("wait", "--for=condition=PodScheduled", "pod/user", "--timeout=30s")
			got := kn("get", "pvc", "data", "-o", `jsonpath={.spec.volumeName} {.metadata.annotations.volume\.kubernetes\.io/selected-node} {.status.capacity.storage}`)
			f := strings.Fields(got)
			if len(f) != 3 || !strings.HasPrefix(f[0], "pvc-") || f[1] != "exec-vol" || f[2] != "1Gi" {
				t.Fatalf("bound claim: %q", got)
			}
			pv := f[0]
			out = k.must("get", "pv", pv)
			for _, w := range []string{"1Gi", "RWO", "Delete", "Bound", ns + "/data", "standard"} {
				if !strings.Contains(out, w) {
					t.Errorf("get pv lacks %q:\n%s", w, out)
				}
			}
			if fi, err := os.Stat(filepath.Join(volDir, pv)); err != nil || !fi.IsDir() {
				t.Errorf("exec node's volume directory: %v", err)
			}
			if got := kn("get", "pod", "user", "-o", "jsonpath={.spec.nodeName}"); got != "exec-vol" {
				t.Errorf("pod on %q", got)
			}
			out = kn("describe", "pvc", "data")
			for _, w := range []string{"ProvisioningSucceeded", "Successfully provisioned volume " + pv, "stratus.io/hostpath"} {
				if !strings.Contains(out, w) {
					t.Errorf("describe pvc lacks %q:\n%s", w, out)
				}
			}

			t.Log("a StatefulSet's claims bind (simulated volumes on a sim node)")
			apply(volumeStatefulSetYAML)
			k.eventually(60*time.Second, "both claims bound, in order", func(out string) bool { return strings.TrimSpace(out) == "www-web-0=Bound www-web-1=Bound" },
				"-n", ns, "get", "pvc", "-l", "app=web", "-o", `jsonpath={range .items[*]}{.metadata.name}={.status.phase}{" "}{end}`)
			k.eventually(60*time.Second, "web-1 ready", func(out string) bool { return out == "True" },
				"-n", ns, "get", "pod", "web-1", "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
			sv := kn("get", "pvc", "www-web-0", "-o", "jsonpath={.spec.volumeName}")
			if got := k.must("get", "pv", sv, "-o", `jsonpath={.metadata.annotations.volume\.stratus\.io/simulated}`); got != "true" {
				t.Errorf("sim node's volume simulated = %q", got)
			}
			if _, err := os.Stat(filepath.Join(volDir, sv)); !os.IsNotExist(err) {
				t.Errorf("a simulated volume has a directory: %v", err)
			}

			t.Log("a static volume binds an Immediate claim; a claim nothing fits keeps its pod Pending")
			if v == "1.27" {
				apply(staticVolumeYAML)
				kn("wait", "--for=jsonpath={.status.phase}=Bound", "pvc/static", "--timeout=30s")
				if got := k.must("get", "pv", "small", "-o", "jsonpath={.status.phase} {.spec.claimRef.name}"); got != "Bound static" {
					t.Errorf("static volume: %q", got)
				}
				k.eventually(20*time.Second, "unbound immediate claim", func(out string) bool {
					return strings.Contains(out, "pod has unbound immediate PersistentVolumeClaims")
				}, "-n", ns, "get", "pod", "waits", "-o", `jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}`)
				if got := kn("get", "pvc", "toobig", "-o", "jsonpath={.status.phase}"); got != "Pending" {
					t.Errorf("toobig: %q", got)
				}
			}

			t.Log("deleting the claim deletes its volume and directory")
			kn("delete", "pod", "user", "--grace-period=0", "--force")
			kn("delete", "pvc", "data")
			k.eventually(30*time.Second, "volume deleted", func(out string) bool { return strings.TrimSpace(out) == "" },
				"get", "pv", "--field-selector=metadata.name="+pv, "-o", "name")
			if _, err := os.Stat(filepath.Join(volDir, pv)); !os.IsNotExist(err) {
				t.Errorf("volume directory after delete: %v", err)
			}
		})
	}
}
