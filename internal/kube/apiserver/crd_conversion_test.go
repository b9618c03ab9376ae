package apiserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/conversion"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver"
	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// The Gadget kind of group conv.stratus.test, as an operator's Go types
// declare it for controller-runtime's conversion webhook: v1 has a host
// and a port, v2 (the hub, stored) one address "host:port".
const gadgetGroup = "conv.stratus.test"

type gadgetV1 struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              struct {
		Host string `json:"host,omitempty"`
		Port int32  `json:"port,omitempty"`
	} `json:"spec"`
}

type gadgetV2 struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              struct {
		Address string `json:"address,omitempty"`
	} `json:"spec"`
}

func (g *gadgetV1) DeepCopyObject() runtime.Object {
	c := *g
	g.ObjectMeta.DeepCopyInto(&c.ObjectMeta)
	return &c
}

func (g *gadgetV2) DeepCopyObject() runtime.Object {
	c := *g
	g.ObjectMeta.DeepCopyInto(&c.ObjectMeta)
	return &c
}

// Hub marks v2 as the version the others convert through.
func (*gadgetV2) Hub() {}

var (
	_ conversion.Hub         = (*gadgetV2)(nil)
	_ conversion.Convertible = (*gadgetV1)(nil)
)

func (g *gadgetV1) ConvertTo(dst conversion.Hub) error {
	h := dst.(*gadgetV2)
	h.ObjectMeta = g.ObjectMeta
	h.Spec.Address = net.JoinHostPort(g.Spec.Host, strconv.Itoa(int(g.Spec.Port)))
	return nil
}

func (g *gadgetV1) ConvertFrom(src conversion.Hub) error {
	h := src.(*gadgetV2)
	g.ObjectMeta = h.ObjectMeta
	host, port, err := net.SplitHostPort(h.Spec.Address)
	if err != nil {
		return err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return err
	}
	g.Spec.Host, g.Spec.Port = host, int32(p)
	return nil
}

func gadgetScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	s.AddKnownTypeWithName(schema.GroupVersionKind{Group: gadgetGroup, Version: "v1", Kind: "Gadget"}, &gadgetV1{})
	s.AddKnownTypeWithName(schema.GroupVersionKind{Group: gadgetGroup, Version: "v2", Kind: "Gadget"}, &gadgetV2{})
	return s
}

// conversionReviews records the apiVersion of each ConversionReview the
// webhook server is sent, in front of controller-runtime's handler.
type conversionReviews struct {
	mu       sync.Mutex
	versions []string
	next     http.Handler
}

func (c *conversionReviews) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var tm metav1.TypeMeta
	_ = json.Unmarshal(body, &tm)
	c.mu.Lock()
	c.versions = append(c.versions, tm.APIVersion)
	c.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	c.next.ServeHTTP(w, r)
}

func (c *conversionReviews) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.versions
	c.versions = nil
	return v
}

func gadgetCRD(caBundle []byte, path string, reviewVersions ...string) *apiextensionsv1.CustomResourceDefinition {
	obj := func(props map[string]apiextensionsv1.JSONSchemaProps) *apiextensionsv1.CustomResourceValidation {
		return &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{Type: "object",
			Properties: map[string]apiextensionsv1.JSONSchemaProps{"spec": {Type: "object", Properties: props}}}}
	}
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "gadgets." + gadgetGroup},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: gadgetGroup, Scope: apiextensionsv1.NamespaceScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "gadgets", Singular: "gadget", Kind: "Gadget", ListKind: "GadgetList"},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{
				{Name: "v1", Served: true, Schema: obj(map[string]apiextensionsv1.JSONSchemaProps{"host": {Type: "string"}, "port": {Type: "integer"}})},
				{Name: "v2", Served: true, Storage: true, Schema: obj(map[string]apiextensionsv1.JSONSchemaProps{"address": {Type: "string"}})},
			},
			Conversion: &apiextensionsv1.CustomResourceConversion{Strategy: apiextensionsv1.WebhookConverter,
				Webhook: &apiextensionsv1.WebhookConversion{ConversionReviewVersions: reviewVersions,
					ClientConfig: &apiextensionsv1.WebhookClientConfig{CABundle: caBundle,
						Service: &apiextensionsv1.ServiceReference{Namespace: "webhooks", Name: "hooks", Path: ptr.To(path), Port: ptr.To(int32(443))}}}},
		},
	}
}

var (
	gadgetsV1 = schema.GroupVersionResource{Group: gadgetGroup, Version: "v1", Resource: "gadgets"}
	gadgetsV2 = schema.GroupVersionResource{Group: gadgetGroup, Version: "v2", Resource: "gadgets"}
)

// gadgets is a server serving the Gadget CRD, converted by the webhook
// server's /convert behind the Service webhooks/hooks, and namespace conv.
type gadgets struct {
	srv *apiserver.Server
	cs  kubernetes.Interface
	ext apiextensionsclient.Interface
	dyn dynamic.Interface
	ws  *webhookServer
	crd *apiextensionsv1.CustomResourceDefinition
}

func startGadgets(t *testing.T) *gadgets {
	t.Helper()
	g := &gadgets{srv: apiservertest.Start(t)}
	cfg := apiservertest.RESTConfig(t, g.srv)
	g.cs, g.ext, g.dyn = kubernetes.NewForConfigOrDie(cfg), apiextensionsclient.NewForConfigOrDie(cfg), dynamic.NewForConfigOrDie(cfg)
	ctx := context.Background()
	g.ws = startWebhookServer(t)
	hookService(t, g.cs, g.ws.port)
	if _, err := g.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "conv"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var err error
	if g.crd, err = g.ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, gadgetCRD(g.ws.caBundle, "/convert", "v1"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "gadgets served", func() bool {
		_, err := g.dyn.Resource(gadgetsV1).List(ctx, metav1.ListOptions{})
		return err == nil
	})
	return g
}

// TestCRDWebhookConversion serves a CRD whose versions differ in shape
// (v1 host and port, v2 address) with spec.conversion.strategy Webhook,
// converted by controller-runtime's conversion webhook (Hub and
// Convertible types) behind a Service, and reads and writes the same
// objects at both versions with client-go and kubectl: get, list, watch,
// create, update; then a webhook that fails gives the real server's
// answer, and a CRD asking for v1beta1 ConversionReviews gets them.
func TestCRDWebhookConversion(t *testing.T) {
	g := startGadgets(t)
	srv, ext, dyn, ws, crd := g.srv, g.ext, g.dyn, g.ws, g.crd
	ctx := context.Background()

	// Written at v1, stored at v2: both versions read the same object.
	g1 := gadget("v1", "g1", map[string]any{"host": "db.example", "port": int64(5432)})
	if _, err := dyn.Resource(gadgetsV1).Namespace("conv").Create(ctx, g1, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create at v1: %v", err)
	}
	if got := spec(t, dyn, gadgetsV2, "g1"); got["address"] != "db.example:5432" || len(got) != 1 {
		t.Errorf("g1 at v2: spec = %v, want address db.example:5432", got)
	}
	if got := spec(t, dyn, gadgetsV1, "g1"); got["host"] != "db.example" || got["port"] != int64(5432) {
		t.Errorf("g1 at v1: spec = %v, want host and port", got)
	}
	if v := ws.reviews.take(); len(v) == 0 || v[0] != "apiextensions.k8s.io/v1" {
		t.Errorf("conversion reviews = %v, want apiextensions.k8s.io/v1 ones", v)
	}

	// A watch at v1 sees an object written at v2, converted.
	w, err := dyn.Resource(gadgetsV1).Namespace("conv").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if _, err := dyn.Resource(gadgetsV2).Namespace("conv").Create(ctx, gadget("v2", "g2", map[string]any{"address": "cache.example:6379"}), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create at v2: %v", err)
	}
	seen := false
	for !seen {
		select {
		case ev := <-w.ResultChan():
			u, ok := ev.Object.(*unstructured.Unstructured)
			if !ok || u.GetName() != "g2" {
				continue
			}
			host, _, _ := unstructured.NestedString(u.Object, "spec", "host")
			port, _, _ := unstructured.NestedInt64(u.Object, "spec", "port")
			if ev.Type != watch.Added || u.GetAPIVersion() != gadgetGroup+"/v1" || host != "cache.example" || port != 6379 {
				t.Errorf("watch at v1: %s %s %v", ev.Type, u.GetAPIVersion(), u.Object["spec"])
			}
			seen = true
		case <-time.After(10 * time.Second):
			t.Fatal("watch at v1: no event for g2")
		}
	}

	// A list at v1 converts every item; an update at v1 is stored at v2.
	l, err := dyn.Resource(gadgetsV1).Namespace("conv").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, it := range l.Items {
		h, _, _ := unstructured.NestedString(it.Object, "spec", "host")
		hosts = append(hosts, it.GetAPIVersion()+" "+h)
	}
	if strings.Join(hosts, ",") != gadgetGroup+"/v1 db.example,"+gadgetGroup+"/v1 cache.example" {
		t.Errorf("list at v1: %v", hosts)
	}
	cur, err := dyn.Resource(gadgetsV1).Namespace("conv").Get(ctx, "g2", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = unstructured.SetNestedField(cur.Object, int64(6380), "spec", "port")
	if _, err := dyn.Resource(gadgetsV1).Namespace("conv").Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update at v1: %v", err)
	}
	if got := spec(t, dyn, gadgetsV2, "g2"); got["address"] != "cache.example:6380" {
		t.Errorf("g2 at v2 after the update at v1: %v", got)
	}

	// kubectl reads both versions of the same objects.
	k := newKubectl(t, "1.33", srv)
	contains(t, "kubectl v1", k.ok("get", "-n", "conv", "gadgets.v1."+gadgetGroup, "g1", "-o", "jsonpath={.apiVersion} {.spec.host} {.spec.port}"), gadgetGroup+"/v1 db.example 5432")
	contains(t, "kubectl v2", k.ok("get", "-n", "conv", "gadgets.v2."+gadgetGroup, "-o", "jsonpath={.items[*].spec.address}"), "db.example:5432 cache.example:6380")
	// kubectl writes at v1 (a merge patch, a server-side apply beside
	// managers of v2) are stored at v2.
	k.ok("patch", "-n", "conv", "gadgets.v1."+gadgetGroup, "g2", "--type=merge", "-p", `{"spec":{"port":6381}}`)
	k.ok("apply", "--server-side", "-n", "conv", "-f", k.file("g2.yaml", "apiVersion: "+gadgetGroup+"/v1\nkind: Gadget\nmetadata:\n  name: g2\nspec:\n  host: cache2.example\n  port: 6381\n"))
	if got := spec(t, dyn, gadgetsV2, "g2"); got["address"] != "cache2.example:6381" {
		t.Errorf("g2 at v2 after kubectl's writes at v1: %v", got)
	}
	contains(t, "kubectl v1 watch", k.ok("get", "-n", "conv", "gadgets.v1."+gadgetGroup, "--watch", "--request-timeout=3s", "-o", "jsonpath={.spec.host}{\"\\n\"}"), "db.example", "cache2.example")

	// A webhook that fails: reading at the stored version still works,
	// reading at the other one is the real server's 500 with the
	// converter's text, and so is a write that needs conversion.
	crd = updateCRD(t, ext, crd.Name, func(c *apiextensionsv1.CustomResourceDefinition) {
		c.Spec.Conversion.Webhook.ClientConfig.Service.Path = ptr.To("/nothing-here")
	})
	var getErr error
	testenv.Eventually(t, 10*time.Second, "the failing webhook to be used", func() bool {
		_, getErr = dyn.Resource(gadgetsV1).Namespace("conv").Get(ctx, "g1", metav1.GetOptions{})
		return getErr != nil
	})
	const failed = "conversion webhook for " + gadgetGroup + "/v2, Kind=Gadget failed: the server could not find the requested resource"
	var se *apierrors.StatusError
	if !errors.As(getErr, &se) || se.ErrStatus.Code != 500 || se.ErrStatus.Reason != "" || se.ErrStatus.Message != failed {
		t.Errorf("get at v1 with a failing webhook: %#v, want 500 %q", getErr, failed)
	}
	if _, err := dyn.Resource(gadgetsV1).Namespace("conv").List(ctx, metav1.ListOptions{}); err == nil || err.Error() != failed {
		t.Errorf("list at v1 with a failing webhook: %v", err)
	}
	_, err = dyn.Resource(gadgetsV1).Namespace("conv").Create(ctx, gadget("v1", "g3", map[string]any{"host": "x", "port": int64(1)}), metav1.CreateOptions{})
	if want := "conversion webhook for " + gadgetGroup + "/v1, Kind=Gadget failed: the server could not find the requested resource"; err == nil || err.Error() != want {
		t.Errorf("create at v1 with a failing webhook: %v, want %q", err, want)
	}
	if got := spec(t, dyn, gadgetsV2, "g1"); got["address"] != "db.example:5432" {
		t.Errorf("g1 at the stored version with a failing webhook: %v", got)
	}
	contains(t, "kubectl with a failing webhook", k.fails("get", "-n", "conv", "gadgets.v1."+gadgetGroup, "g1"), "Error from server: "+failed)

	// A CRD that asks for v1beta1 reviews only gets them (here from a
	// webhook named by URL).
	ws.reviews.take()
	updateCRD(t, ext, crd.Name, func(c *apiextensionsv1.CustomResourceDefinition) {
		c.Spec.Conversion.Webhook.ClientConfig.Service = nil
		c.Spec.Conversion.Webhook.ClientConfig.URL = ptr.To("https://127.0.0.1:" + strconv.Itoa(ws.port) + "/convert")
		c.Spec.Conversion.Webhook.ConversionReviewVersions = []string{"v1beta1"}
	})
	testenv.Eventually(t, 10*time.Second, "the v1beta1 webhook to be used", func() bool {
		_, err := dyn.Resource(gadgetsV1).Namespace("conv").Get(ctx, "g1", metav1.GetOptions{})
		return err == nil
	})
	if got := spec(t, dyn, gadgetsV1, "g2"); got["host"] != "cache2.example" || got["port"] != int64(6381) {
		t.Errorf("g2 at v1 through v1beta1 reviews: %v", got)
	}
	if v := ws.reviews.take(); len(v) == 0 || v[len(v)-1] != "apiextensions.k8s.io/v1beta1" {
		t.Errorf("conversion reviews = %v, want apiextensions.k8s.io/v1beta1 ones", v)
	}

	// With its webhook gone (an operator uninstalled), the CRD is still
	// deleted with its objects: they are read at the stored version.
	updateCRD(t, ext, crd.Name, func(c *apiextensionsv1.CustomResourceDefinition) {
		c.Spec.Conversion.Webhook.ClientConfig.URL = ptr.To("https://127.0.0.1:1/convert")
	})
	if err := ext.ApiextensionsV1().CustomResourceDefinitions().Delete(ctx, crd.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "the CRD deleted without its webhook", func() bool {
		_, err := ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
}

func gadget(version, name string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": gadgetGroup + "/" + version, "kind": "Gadget",
		"metadata": map[string]any{"name": name, "namespace": "conv"}, "spec": spec}}
}

func spec(t *testing.T, dyn dynamic.Interface, gvr schema.GroupVersionResource, name string) map[string]any {
	t.Helper()
	u, err := dyn.Resource(gvr).Namespace("conv").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get %s at %s: %v", name, gvr.Version, err)
	}
	if u.GetAPIVersion() != gvr.GroupVersion().String() {
		t.Errorf("get %s at %s: apiVersion %s", name, gvr.Version, u.GetAPIVersion())
	}
	s, _, _ := unstructured.NestedMap(u.Object, "spec")
	return s
}

func updateCRD(t *testing.T, ext apiextensionsclient.Interface, name string, change func(*apiextensionsv1.CustomResourceDefinition)) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	ctx := context.Background()
	for range 10 {
		crd, err := ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		change(crd)
		out, err := ext.ApiextensionsV1().CustomResourceDefinitions().Update(ctx, crd, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	t.Fatal("update crd: too many conflicts")
	return nil
}

// TestCRDAdmissionEquivalent registers controller-runtime webhooks for
// gadgets v2 only and writes gadgets at v1: with matchPolicy Equivalent
// (the v1 default) they are called with the object converted to v2 by
// the CRD's conversion webhook, the request's own version in
// requestKind/requestResource, and a mutation made at v2 lands in the
// object written at v1; with Exact they are not called.
func TestCRDAdmissionEquivalent(t *testing.T) {
	g := startGadgets(t)
	cs, dyn, ws := g.cs, g.dyn, g.ws
	ctx := context.Background()

	none := ptr.To(admissionregistrationv1.SideEffectClassNone)
	v2Rules := []admissionregistrationv1.RuleWithOperations{{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
		Rule:       admissionregistrationv1.Rule{APIGroups: []string{gadgetGroup}, APIVersions: []string{"v2"}, Resources: []string{"gadgets"}},
	}}
	hook := func(path string) admissionregistrationv1.WebhookClientConfig {
		c := serviceRef(path)
		c.CABundle = ws.caBundle
		return c
	}
	mut := &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "gadgets"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{Name: "mutate.gadgets.test", ClientConfig: hook("/gadgets-mutate"),
			Rules: v2Rules, SideEffects: none, AdmissionReviewVersions: []string{"v1"}}}}
	val := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "gadgets"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{
			{Name: "validate.gadgets.test", ClientConfig: hook("/gadgets-validate"), Rules: v2Rules, SideEffects: none, AdmissionReviewVersions: []string{"v1"}},
			{Name: "exact.gadgets.test", ClientConfig: hook("/gadgets-exact"), Rules: v2Rules, SideEffects: none, AdmissionReviewVersions: []string{"v1"},
				MatchPolicy: ptr.To(admissionregistrationv1.Exact)},
		}}
	if _, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, mut, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, val, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "the configurations to take effect", func() bool {
		_, err := dyn.Resource(gadgetsV1).Namespace("conv").Create(ctx, gadget("v1", "probe", map[string]any{"host": "forbidden", "port": int64(1)}),
			metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err != nil
	})
	ws.takeGadgets()

	// Written at v1, seen at v2 by the Equivalent webhooks only.
	out, err := dyn.Resource(gadgetsV1).Namespace("conv").Create(ctx, gadget("v1", "g1", map[string]any{"host": "db.example", "port": int64(5432)}), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create at v1: %v", err)
	}
	if out.GetLabels()["mutated-at"] != "v2" || out.GetAPIVersion() != gadgetGroup+"/v1" {
		t.Errorf("created at v1: %s labels %v, want the v2 mutation", out.GetAPIVersion(), out.GetLabels())
	}
	host, _, _ := unstructured.NestedString(out.Object, "spec", "host")
	if host != "db.example" {
		t.Errorf("created at v1: spec %v", out.Object["spec"])
	}
	want := []string{
		`/gadgets-mutate CREATE gadgets/v2 Gadget/v2 (gadgets/v1 Gadget/v1) {"address":"db.example:5432"}`,
		`/gadgets-validate CREATE gadgets/v2 Gadget/v2 (gadgets/v1 Gadget/v1) {"address":"db.example:5432"}`,
	}
	if got := ws.takeGadgets(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("webhooks saw:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got, err := dyn.Resource(gadgetsV2).Namespace("conv").Get(ctx, "g1", metav1.GetOptions{}); err != nil || got.GetLabels()["mutated-at"] != "v2" {
		t.Errorf("g1 at v2: %v %v", got, err)
	}

	// Refused in v2 terms, asked in v1 terms.
	_, err = dyn.Resource(gadgetsV1).Namespace("conv").Create(ctx, gadget("v1", "g2", map[string]any{"host": "forbidden", "port": int64(1)}), metav1.CreateOptions{})
	if want := `admission webhook "validate.gadgets.test" denied the request: no forbidden addresses`; err == nil || err.Error() != want {
		t.Errorf("create of a forbidden address at v1: %v, want %q", err, want)
	}

	// Written at v2, every webhook is called.
	ws.takeGadgets()
	if _, err := dyn.Resource(gadgetsV2).Namespace("conv").Create(ctx, gadget("v2", "g3", map[string]any{"address": "cache.example:6379"}), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create at v2: %v", err)
	}
	got := strings.Join(ws.takeGadgets(), "\n")
	for _, w := range []string{"/gadgets-mutate CREATE gadgets/v2 Gadget/v2 (gadgets/v2 Gadget/v2)", "/gadgets-validate CREATE", "/gadgets-exact CREATE gadgets/v2 Gadget/v2 (gadgets/v2 Gadget/v2)"} {
		if !strings.Contains(got, w) {
			t.Errorf("webhooks at v2 saw:\n%s\nwant %q", got, w)
		}
	}
}
