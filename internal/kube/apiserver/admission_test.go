package apiserver_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	cradmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	crconversion "sigs.k8s.io/controller-runtime/pkg/webhook/conversion"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/kube/certs"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// webhookServer is a controller-runtime webhook server, as an operator
// runs one: TLS with a certificate for its service's name and for
// 127.0.0.1, signed by its own CA (the caBundle).
type webhookServer struct {
	srv      webhook.Server // tests may register more hooks
	port     int
	caBundle []byte
	mu       sync.Mutex
	calls    map[string]int
	// subresources is what /subresources saw: "resource/subresource
	// group/version/Kind OPERATION name".
	subresources []string
	// reviews are the ConversionReviews /convert was sent.
	reviews *conversionReviews
	// gadgets is what /gadgets* saw: "path OPERATION resource/version
	// kind/version (requested resource/version kind/version) spec".
	gadgets []string
}

func (w *webhookServer) takeGadgets() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	g := w.gadgets
	w.gadgets = nil
	return g
}

func (w *webhookServer) called(path string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls[path]
}

// startWebhookServer serves /validate (refuses objects labelled deny=yes,
// warns on the rest), /mutate (labels objects mutated=yes), /slow
// (answers after 3 s), /convert (controller-runtime's conversion
// webhook for the Gadget types), /gadgets-mutate (labels a Gadget with
// the version it saw), /gadgets-validate (refuses the address
// forbidden:1) and /gadgets-exact (allows) until the test ends.
func startWebhookServer(t *testing.T) *webhookServer {
	t.Helper()
	ca, err := certs.NewBundle(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ServingCert(time.Now(), []net.IP{net.IPv4(127, 0, 0, 1)}, []string{"hooks.webhooks.svc"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ws := &webhookServer{port: port, caBundle: ca.CACertPEM, calls: map[string]int{},
		reviews: &conversionReviews{next: crconversion.NewWebhookHandler(gadgetScheme(), crconversion.NewRegistry())}}
	srv := webhook.NewServer(webhook.Options{Host: "127.0.0.1", Port: port,
		TLSOpts: []func(*tls.Config){func(c *tls.Config) {
			c.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert, nil }
		}}})
	ws.srv = srv
	count := func(path string) {
		ws.mu.Lock()
		ws.calls[path]++
		ws.mu.Unlock()
	}
	srv.Register("/validate", &webhook.Admission{Handler: cradmission.HandlerFunc(func(ctx context.Context, req cradmission.Request) cradmission.Response {
		count("/validate")
		var obj metav1.PartialObjectMetadata
		raw := req.Object.Raw
		if req.Operation == "DELETE" {
			raw = req.OldObject.Raw
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			return cradmission.Errored(http.StatusBadRequest, err)
		}
		if obj.Labels["deny"] == "yes" {
			return cradmission.Denied("labels say no")
		}
		return cradmission.Allowed("").WithWarnings("checked by the validator")
	})})
	srv.Register("/mutate", &webhook.Admission{Handler: cradmission.HandlerFunc(func(ctx context.Context, req cradmission.Request) cradmission.Response {
		count("/mutate")
		var obj map[string]any
		if err := json.Unmarshal(req.Object.Raw, &obj); err != nil {
			return cradmission.Errored(http.StatusBadRequest, err)
		}
		md := obj["metadata"].(map[string]any)
		labels, _ := md["labels"].(map[string]any)
		if labels == nil {
			labels = map[string]any{}
		}
		labels["mutated"] = "yes"
		// what the built-in mutating plugins, which run first, gave it
		if spec, _ := obj["spec"].(map[string]any); spec != nil {
			if cs, _ := spec["containers"].([]any); len(cs) > 0 {
				if res, _ := cs[0].(map[string]any)["resources"].(map[string]any); res != nil && res["limits"] != nil {
					labels["saw-limits"] = "yes"
				}
			}
		}
		md["labels"] = labels
		out, _ := json.Marshal(obj)
		return cradmission.PatchResponseFromRaw(req.Object.Raw, out)
	})})
	srv.Register("/subresources", &webhook.Admission{Handler: cradmission.HandlerFunc(func(ctx context.Context, req cradmission.Request) cradmission.Response {
		count("/subresources")
		seen := req.Resource.Resource + "/" + req.SubResource + " " + req.Kind.Group + "/" + req.Kind.Version + "/" + req.Kind.Kind + " " + string(req.Operation) + " " + req.Name
		ws.mu.Lock()
		ws.subresources = append(ws.subresources, seen)
		ws.mu.Unlock()
		var obj struct {
			Spec   struct{ Replicas int32 }
			Target struct{ Name string }
		}
		if err := json.Unmarshal(req.Object.Raw, &obj); err != nil {
			return cradmission.Errored(http.StatusBadRequest, err)
		}
		switch {
		case req.SubResource == "scale" && obj.Spec.Replicas > 5:
			return cradmission.Denied("at most 5 replicas")
		case req.SubResource == "binding" && obj.Target.Name == "forbidden":
			return cradmission.Denied("not on that node")
		case req.SubResource == "eviction" && req.Name == "protected":
			return cradmission.Denied("this pod stays")
		}
		return cradmission.Allowed("")
	})})
	srv.Register("/convert", ws.reviews)
	for _, path := range []string{"/gadgets-mutate", "/gadgets-validate", "/gadgets-exact"} {
		srv.Register(path, &webhook.Admission{Handler: cradmission.HandlerFunc(func(ctx context.Context, req cradmission.Request) cradmission.Response {
			var obj map[string]any
			if err := json.Unmarshal(req.Object.Raw, &obj); err != nil {
				return cradmission.Errored(http.StatusBadRequest, err)
			}
			spec, _ := json.Marshal(obj["spec"])
			ws.mu.Lock()
			ws.gadgets = append(ws.gadgets, fmt.Sprintf("%s %s %s/%s %s/%s (%s/%s %s/%s) %s", path, req.Operation,
				req.Resource.Resource, req.Resource.Version, req.Kind.Kind, req.Kind.Version,
				req.RequestResource.Resource, req.RequestResource.Version, req.RequestKind.Kind, req.RequestKind.Version, spec))
			ws.mu.Unlock()
			switch {
			case path == "/gadgets-validate" && strings.Contains(string(spec), `"forbidden:1"`):
				return cradmission.Denied("no forbidden addresses")
			case path == "/gadgets-mutate":
				md := obj["metadata"].(map[string]any)
				labels, _ := md["labels"].(map[string]any)
				if labels == nil {
					labels = map[string]any{}
				}
				labels["mutated-at"] = req.Kind.Version
				md["labels"] = labels
				out, _ := json.Marshal(obj)
				return cradmission.PatchResponseFromRaw(req.Object.Raw, out)
			}
			return cradmission.Allowed("")
		})})
	}
	srv.Register("/slow", &webhook.Admission{Handler: cradmission.HandlerFunc(func(ctx context.Context, req cradmission.Request) cradmission.Response {
		count("/slow")
		select {
		case <-time.After(3 * time.Second):
		case <-ctx.Done():
		}
		return cradmission.Allowed("")
	})})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Start(ctx); err != nil {
			t.Errorf("webhook server: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	testenv.Eventually(t, 10*time.Second, "the webhook server", func() bool { return srv.StartedChecker()(nil) == nil })
	return ws
}

// warnings collects the Warning headers client-go sees.
type warnings struct {
	mu   sync.Mutex
	seen []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	w.seen = append(w.seen, text)
	w.mu.Unlock()
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.seen
	w.seen = nil
	return s
}

// hookService is the webhook's Service in namespace webhooks (no
// selector) and the EndpointSlice that points it at the server.
func hookService(t *testing.T, cs kubernetes.Interface, port int) {
	t.Helper()
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "webhooks"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "hooks", Namespace: "webhooks"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "https", Port: 443, TargetPort: intstr.FromString("https")}}}}
	if _, err := cs.CoreV1().Services("webhooks").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sl := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "hooks-1", Namespace: "webhooks",
		Labels: map[string]string{discoveryv1.LabelServiceName: "hooks"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"127.0.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To(int32(port))}}}
	if _, err := cs.DiscoveryV1().EndpointSlices("webhooks").Create(ctx, sl, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func serviceRef(path string) admissionregistrationv1.WebhookClientConfig {
	return admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{
		Namespace: "webhooks", Name: "hooks", Path: ptr.To(path), Port: ptr.To(int32(443))}}
}

var podRules = []admissionregistrationv1.RuleWithOperations{{
	Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update, admissionregistrationv1.Delete},
	Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
}}

func hookPod(ns, name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
}

// TestAdmissionWebhooks registers a controller-runtime webhook server as
// an operator does (a Service and its endpoints, caBundle) and checks
// what kube-apiserver does with it: mutation by JSON patch, refusals with
// the real text, warnings, namespace and object selectors, CEL match
// conditions, failurePolicy Ignore and Fail on a webhook that cannot be
// reached, timeouts, dry runs, updates and deletes.
func TestAdmissionWebhooks(t *testing.T) {
	srv := apiservertest.Start(t)
	cfg := apiservertest.RESTConfig(t, srv)
	warned := &warnings{}
	cfg.WarningHandler = warned
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	ws := startWebhookServer(t)
	hookService(t, cs, ws.port)
	for _, ns := range []*corev1.Namespace{
		{ObjectMeta: metav1.ObjectMeta{Name: "guarded", Labels: map[string]string{"webhooks": "on"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "open"}},
	} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	none := ptr.To(admissionregistrationv1.SideEffectClassNone)
	fail, ignore := ptr.To(admissionregistrationv1.Fail), ptr.To(admissionregistrationv1.Ignore)
	onNS := &metav1.LabelSelector{MatchLabels: map[string]string{"webhooks": "on"}}
	mut := &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "mutator"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name: "mutate.example.com", ClientConfig: serviceRef("/mutate"), Rules: podRules[:1],
			SideEffects: none, AdmissionReviewVersions: []string{"v1"}, FailurePolicy: fail, NamespaceSelector: onNS,
			ReinvocationPolicy: ptr.To(admissionregistrationv1.IfNeededReinvocationPolicy),
		}}}
	mut.Webhooks[0].ClientConfig.CABundle = ws.caBundle
	val := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "validator"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "validate.example.com", ClientConfig: serviceRef("/validate"), Rules: podRules,
			SideEffects: none, AdmissionReviewVersions: []string{"v1"}, FailurePolicy: fail, NamespaceSelector: onNS,
			ObjectSelector:  &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "skip-validation", Operator: metav1.LabelSelectorOpDoesNotExist}}},
			MatchConditions: []admissionregistrationv1.MatchCondition{{Name: "not-exempt", Expression: `request.operation == "DELETE" || object.metadata.name != "exempt"`}},
		}, {
			Name:         "unreachable-ignored.example.com",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: ptr.To("https://127.0.0.1:1/nothing")},
			Rules:        podRules[:1], SideEffects: none, AdmissionReviewVersions: []string{"v1"}, FailurePolicy: ignore,
		}}}
	val.Webhooks[0].ClientConfig.CABundle = ws.caBundle
	if _, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, mut, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, val, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The configurations reach the server through its informers.
	testenv.Eventually(t, 10*time.Second, "the configuration to take effect", func() bool {
		_, err := cs.CoreV1().Pods("guarded").Create(ctx, hookPod("guarded", "probe", map[string]string{"deny": "yes"}), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		p, _ := cs.CoreV1().Pods("guarded").Create(ctx, hookPod("guarded", "probe", nil), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err != nil && p != nil && p.Labels["mutated"] == "yes"
	})
	warned.take()

	p, err := cs.CoreV1().Pods("guarded").Create(ctx, hookPod("guarded", "a", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if p.Labels["mutated"] != "yes" {
		t.Errorf("mutating webhook's patch not applied: labels %v", p.Labels)
	}
	if w := warned.take(); !containsStr(w, "checked by the validator") {
		t.Errorf("warnings %q lack the validator's", w)
	}

	want := `admission webhook "validate.example.com" denied the request: labels say no`
	_, err = cs.CoreV1().Pods("guarded").Create(ctx, hookPod("guarded", "b", map[string]string{"deny": "yes"}), metav1.CreateOptions{})
	if err == nil || err.Error() != want {
		t.Errorf("denied create: got %v, want %q", err, want)
	}
	if _, err := cs.CoreV1().Pods("guarded").Get(ctx, "b", metav1.GetOptions{}); err == nil {
		t.Errorf("a refused pod was stored")
	}

	for _, c := range []struct {
		what, ns, name string
		labels         map[string]string
	}{
		{"objectSelector excludes", "guarded", "c", map[string]string{"deny": "yes", "skip-validation": "1"}},
		{"matchCondition excludes", "guarded", "exempt", map[string]string{"deny": "yes"}},
		{"namespaceSelector excludes", "open", "d", map[string]string{"deny": "yes"}},
	} {
		p, err := cs.CoreV1().Pods(c.ns).Create(ctx, hookPod(c.ns, c.name, c.labels), metav1.CreateOptions{})
		if err != nil {
			t.Errorf("%s: %v", c.what, err)
			continue
		}
		if _, mutated := p.Labels["mutated"]; mutated != (c.ns == "guarded") {
			t.Errorf("%s: labels %v", c.what, p.Labels)
		}
	}

	// The built-in mutating plugins run before the webhooks, as upstream:
	// the webhook sees the LimitRange's default limits.
	lr := &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "defaults"}, Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type: corev1.LimitTypeContainer, Default: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}}}}}
	if _, err := cs.CoreV1().LimitRanges("guarded").Create(ctx, lr, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if p, err := cs.CoreV1().Pods("guarded").Create(ctx, hookPod("guarded", "limited", nil), metav1.CreateOptions{}); err != nil {
		t.Errorf("create under a LimitRange: %v", err)
	} else if p.Labels["saw-limits"] != "yes" || p.Spec.Containers[0].Resources.Limits.Cpu().String() != "500m" {
		t.Errorf("the webhook ran before LimitRanger: labels %v, limits %v", p.Labels, p.Spec.Containers[0].Resources.Limits)
	}

	// Updates and deletes go through the validating webhook too.
	cur, _ := cs.CoreV1().Pods("guarded").Get(ctx, "a", metav1.GetOptions{})
	cur.Labels = map[string]string{"deny": "yes"}
	if _, err := cs.CoreV1().Pods("guarded").Update(ctx, cur, metav1.UpdateOptions{}); err == nil || err.Error() != want {
		t.Errorf("denied update: got %v, want %q", err, want)
	}
	if err := cs.CoreV1().Pods("guarded").Delete(ctx, "c", metav1.DeleteOptions{}); err != nil {
		t.Errorf("delete excluded by objectSelector: %v", err)
	}
	calls := ws.called("/validate")
	if err := cs.CoreV1().Pods("guarded").Delete(ctx, "exempt", metav1.DeleteOptions{}); err == nil || err.Error() != want {
		t.Errorf("denied delete: got %v, want %q", err, want)
	}
	if ws.called("/validate") != calls+1 {
		t.Errorf("delete did not call the validator")
	}

	// A webhook that cannot be reached: Ignore lets the request through
	// (above), Fail refuses it with the real text.
	broken := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "broken"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:         "unreachable.example.com",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: ptr.To("https://127.0.0.1:1/nothing")},
			Rules:        podRules[:1], SideEffects: none, AdmissionReviewVersions: []string{"v1"}, FailurePolicy: fail,
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "open"}},
		}, {
			Name: "slow.example.com", ClientConfig: serviceRef("/slow"), TimeoutSeconds: ptr.To(int32(1)),
			Rules: podRules[:1], SideEffects: none, AdmissionReviewVersions: []string{"v1"}, FailurePolicy: fail,
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "guarded"}},
			ObjectSelector:    &metav1.LabelSelector{MatchLabels: map[string]string{"slow": "yes"}},
		}}}
	broken.Webhooks[1].ClientConfig.CABundle = ws.caBundle
	if _, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, broken, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "the configuration to take effect", func() bool {
		_, err := cs.CoreV1().Pods("open").Create(ctx, hookPod("open", "e", nil), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err == nil {
			return false
		}
		if !strings.Contains(err.Error(), `failed calling webhook "unreachable.example.com": failed to call webhook: Post "https://127.0.0.1:1/nothing?timeout=10s"`) {
			t.Fatalf("unreachable Fail webhook: %v", err)
		}
		return true
	})
	start := time.Now()
	_, err = cs.CoreV1().Pods("guarded").Create(ctx, hookPod("guarded", "slow", map[string]string{"slow": "yes"}), metav1.CreateOptions{})
	if err == nil || !strings.Contains(err.Error(), `failed calling webhook "slow.example.com"`) || !strings.Contains(err.Error(), "context deadline exceeded") {
		t.Errorf("slow webhook past its 1 s timeout: %v", err)
	}
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("timeout of 1 s took %v", d)
	}

	// A webhook with side effects refuses dry runs, as the real server.
	if err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(ctx, "broken", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	se := val.DeepCopy()
	se.Name, se.ResourceVersion = "side-effects", ""
	se.Webhooks = se.Webhooks[:1]
	se.Webhooks[0].Name, se.Webhooks[0].SideEffects = "effects.example.com", ptr.To(admissionregistrationv1.SideEffectClassSome)
	if _, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, se, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "the configuration to take effect", func() bool {
		_, err := cs.CoreV1().Pods("guarded").Create(ctx, hookPod("guarded", "dry", nil), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err == nil {
			return false
		}
		if !strings.Contains(err.Error(), `admission webhook "effects.example.com" does not support dry run`) {
			t.Fatalf("dry run with side effects: %v", err)
		}
		return true
	})
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var _ rest.WarningHandler = (*warnings)(nil)

// TestKubectlAdmission: what kubectl users see of admission. A webhook's
// refusal and warning, and a ValidatingAdmissionPolicy in CEL bound twice,
// to Deny in one namespace and to Warn and Audit in another, with three
// kubectl releases.
func TestKubectlAdmission(t *testing.T) {
	srv := apiservertest.Start(t)
	cs := kubernetes.NewForConfigOrDie(apiservertest.RESTConfig(t, srv))
	ctx := context.Background()
	ws := startWebhookServer(t)
	hookService(t, cs, ws.port)
	admin := newKubectl(t, "1.33", srv)
	admin.ok("apply", "-f", admin.file("setup.yaml", `apiVersion: v1
kind: Namespace
metadata: {name: guarded, labels: {webhooks: "on"}}
---
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {env: prod}}
---
apiVersion: v1
kind: Namespace
metadata: {name: staging, labels: {env: staging}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replicas-limit}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}
  validations:
  - expression: object.spec.replicas <= 5
    message: replicas must be no greater than 5
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replicas-limit-deny}
spec:
  policyName: replicas-limit
  validationActions: [Deny]
  matchResources: {namespaceSelector: {matchLabels: {env: prod}}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replicas-limit-warn}
spec:
  policyName: replicas-limit
  validationActions: [Warn, Audit]
  matchResources: {namespaceSelector: {matchLabels: {env: staging}}}
`))
	val := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "validator"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "validate.example.com", ClientConfig: serviceRef("/validate"), Rules: podRules,
			SideEffects: ptr.To(admissionregistrationv1.SideEffectClassNone), AdmissionReviewVersions: []string{"v1"},
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"webhooks": "on"}},
		}}}
	val.Webhooks[0].ClientConfig.CABundle = ws.caBundle
	if _, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, val, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "the webhook and the policy to take effect", func() bool {
		_, _, err1 := admin.run("", "-n", "guarded", "run", "probe", "--image=busybox", "--labels=deny=yes", "--dry-run=server")
		_, _, err2 := admin.run("", "-n", "prod", "create", "deployment", "probe", "--image=busybox", "--replicas=9", "--dry-run=server")
		return err1 != nil && err2 != nil
	})

	for _, v := range []string{"1.27", "1.29", "1.33"} {
		t.Run(v, func(t *testing.T) {
			k := newKubectl(t, v, srv)
			name := "p" + strings.ReplaceAll(v, ".", "")
			errs := k.fails("-n", "guarded", "run", name+"-denied", "--image=busybox", "--labels=deny=yes")
			contains(t, "webhook refusal", errs, `Error from server (Forbidden): admission webhook "validate.example.com" denied the request: labels say no`)
			_, errs, err := k.run("", "-n", "guarded", "run", name, "--image=busybox")
			if err != nil {
				t.Fatalf("kubectl run: %v\n%s", err, errs)
			}
			contains(t, "webhook warning", errs, "Warning: checked by the validator")

			errs = k.fails("-n", "prod", "create", "deployment", name, "--image=busybox", "--replicas=9")
			contains(t, "policy Deny", errs, `deployments.apps "`+name+`" is forbidden: ValidatingAdmissionPolicy 'replicas-limit' with binding 'replicas-limit-deny' denied request: replicas must be no greater than 5`)
			k.ok("-n", "prod", "create", "deployment", name, "--image=busybox", "--replicas=3")
			errs = k.fails("-n", "prod", "patch", "deployment", name, "--type=merge", "-p", `{"spec":{"replicas":6}}`)
			contains(t, "policy Deny on update", errs, "replicas must be no greater than 5")
			_, errs, err = k.run("", "-n", "staging", "create", "deployment", name, "--image=busybox", "--replicas=9")
			if err != nil {
				t.Fatalf("policy Warn refused: %v\n%s", err, errs)
			}
			contains(t, "policy Warn", errs, `Warning: Validation failed for ValidatingAdmissionPolicy 'replicas-limit' with binding 'replicas-limit-warn': replicas must be no greater than 5`)
		})
	}
}

// TestSubresourceAdmission: webhooks whose rules name deployments/scale,
// pods/binding and pods/eviction are called with the subresource's own
// object (Scale, Binding, Eviction), as kube-apiserver calls them, and
// their refusals stop the write.
func TestSubresourceAdmission(t *testing.T) {
	srv := apiservertest.Start(t)
	cs := kubernetes.NewForConfigOrDie(apiservertest.RESTConfig(t, srv))
	ctx := context.Background()
	ws := startWebhookServer(t)
	hookService(t, cs, ws.port)
	ops := func(o ...admissionregistrationv1.OperationType) []admissionregistrationv1.OperationType { return o }
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "subresources"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "subresources.example.com", ClientConfig: serviceRef("/subresources"),
			Rules: []admissionregistrationv1.RuleWithOperations{
				{Operations: ops(admissionregistrationv1.Update), Rule: admissionregistrationv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments/scale"}}},
				{Operations: ops(admissionregistrationv1.Create), Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods/binding", "pods/eviction"}}},
			},
			SideEffects: ptr.To(admissionregistrationv1.SideEffectClassNone), AdmissionReviewVersions: []string{"v1"},
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "default"}},
		}}}
	cfg.Webhooks[0].ClientConfig.CABundle = ws.caBundle
	if _, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, cfg, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "web"}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To(int32(1)),
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}}}
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	scale := func(n int32) error {
		sc, err := cs.AppsV1().Deployments("default").GetScale(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		sc.Spec.Replicas = n
		_, err = cs.AppsV1().Deployments("default").UpdateScale(ctx, "web", sc, metav1.UpdateOptions{})
		return err
	}
	testenv.Eventually(t, 10*time.Second, "the configuration to take effect", func() bool { return scale(9) != nil })
	want := `admission webhook "subresources.example.com" denied the request: at most 5 replicas`
	if err := scale(6); err == nil || err.Error() != want {
		t.Errorf("scale to 6: %v, want %q", err, want)
	}
	if err := scale(3); err != nil {
		t.Errorf("scale to 3: %v", err)
	}
	if d, _ := cs.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{}); *d.Spec.Replicas != 3 {
		t.Errorf("replicas %d, want 3", *d.Spec.Replicas)
	}

	for _, name := range []string{"p", "protected"} {
		if _, err := cs.CoreV1().Pods("default").Create(ctx, hookPod("default", name, nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	bind := func(pod, node string) error {
		return cs.CoreV1().Pods("default").Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: pod},
			Target: corev1.ObjectReference{Kind: "Node", Name: node}}, metav1.CreateOptions{})
	}
	if err := bind("p", "forbidden"); err == nil || !strings.Contains(err.Error(), "not on that node") {
		t.Errorf("binding refused: %v", err)
	}
	if p, _ := cs.CoreV1().Pods("default").Get(ctx, "p", metav1.GetOptions{}); p.Spec.NodeName != "" {
		t.Errorf("a refused binding assigned node %q", p.Spec.NodeName)
	}
	if err := bind("p", "n1"); err != nil {
		t.Errorf("binding: %v", err)
	}
	evict := func(pod string) error {
		return cs.PolicyV1().Evictions("default").Evict(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: pod, Namespace: "default"}})
	}
	if err := evict("protected"); err == nil || !strings.Contains(err.Error(), "this pod stays") {
		t.Errorf("eviction refused: %v", err)
	}
	if _, err := cs.CoreV1().Pods("default").Get(ctx, "protected", metav1.GetOptions{}); err != nil {
		t.Errorf("a refused eviction deleted the pod: %v", err)
	}
	if err := evict("p"); err != nil {
		t.Errorf("eviction: %v", err)
	}

	ws.mu.Lock()
	seen := strings.Join(ws.subresources, "\n")
	ws.mu.Unlock()
	for _, w := range []string{
		"deployments/scale autoscaling/v1/Scale UPDATE web",
		"pods/binding /v1/Binding CREATE p",
		"pods/eviction policy/v1/Eviction CREATE protected",
	} {
		if !strings.Contains(seen, w) {
			t.Errorf("the webhook never saw %q; it saw:\n%s", w, seen)
		}
	}
}
