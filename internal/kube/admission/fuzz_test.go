package admission_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
)

// fuzzWebhook is one mutating and one validating webhook, both answered by
// a TLS server that replies with whatever body is set ("$UID" becomes the
// request's uid, so well-formed answers are possible).
type fuzzWebhook struct {
	adm  *admission.Admission
	body atomic.Pointer[[]byte]
}

func newFuzzWebhook(tb testing.TB) *fuzzWebhook {
	tb.Helper()
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	fw := &fuzzWebhook{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var review admissionv1.AdmissionReview
		_ = json.NewDecoder(r.Body).Decode(&review)
		uid := ""
		if review.Request != nil {
			uid = string(review.Request.UID)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(bytes.ReplaceAll(*fw.body.Load(), []byte("$UID"), []byte(uid)))
	}))
	tb.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	cc := admissionregistrationv1.WebhookClientConfig{URL: ptr.To(srv.URL + "/hook"), CABundle: ca}
	rules := []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.OperationAll},
		Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}, Scope: ptr.To(admissionregistrationv1.AllScopes)}}}
	common := func() (*admissionregistrationv1.FailurePolicyType, *admissionregistrationv1.MatchPolicyType, *metav1.LabelSelector, *admissionregistrationv1.SideEffectClass) {
		return ptr.To(admissionregistrationv1.Fail), ptr.To(admissionregistrationv1.Equivalent), &metav1.LabelSelector{}, ptr.To(admissionregistrationv1.SideEffectClassNone)
	}
	fp, mp, sel, se := common()
	mut := &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "m"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{Name: "m.example.com", ClientConfig: cc, Rules: rules, FailurePolicy: fp,
			MatchPolicy: mp, NamespaceSelector: sel, ObjectSelector: sel, SideEffects: se, TimeoutSeconds: ptr.To(int32(5)),
			AdmissionReviewVersions: []string{"v1", "v1beta1"}, ReinvocationPolicy: ptr.To(admissionregistrationv1.IfNeededReinvocationPolicy)}}}
	val := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "v"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{Name: "v.example.com", ClientConfig: cc, Rules: rules, FailurePolicy: fp,
			MatchPolicy: mp, NamespaceSelector: sel, ObjectSelector: sel, SideEffects: se, TimeoutSeconds: ptr.To(int32(5)),
			AdmissionReviewVersions: []string{"v1"}}}}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	cs := fake.NewSimpleClientset(mut, val, ns)
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		tb.Fatal(err)
	}
	f := informers.NewSharedInformerFactory(cs, 0)
	stop := make(chan struct{})
	tb.Cleanup(func() { close(stop); f.Shutdown() })
	allow := authorizer.AuthorizerFunc(func(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
		return authorizer.DecisionAllow, "", nil
	})
	adm, err := admission.New(admission.Options{Client: cs, Dynamic: dynamicfake.NewSimpleDynamicClient(scheme), Informers: f,
		Authorizer: allow, Scheme: scheme, RESTMapper: meta.NewDefaultRESTMapper(nil), Stop: stop})
	if err != nil {
		tb.Fatal(err)
	}
	f.Start(stop)
	f.WaitForCacheSync(stop)
	deadline := time.Now().Add(10 * time.Second)
	for !adm.HasSynced() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	fw.adm = adm
	return fw
}

func fuzzPod() *corev1.Pod {
	return &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", Labels: map[string]string{"a": "b"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
}

// FuzzWebhookResponse sends webhook answers of any shape through the real
// call path (client, AdmissionReview decoding and checks, JSON patch,
// conversion back into the object): no answer may panic the server, an
// error is always an API status, and an allowed mutation leaves a pod.
func FuzzWebhookResponse(f *testing.F) {
	for _, seed := range []string{
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"$UID","allowed":true}}`,
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"$UID","allowed":false,"status":{"code":403,"message":"no"}}}`,
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"$UID","allowed":true,"warnings":["w"],"patchType":"JSONPatch","patch":"W3sib3AiOiJhZGQiLCJwYXRoIjoiL21ldGFkYXRhL2xhYmVscy94IiwidmFsdWUiOiJ5In1d"}}`,
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"$UID","allowed":true,"patchType":"JSONPatch","patch":"W3sib3AiOiJyZXBsYWNlIiwicGF0aCI6Ii9zcGVjIiwidmFsdWUiOjF9XQ=="}}`,
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"$UID","allowed":true,"patchType":"JSONPatch","patch":"W3sib3AiOiJyZW1vdmUiLCJwYXRoIjoiL2tpbmQifV0="}}`,
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"other","allowed":true}}`,
		`{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","response":{"uid":"$UID","allowed":true}}`,
		`{"kind":"AdmissionReview"}`,
		`{"response":null}`,
		`not json`,
		``,
	} {
		f.Add([]byte(seed))
	}
	fw := newFuzzWebhook(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		fw.body.Store(&body)
		pod := fuzzPod()
		attrs := k8sadmission.NewAttributesRecord(pod, nil, corev1.SchemeGroupVersion.WithKind("Pod"), "default", "p",
			corev1.SchemeGroupVersion.WithResource("pods"), "", k8sadmission.Create, &metav1.CreateOptions{}, false,
			&user.DefaultInfo{Name: "fuzz"})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := fw.adm.Mutate(ctx, attrs)
		if err == nil {
			if _, ok := attrs.GetObject().(*corev1.Pod); !ok {
				t.Fatalf("mutation left %T", attrs.GetObject())
			}
			err = fw.adm.Validate(ctx, attrs)
		}
		if err != nil {
			if _, ok := err.(apierrors.APIStatus); !ok {
				t.Fatalf("error %T is not an API status: %v", err, err)
			}
		}
	})
}

// TestWebhookAnswers: what the fuzz seeds do, checked.
func TestWebhookAnswers(t *testing.T) {
	fw := newFuzzWebhook(t)
	for _, c := range []struct {
		name, body, wantErr, wantLabel string
	}{
		{"allowed", `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"$UID","allowed":true}}`, "", ""},
		{"denied", `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"$UID","allowed":false,"status":{"code":403,"message":"no"}}}`,
			`admission webhook "m.example.com" denied the request: no`, ""},
		{"patched", `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"$UID","allowed":true,"patchType":"JSONPatch","patch":"W3sib3AiOiJhZGQiLCJwYXRoIjoiL21ldGFkYXRhL2xhYmVscy94IiwidmFsdWUiOiJ5In1d"}}`, "", "y"},
		{"wrong uid", `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"other","allowed":true}}`,
			`failed calling webhook "m.example.com": received invalid webhook response: expected response.uid=`, ""},
		{"not json", `not json`, `failed calling webhook "m.example.com": failed to call webhook:`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := []byte(c.body)
			fw.body.Store(&body)
			pod := fuzzPod()
			attrs := k8sadmission.NewAttributesRecord(pod, nil, corev1.SchemeGroupVersion.WithKind("Pod"), "default", "p",
				corev1.SchemeGroupVersion.WithResource("pods"), "", k8sadmission.Create, &metav1.CreateOptions{}, false,
				&user.DefaultInfo{Name: "t"})
			err := fw.adm.Mutate(context.Background(), attrs)
			if c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || !bytes.Contains([]byte(err.Error()), []byte(c.wantErr))) {
				t.Fatalf("got %v, want %q", err, c.wantErr)
			}
			if got := pod.Labels["x"]; got != c.wantLabel {
				t.Errorf("label x = %q, want %q", got, c.wantLabel)
			}
		})
	}
}
