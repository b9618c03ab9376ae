package admission_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8sadmission "k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/stratus-cloud/stratus/internal/kube/admission"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestBuiltWhenConfigured: with no configuration a write is not checked
// and no plugin is built (their informers are not even made); the first
// write once a webhook configuration exists waits for the plugin and is
// sent to the webhook, and only that kind's plugin is built.
func TestBuiltWhenConfigured(t *testing.T) {
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	var calls atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var review admissionv1.AdmissionReview
		_ = json.NewDecoder(r.Body).Decode(&review)
		review.Response = &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}
		review.Request = nil
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(review)
	}))
	defer srv.Close()

	cs := fake.NewSimpleClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}})
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	f := informers.NewSharedInformerFactory(cs, 0)
	stop := make(chan struct{})
	defer func() { close(stop); f.Shutdown() }()
	allow := authorizer.AuthorizerFunc(func(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
		return authorizer.DecisionAllow, "", nil
	})
	adm, err := admission.New(admission.Options{Client: cs, Dynamic: dynamicfake.NewSimpleDynamicClient(scheme), Informers: f,
		Authorizer: allow, Scheme: scheme, RESTMapper: meta.NewDefaultRESTMapper(nil), Stop: stop})
	if err != nil {
		t.Fatal(err)
	}
	f.Start(stop)
	f.WaitForCacheSync(stop)
	started := func() map[reflect.Type]bool {
		closed := make(chan struct{})
		close(closed)
		return f.WaitForCacheSync(closed)
	}
	nsType, vapType := reflect.TypeOf(&corev1.Namespace{}), reflect.TypeOf(&admissionregistrationv1.ValidatingAdmissionPolicy{})

	write := func() error {
		attrs := k8sadmission.NewAttributesRecord(fuzzPod(), nil, corev1.SchemeGroupVersion.WithKind("Pod"), "default", "p",
			corev1.SchemeGroupVersion.WithResource("pods"), "", k8sadmission.Create, &metav1.CreateOptions{}, false, &user.DefaultInfo{Name: "t"})
		if err := adm.Mutate(context.Background(), attrs); err != nil {
			return err
		}
		return adm.Validate(context.Background(), attrs)
	}
	if adm.Active() {
		t.Fatal("active with nothing configured")
	}
	if err := write(); err != nil || calls.Load() != 0 {
		t.Fatalf("unconfigured write: %v, %d webhook calls", err, calls.Load())
	}
	if s := started(); s[nsType] || s[vapType] {
		t.Fatalf("plugin informers made with nothing configured: %v", s)
	}

	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	cfg := &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "m"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{Name: "m.example.com",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: ptr.To(srv.URL + "/hook"), CABundle: ca},
			Rules: []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}}}},
			FailurePolicy: ptr.To(admissionregistrationv1.Fail), MatchPolicy: ptr.To(admissionregistrationv1.Equivalent),
			NamespaceSelector: &metav1.LabelSelector{}, ObjectSelector: &metav1.LabelSelector{},
			SideEffects: ptr.To(admissionregistrationv1.SideEffectClassNone), TimeoutSeconds: ptr.To(int32(5)),
			AdmissionReviewVersions: []string{"v1"}, ReinvocationPolicy: ptr.To(admissionregistrationv1.NeverReinvocationPolicy)}}}
	if _, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(context.Background(), cfg, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "the configuration to be seen", adm.Active)
	t0 := time.Now()
	if err := write(); err != nil {
		t.Fatal(err)
	}
	t.Logf("first write after the configuration: %v (plugin built on the way)", time.Since(t0))
	if calls.Load() != 1 {
		t.Fatalf("webhook called %d times by the first write after its configuration, want 1", calls.Load())
	}
	if s := started(); !s[nsType] || s[vapType] {
		t.Fatalf("informers after a webhook configuration: %v (want namespaces, not policies)", s)
	}
}
