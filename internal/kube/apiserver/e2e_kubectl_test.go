package apiserver_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver"
	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
)

const nodeYAML = `apiVersion: v1
kind: Node
metadata:
  name: node-1
  labels:
    node-role.kubernetes.io/control-plane: ""
status:
  conditions:
  - type: Ready
    status: "True"
    reason: KubeletReady
    message: ready
  addresses:
  - type: InternalIP
    address: 127.0.0.1
  daemonEndpoints:
    kubeletEndpoint:
      Port: %d
  nodeInfo:
    kubeletVersion: v1.33.0-stratus
    osImage: Stratus
    kernelVersion: "6.0"
    containerRuntimeVersion: sim://1.0
    architecture: amd64
    operatingSystem: linux
    bootID: ""
    machineID: ""
    systemUUID: ""
    kubeProxyVersion: ""
`

const rcYAML = `apiVersion: v1
kind: ReplicationController
metadata:
  name: rc1
spec:
  replicas: 1
  selector:
    app: rc1
  template:
    metadata:
      labels:
        app: rc1
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
`

const deployYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  labels:
    app: app
spec:
  replicas: %d
  selector:
    matchLabels:
      app: app
  template:
    metadata:
      labels:
        app: app
    spec:
      containers:
      - name: web
        image: %s
      - name: side
        image: busybox
`

const cmYAML = `apiVersion: v1
kind: ConfigMap
metadata:
  name: ssa
data:
  key: %s
`

// fakeAgent serves /containerLogs like a node agent: HTTPS with a
// serving certificate from the cluster CA, only for the API server's
// client certificate.
func fakeAgent(t *testing.T, srv0 *apiserver.Server) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := srv0.IssueKubeletServingCert("node-1", []net.IP{net.IPv4(127, 0, 0, 1)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(srv0.CACert())
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" || len(r.TLS.VerifiedChains) == 0 || r.TLS.VerifiedChains[0][0].Subject.CommonName != "kube-apiserver-kubelet-client" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "log of %s tail=%s\n", r.URL.Path, r.URL.Query().Get("tailLines"))
	}), TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

func TestKubectl(t *testing.T) {
	for _, v := range []string{"1.29", "1.33"} {
		t.Run(v, func(t *testing.T) { kubectlScenario(t, v) })
	}
}

func kubectlScenario(t *testing.T, version string) {
	srv := apiservertest.Start(t)
	k := newKubectl(t, version, srv)
	cs, err := kubernetes.NewForConfig(apiservertest.RESTConfig(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	contains(t, "version", k.ok("version"), "Server Version: v1.33.0-stratus")
	contains(t, "api-resources", k.ok("api-resources", "-o", "wide"), "deployments", "deploy", "apps/v1", "replicationcontrollers", "all")

	// Nodes.
	agentPort := fakeAgent(t, srv)
	k.file("node.yaml", fmt.Sprintf(nodeYAML, agentPort))
	contains(t, "create node", k.ok("create", "-f", "node.yaml"), "node/node-1 created")
	contains(t, "get nodes", k.ok("get", "nodes"), "NAME", "STATUS", "ROLES", "node-1", "Ready", "control-plane", "v1.33.0-stratus")
	contains(t, "get nodes wide", k.ok("get", "nodes", "-o", "wide"), "INTERNAL-IP", "127.0.0.1", "sim://1.0")

	// Pods: run, get in every form.
	contains(t, "run", k.ok("run", "nginx", "--image=nginx", "--port=80"), "pod/nginx created")
	contains(t, "get pods wide", k.ok("get", "pods", "-o", "wide"), "READY", "STATUS", "RESTARTS", "NOMINATED NODE", "nginx", "0/1", "Pending")
	contains(t, "get pods -A", k.ok("get", "pods", "-A"), "NAMESPACE", "default", "nginx")
	contains(t, "label", k.ok("label", "pod", "nginx", "tier=web"), "pod/nginx labeled")
	contains(t, "get -l", k.ok("get", "pods", "-l", "tier=web"), "nginx")
	_, errs, _ := k.run("", "get", "pods", "-l", "tier=none")
	contains(t, "get -l none", errs, "No resources found in default namespace.")
	contains(t, "field selector", k.ok("get", "pods", "--field-selector", "status.phase=Pending,metadata.name=nginx"), "nginx")
	contains(t, "bad field selector", k.fails("get", "pods", "--field-selector", "spec.foo=bar"), "field label not supported: spec.foo")
	contains(t, "-o name", k.ok("get", "pods", "-o", "name"), "pod/nginx")
	contains(t, "-o json", k.ok("get", "pod", "nginx", "-o", "json"), `"kind": "Pod"`, `"restartPolicy": "Always"`, `"resourceVersion"`)
	contains(t, "-o yaml", k.ok("get", "pod", "nginx", "-o", "yaml"), "kind: Pod", "dnsPolicy: ClusterFirst")
	contains(t, "--show-labels", k.ok("get", "pods", "--show-labels"), "LABELS", "run=nginx", "tier=web")
	k.ok("run", "alpha", "--image=busybox")
	sorted := k.ok("get", "pods", "--sort-by=.metadata.name", "-o", "name")
	if !strings.HasPrefix(sorted, "pod/alpha\npod/nginx") {
		t.Errorf("sort-by: %q", sorted)
	}
	// kubectl pages with limit and continue: one pod a request.
	if chunked := k.ok("get", "pods", "--chunk-size=1", "-o", "name"); chunked != k.ok("get", "pods", "-o", "name") {
		t.Errorf("get --chunk-size=1: %q", chunked)
	}
	contains(t, "annotate", k.ok("annotate", "pod", "nginx", "note=hello"), "pod/nginx annotated")

	// Watch: kubectl get -w prints new rows as they come.
	watchPods(t, k, func() { k.ok("run", "watched", "--image=nginx") }, "watched")

	// Errors for unknown names, duplicates and invalid objects.
	contains(t, "not found", k.fails("get", "pod", "nope"), `Error from server (NotFound): pods "nope" not found`)
	contains(t, "already exists", k.fails("run", "nginx", "--image=nginx"), `(AlreadyExists)`, `pods "nginx" already exists`)
	k.file("bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p-invalid\nspec:\n  containers:\n  - name: c\n")
	contains(t, "invalid", k.fails("create", "-f", "bad.yaml"), `The Pod "p-invalid" is invalid`, "spec.containers[0].image: Required value")
	k.file("unknown.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unk\nfoo: bar\n")
	contains(t, "strict", k.fails("create", "-f", "unknown.yaml"), `strict decoding error: unknown field "foo"`)
	_, errs, err = k.run("", "create", "-f", "unknown.yaml", "--validate=warn")
	if err != nil {
		t.Errorf("create --validate=warn: %v %s", err, errs)
	}
	contains(t, "warn", errs, `unknown field "foo"`)

	// ReplicationController: create -f, get, scale, expose.
	k.file("rc.yaml", rcYAML)
	contains(t, "create rc", k.ok("create", "-f", "rc.yaml"), "replicationcontroller/rc1 created")
	contains(t, "create rc again", k.fails("create", "-f", "rc.yaml"), `replicationcontrollers "rc1" already exists`)
	contains(t, "get rc", k.ok("get", "rc", "rc1", "-o", "wide"), "DESIRED", "CURRENT", "READY", "CONTAINERS", "SELECTOR", "nginx:1.27", "app=rc1")
	contains(t, "scale", k.ok("scale", "rc", "rc1", "--replicas=3"), "replicationcontroller/rc1 scaled")
	if got := k.ok("get", "rc", "rc1", "-o", "jsonpath={.spec.replicas}"); got != "3" {
		t.Errorf("replicas after scale = %q", got)
	}
	contains(t, "expose", k.ok("expose", "rc", "rc1", "--port=80", "--type=NodePort"), "service/rc1 exposed")
	svcOut := k.ok("get", "svc", "rc1")
	contains(t, "get svc", svcOut, "TYPE", "CLUSTER-IP", "PORT(S)", "NodePort", "127.100.0.", "80:3")

	// Replace with a stale resourceVersion.
	stale := k.ok("get", "rc", "rc1", "-o", "json")
	k.ok("label", "rc", "rc1", "bump=1")
	k.file("stale.json", stale)
	contains(t, "replace stale", k.fails("replace", "-f", "stale.json"), "(Conflict)", "the object has been modified; please apply your changes to the latest version and try again")

	// Apply: create, unchanged, configured; diff; server-side apply and conflicts.
	k.file("deploy.yaml", fmt.Sprintf(deployYAML, 2, "nginx:1.26"))
	contains(t, "apply create", k.ok("apply", "-f", "deploy.yaml"), "deployment.apps/app created")
	contains(t, "apply unchanged", k.ok("apply", "-f", "deploy.yaml"), "deployment.apps/app unchanged")
	if out, errs, err := k.run("", "diff", "-f", "deploy.yaml"); err != nil {
		t.Errorf("diff of unchanged: %v\n%s\n%s", err, out, errs)
	}
	k.file("deploy.yaml", fmt.Sprintf(deployYAML, 3, "nginx:1.27"))
	out, errs, err := k.run("", "diff", "-f", "deploy.yaml")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("diff of changed: %v\n%s\n%s", err, out, errs)
	}
	contains(t, "diff", out, "nginx:1.27", "replicas: 3")
	gen1 := k.ok("get", "deploy", "app", "-o", "jsonpath={.metadata.generation}")
	contains(t, "apply configured", k.ok("apply", "-f", "deploy.yaml"), "deployment.apps/app configured")
	got := k.ok("get", "deploy", "app", "-o", "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[1].name} {.metadata.generation}")
	if want := "3 nginx:1.27 side " + strconv.Itoa(atoi(gen1)+1); got != want {
		t.Errorf("after apply: %q, want %q", got, want)
	}
	k.file("cm.yaml", fmt.Sprintf(cmYAML, "one"))
	contains(t, "ssa create", k.ok("apply", "--server-side", "-f", "cm.yaml"), "configmap/ssa serverside-applied")
	k.file("cm2.yaml", fmt.Sprintf(cmYAML, "two"))
	contains(t, "ssa conflict", k.fails("apply", "--server-side", "--field-manager=other", "-f", "cm2.yaml"), "conflict", `"kubectl"`, ".data.key")
	contains(t, "ssa force", k.ok("apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", "cm2.yaml"), "serverside-applied")
	if got := k.ok("get", "cm", "ssa", "-o", "jsonpath={.data.key}"); got != "two" {
		t.Errorf("after forced apply: %q", got)
	}

	// Typed commands (protobuf bodies from kubectl 1.32+).
	contains(t, "create deployment", k.ok("create", "deployment", "web", "--image=nginx", "--replicas=3"), "deployment.apps/web created")
	contains(t, "get deploy", k.ok("get", "deploy", "-o", "wide"), "READY", "UP-TO-DATE", "AVAILABLE", "web", "0/3", "app=web")
	contains(t, "get all", k.ok("get", "all"), "pod/nginx", "service/kubernetes", "replicationcontroller/rc1", "deployment.apps/web")

	// Server-side dry run changes nothing.
	contains(t, "dry run", k.ok("run", "dry", "--image=nginx", "--dry-run=server"), "pod/dry created (server dry run)")
	contains(t, "dry run left nothing", k.fails("get", "pod", "dry"), `pods "dry" not found`)

	// Describe and logs (through the node agent).
	contains(t, "describe", k.ok("describe", "pod", "nginx"), "Name:", "nginx", "Image:", "Events:")
	_, err = cs.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "onnode"},
		Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	contains(t, "logs", k.ok("logs", "onnode", "--tail=5"), "log of /containerLogs/default/onnode/c tail=5")

	// Wait for a condition the status subresource sets.
	pod, err := cs.CoreV1().Pods("default").Get(ctx, "onnode", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Status.Phase = corev1.PodRunning
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	if _, err := cs.CoreV1().Pods("default").UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	contains(t, "wait", k.ok("wait", "--for=condition=Ready", "pod/onnode", "--timeout=20s"), "pod/onnode condition met")

	// Delete: immediate for an unscheduled pod, cascading finalizers, namespaces.
	contains(t, "delete pod", k.ok("delete", "pod", "alpha"), `pod "alpha" deleted`)
	k.ok("delete", "deploy", "app", "--cascade=foreground", "--wait=false")
	contains(t, "foreground", k.ok("get", "deploy", "app", "-o", "jsonpath={.metadata.finalizers} {.metadata.deletionTimestamp}"), "foregroundDeletion")
	k.ok("delete", "rc", "rc1", "--cascade=orphan", "--wait=false")
	contains(t, "orphan", k.ok("get", "rc", "rc1", "-o", "jsonpath={.metadata.finalizers}"), "orphan")
	contains(t, "delete svc", k.ok("delete", "svc", "rc1"), `service "rc1" deleted`)
	contains(t, "create ns", k.ok("create", "namespace", "team"), "namespace/team created")
	k.ok("run", "inteam", "--image=nginx", "-n", "team")
	k.ok("delete", "namespace", "team", "--wait=false")
	contains(t, "terminating", k.ok("get", "ns", "team"), "Terminating")
	contains(t, "create in terminating", k.fails("run", "late", "--image=nginx", "-n", "team"), "(Forbidden)", "because it is being terminated")
	contains(t, "missing ns", k.fails("run", "x", "--image=nginx", "-n", "nowhere"), `namespaces "nowhere" not found`)
	contains(t, "delete unknown", k.fails("delete", "pod", "nope"), `pods "nope" not found`)
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}

// watchPods runs kubectl get pods -w, does something, and waits for a row
// naming want.
func watchPods(t *testing.T, k *kubectl, do func(), want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.bin, "get", "pods", "-w")
	cmd.Env = []string{"HOME=" + k.home, "KUBECONFIG=" + k.cfg, "PATH=/usr/bin:/bin"}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	// The header comes with the initial list; act after it.
	select {
	case l := <-lines:
		if !strings.Contains(l, "NAME") {
			t.Errorf("watch: first line %q", l)
		}
	case <-ctx.Done():
		t.Fatal("watch: no header")
	}
	do()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("watch ended before %q appeared", want)
			}
			if strings.HasPrefix(l, want+" ") {
				return
			}
		case <-ctx.Done():
			t.Fatalf("watch: %q never appeared", want)
		}
	}
}
