package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/kube/controller"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// helmVersion is the Helm the tests drive (built from the module proxy).
const helmVersion = "v4.3.2"

// helmBinary finds helm: $STRATUS_HELM, then PATH; under CI it is built
// with `go install` (the build cache keeps it for the next run).
func helmBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("STRATUS_HELM"); p != "" {
		return p
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	install := "go install helm.sh/helm/v4/cmd/helm@" + helmVersion
	testenv.Need(t, testenv.InCI(), "helm not found (set STRATUS_HELM or put it on PATH: "+install+")")
	dir := filepath.Join(os.TempDir(), "stratus-helm-"+helmVersion)
	bin := filepath.Join(dir, "helm")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	cmd := exec.Command("go", "install", "helm.sh/helm/v4/cmd/helm@"+helmVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", install, err, out)
	}
	return bin
}

// TestHelmCreateChart installs `helm create`'s chart with every option on
// (ingress, autoscaling, service account), upgrades, rolls back, runs its
// test pod (which completes under the sim runtime) and uninstalls it.
func TestHelmCreateChart(t *testing.T) {
	bin := helmBinary(t)
	c := startCluster(t, controller.Options{})
	timing := agent.Timing{LeaseDuration: 2 * time.Second, RenewInterval: 200 * time.Millisecond}
	a := c.addAgent(t, "sim-helm", sim.New(sim.Options{CompleteAfter: 200 * time.Millisecond}), timing)
	stopWithTimeout(t, "sim-helm", a.Stop)
	home, dir := t.TempDir(), t.TempDir()
	helm := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = dir
		cmd.Env = []string{"HOME=" + home, "KUBECONFIG=" + c.srv.KubeconfigPath(), "PATH=/usr/bin:/bin",
			"HELM_CACHE_HOME=" + filepath.Join(home, "cache"), "HELM_CONFIG_HOME=" + filepath.Join(home, "config"), "HELM_DATA_HOME=" + filepath.Join(home, "data")}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	k := newKubectl(t, c.srv.KubeconfigPath())
	helm("create", "web")
	opts := []string{"--set", "ingress.enabled=true", "--set", "autoscaling.enabled=true", "--set", "serviceAccount.create=true"}
	out := helm(append([]string{"install", "web", "./web"}, opts...)...)
	if !strings.Contains(out, "STATUS: deployed") {
		t.Fatalf("install:\n%s", out)
	}
	for _, kind := range []string{"deployment/web", "service/web", "serviceaccount/web", "ingress/web", "horizontalpodautoscaler/web"} {
		k.must("get", kind)
	}
	k.eventually(30*time.Second, "web deployment available", func(out string) bool { return strings.TrimSpace(out) == "1" },
		"get", "deployment", "web", "-o", "jsonpath={.status.availableReplicas}")

	helm(append([]string{"upgrade", "web", "./web", "--set", "image.tag=1.27"}, opts...)...)
	if img := k.must("get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"); !strings.HasSuffix(img, ":1.27") {
		t.Errorf("after upgrade image %q", img)
	}
	helm("rollback", "web", "1")
	if img := k.must("get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"); strings.HasSuffix(img, ":1.27") {
		t.Errorf("after rollback image %q", img)
	}
	if out := helm("history", "web"); strings.Count(out, "\n") < 4 {
		t.Errorf("history:\n%s", out)
	}
	out = helm("test", "web")
	if !strings.Contains(out, "Phase:          Succeeded") && !strings.Contains(out, "Succeeded") {
		t.Errorf("helm test:\n%s", out)
	}
	helm("uninstall", "web")
	k.eventually(30*time.Second, "chart's objects gone", func(out string) bool { return strings.TrimSpace(out) == "" },
		"get", "deployments,services,ingresses,hpa", "-l", "app.kubernetes.io/instance=web", "-o", "name")
}

// TestHelmChartWithCRD installs a chart that ships a CRD in crds/ and a
// custom resource of it in templates/ (Helm waits for the CRD to be served
// in between), a StatefulSet whose pods come up in order, upgrades the
// resource and uninstalls (the CRD stays, as Helm leaves crds/ alone).
func TestHelmChartWithCRD(t *testing.T) {
	bin := helmBinary(t)
	c := startCluster(t, controller.Options{})
	timing := agent.Timing{LeaseDuration: 2 * time.Second, RenewInterval: 200 * time.Millisecond}
	a := c.addAgent(t, "sim-helm-crd", sim.New(sim.Options{}), timing)
	stopWithTimeout(t, "sim-helm-crd", a.Stop)
	home, dir := t.TempDir(), t.TempDir()
	files := map[string]string{
		"op/Chart.yaml":  "apiVersion: v2\nname: op\nversion: 0.1.0\n",
		"op/values.yaml": "size: large\n",
		"op/crds/widgets.yaml": `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    additionalPrinterColumns:
    - {name: Size, type: string, jsonPath: .spec.size}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: string, enum: [small, large]}
`,
		"op/templates/widget.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  size: {{ .Values.size }}\n",
		"op/templates/sts.yaml": `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ .Release.Name }}-db
spec:
  replicas: 2
  serviceName: {{ .Release.Name }}-db
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: db
        image: postgres
`,
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	helm := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = dir
		cmd.Env = []string{"HOME=" + home, "KUBECONFIG=" + c.srv.KubeconfigPath(), "PATH=/usr/bin:/bin",
			"HELM_CACHE_HOME=" + filepath.Join(home, "cache"), "HELM_CONFIG_HOME=" + filepath.Join(home, "config"), "HELM_DATA_HOME=" + filepath.Join(home, "data")}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	k := newKubectl(t, c.srv.KubeconfigPath())
	if out := helm("install", "op", "./op"); !strings.Contains(out, "STATUS: deployed") {
		t.Fatalf("install:\n%s", out)
	}
	if out := k.must("get", "widgets"); !strings.Contains(out, "SIZE") || !strings.Contains(out, "large") {
		t.Errorf("get widgets:\n%s", out)
	}
	k.eventually(30*time.Second, "statefulset pods op-db-0 and op-db-1 ready", func(out string) bool { return strings.TrimSpace(out) == "2" },
		"get", "statefulset", "op-db", "-o", "jsonpath={.status.readyReplicas}")
	helm("upgrade", "op", "./op", "--set", "size=small")
	if out := k.must("get", "widget", "op", "-o", "jsonpath={.spec.size}"); out != "small" {
		t.Errorf("after upgrade size %q", out)
	}
	helm("uninstall", "op")
	k.eventually(30*time.Second, "widget gone", func(out string) bool { return strings.TrimSpace(out) == "" }, "get", "widgets", "-o", "name")
	k.must("get", "crd", "widgets.example.com")
}
