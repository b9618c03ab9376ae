package apiserver_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// pythonWatch is Debian's python3-kubernetes driving a watch the way its
// users write one: watch.Watch().stream sends watch=True, which the real
// server decodes as a watch (anything but "false" and "0" is true).
const pythonWatch = `
import sys
from kubernetes import client, config, watch
config.load_kube_config(sys.argv[1])
v1 = client.CoreV1Api()
v1.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-watched"), data={"a": "1"}))
w = watch.Watch()
for ev in w.stream(v1.list_namespaced_config_map, "default", timeout_seconds=10):
    if ev["type"] == "ADDED" and ev["object"].metadata.name == "py-watched":
        print("saw", ev["type"], ev["object"].data["a"])
        w.stop()
        break
v1.delete_namespaced_config_map("py-watched", "default", body=client.V1DeleteOptions(propagation_policy="Background", grace_period_seconds=0))
print("deleted")
`

func TestPythonClientWatch(t *testing.T) {
	py := "/usr/bin/python3" // Debian's, with Debian's client (not a pyenv one on PATH)
	if err := exec.Command(py, "-c", "import kubernetes").Run(); err != nil {
		testenv.Need(t, false, "Debian's python3-kubernetes is not installed (apt-get install python3-kubernetes)")
	}
	srv := apiservertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "-c", pythonWatch, srv.KubeconfigPath()).CombinedOutput()
	if err != nil {
		t.Fatalf("python client: %v\n%s", err, out)
	}
	if got := string(out); !strings.Contains(got, "saw ADDED 1") || !strings.Contains(got, "deleted") {
		t.Fatalf("python client printed:\n%s", got)
	}
}

// pythonScale is the Python client's dynamic scale patch as Ansible's
// kubernetes.core.k8s_scale sends it: a strategic merge patch on the scale
// subresource whose body names the parent's kind.
const pythonScale = `
import sys
from kubernetes import client, config, dynamic
dyn = dynamic.DynamicClient(config.new_client_from_config(sys.argv[1]))
deps = dyn.resources.get(api_version="apps/v1", kind="Deployment")
deps.create(namespace="default", body={"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "py-scaled"},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "py"}},
             "template": {"metadata": {"labels": {"app": "py"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
deps.scale.patch(body={"kind": "Deployment", "metadata": {"name": "py-scaled", "namespace": "default"}, "spec": {"replicas": 3}})
print("replicas", deps.get(name="py-scaled", namespace="default").spec.replicas)
`

func TestPythonClientScalePatch(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import kubernetes").Run(); err != nil {
		testenv.Need(t, false, "Debian's python3-kubernetes is not installed (apt-get install python3-kubernetes)")
	}
	srv := apiservertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "-c", pythonScale, srv.KubeconfigPath()).CombinedOutput()
	if err != nil {
		t.Fatalf("python client: %v\n%s", err, out)
	}
	if got := string(out); !strings.Contains(got, "replicas 3") {
		t.Fatalf("python client printed:\n%s", got)
	}
}
