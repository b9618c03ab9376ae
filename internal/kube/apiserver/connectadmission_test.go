package apiserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	cradmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/kube/apiserver"
	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// startSimNode runs a node agent n1 with the sim runtime, reachable over
// the node channel, and gives it a pod CIDR (what the node IPAM
// controller would).
func startSimNode(t *testing.T, cs kubernetes.Interface, srv *apiserver.Server) {
	t.Helper()
	a, err := agent.New(agent.Options{Client: cs, NodeName: "n1", Runtime: sim.New(sim.Options{}),
		Certs: agent.LocalCerts{Issue: srv.IssueKubeletServingCert, CA: srv.CACert()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Stop(ctx)
	})
	ctx := context.Background()
	var n *corev1.Node
	testenv.Eventually(t, 10*time.Second, "node n1", func() bool {
		n, err = cs.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
		return err == nil
	})
	n.Spec.PodCIDR = "127.128.9.0/24"
	if _, err := cs.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// connectHooks are a validating and a mutating webhook on CONNECT that
// record what they are sent.
type connectHooks struct {
	mu   sync.Mutex
	seen []string // "resource/subresource Kind OPERATION name object"
}

func (h *connectHooks) saw() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.seen, "\n")
}

func (h *connectHooks) register(srv webhook.Server) {
	srv.Register("/connect", &webhook.Admission{Handler: cradmission.HandlerFunc(func(ctx context.Context, req cradmission.Request) cradmission.Response {
		var obj bytes.Buffer
		_ = json.Compact(&obj, req.Object.Raw)
		h.mu.Lock()
		h.seen = append(h.seen, fmt.Sprintf("%s/%s %s/%s %s %s %s", req.Resource.Resource, req.SubResource,
			req.Kind.Version, req.Kind.Kind, req.Operation, req.Name, obj.String()))
		h.mu.Unlock()
		var o struct{ Command []string }
		if err := json.Unmarshal(req.Object.Raw, &o); err != nil {
			return cradmission.Errored(400, err)
		}
		switch {
		case slices.Contains(o.Command, "forbidden"):
			return cradmission.Denied("running forbidden is not allowed")
		case req.SubResource == "portforward":
			// kubectl names the ports in the streams, not the query.
			return cradmission.Denied("no port-forwarding to " + req.Name)
		}
		return cradmission.Allowed("")
	})})
	// The mutating one rewrites `rewrite-me` into `echo rewritten`: what
	// reaches the node is the command as admission left it.
	srv.Register("/connect-mutate", &webhook.Admission{Handler: cradmission.HandlerFunc(func(ctx context.Context, req cradmission.Request) cradmission.Response {
		var o map[string]any
		if err := json.Unmarshal(req.Object.Raw, &o); err != nil {
			return cradmission.Errored(400, err)
		}
		if cmd, _ := o["command"].([]any); len(cmd) > 0 && cmd[0] == "rewrite-me" {
			o["command"] = []string{"echo", "rewritten"}
		}
		out, _ := json.Marshal(o)
		return cradmission.PatchResponseFromRaw(req.Object.Raw, out)
	})})
}

// TestKubectlConnectAdmission: kubectl exec, attach and port-forward go
// through admission as CONNECT with their options objects
// (PodExecOptions, PodAttachOptions, PodPortForwardOptions), as
// kube-apiserver sends them: a controller-runtime webhook's refusal and a
// ValidatingAdmissionPolicy's are what kubectl prints, and a mutating
// webhook's change of the command is what runs.
func TestKubectlConnectAdmission(t *testing.T) {
	srv := apiservertest.Start(t)
	cs := kubernetes.NewForConfigOrDie(apiservertest.RESTConfig(t, srv))
	ctx := context.Background()
	startSimNode(t, cs, srv)
	ws := startWebhookServer(t)
	hooks := &connectHooks{}
	hooks.register(ws.srv)

	connect := []admissionregistrationv1.RuleWithOperations{{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Connect},
		Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"},
			Resources: []string{"pods/exec", "pods/attach", "pods/portforward"}},
	}}
	client := func(path string) admissionregistrationv1.WebhookClientConfig {
		return admissionregistrationv1.WebhookClientConfig{URL: ptr.To(fmt.Sprintf("https://127.0.0.1:%d%s", ws.port, path)), CABundle: ws.caBundle}
	}
	none := ptr.To(admissionregistrationv1.SideEffectClassNone)
	if _, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "connect-mutate"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{Name: "connect-mutate.example.com", ClientConfig: client("/connect-mutate"),
			Rules: connect, SideEffects: none, AdmissionReviewVersions: []string{"v1"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "connect"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{Name: "connect.example.com", ClientConfig: client("/connect"),
			Rules: connect, SideEffects: none, AdmissionReviewVersions: []string{"v1"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	admin := newKubectl(t, "1.33", srv)
	admin.ok("apply", "-f", admin.file("policy.yaml", `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: no-attach-stdin}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CONNECT], resources: [pods/attach]}
  validations:
  - expression: "!object.stdin"
    message: attach with stdin is not allowed
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: no-attach-stdin}
spec:
  policyName: no-attach-stdin
  validationActions: [Deny]
`))

	pods := []*corev1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
			Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "web", Image: "nginx"}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "shell", Namespace: "default"},
			Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "sh", Image: "busybox", Command: []string{"sh"}, Stdin: true}}}},
	}
	for _, p := range pods {
		if _, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, 10*time.Second, p.Name+" running", func() bool {
			p, err := cs.CoreV1().Pods("default").Get(ctx, p.Name, metav1.GetOptions{})
			return err == nil && p.Status.Phase == corev1.PodRunning
		})
	}
	testenv.Eventually(t, 10*time.Second, "the webhooks and the policy to take effect", func() bool {
		_, _, err1 := admin.run("", "exec", "web", "--", "echo", "forbidden")
		_, _, err2 := admin.run("x", "attach", "-i", "shell")
		out, _, _ := admin.run("", "exec", "web", "--", "rewrite-me")
		return err1 != nil && err2 != nil && out == "rewritten\n"
	})

	for _, v := range []string{"1.27", "1.29", "1.33"} {
		t.Run(v, func(t *testing.T) {
			k := newKubectl(t, v, srv)
			errs := k.fails("exec", "web", "--", "echo", "forbidden")
			contains(t, "webhook refusal of exec", errs, `Error from server (Forbidden): admission webhook "connect.example.com" denied the request: running forbidden is not allowed`)
			if got := k.ok("exec", "web", "--", "echo", "hello"); got != "hello\n" {
				t.Errorf("exec echo hello: %q", got)
			}
			if got := k.ok("exec", "web", "--", "rewrite-me"); got != "rewritten\n" {
				t.Errorf("exec of a command the mutating webhook rewrites: %q", got)
			}
			_, errs, err := k.run("from stdin\n", "attach", "-i", "shell")
			if err == nil {
				t.Errorf("attach -i was let through")
			}
			contains(t, "policy refusal of attach", errs, `ValidatingAdmissionPolicy 'no-attach-stdin' with binding 'no-attach-stdin' denied request: attach with stdin is not allowed`)
			errs = k.fails("port-forward", "pod/web", "0:9999")
			contains(t, "webhook refusal of port-forward", errs, `admission webhook "connect.example.com" denied the request: no port-forwarding to web`)
		})
	}

	seen := hooks.saw()
	for _, w := range []string{
		`pods/exec v1/PodExecOptions CONNECT web {"kind":"PodExecOptions","apiVersion":"v1","stdout":true,"stderr":true,"container":"web","command":["echo","forbidden"]}`,
		`pods/exec v1/PodExecOptions CONNECT web {"kind":"PodExecOptions","apiVersion":"v1","stdout":true,"stderr":true,"container":"web","command":["echo","rewritten"]}`,
		`pods/portforward v1/PodPortForwardOptions CONNECT web {"kind":"PodPortForwardOptions","apiVersion":"v1"}`,
	} {
		if !strings.Contains(seen, w) {
			t.Errorf("the webhook never saw\n%s\nit saw:\n%s", w, seen)
		}
	}
}
