package apiserver_test

import (
	"context"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver"
	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/store/memory"
)

// TestJoinToken: the token agents are given is a bootstrap token, good for
// joining (a node client CSR) and for nothing else, kept across restarts;
// a legacy token an operator chose stays what agents are given.
func TestJoinToken(t *testing.T) {
	mem := memory.New(memory.Options{})
	t.Cleanup(func() { mem.Close() })
	srv := apiservertest.StartWith(t, apiservertest.Options{Store: mem})
	tok := srv.JoinToken()
	if !bootstraputil.IsValidBootstrapToken(tok) {
		t.Fatalf("join token %q is not a bootstrap token", tok)
	}
	c := rest.AnonymousClientConfig(apiservertest.RESTConfig(t, srv))
	c.BearerToken = tok
	cs := clientset(t, c)
	ctx := context.Background()
	if _, err := cs.CoreV1().Secrets("kube-system").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) ||
		!strings.Contains(err.Error(), `User "system:bootstrap:`+tok[:6]+`" cannot list resource "secrets"`) {
		t.Errorf("join token listing secrets: %v", err)
	}
	if _, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("join token listing nodes: %v", err)
	}
	ssar, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "create", Group: "certificates.k8s.io", Resource: "certificatesigningrequests"}}}, metav1.CreateOptions{})
	if err != nil || !ssar.Status.Allowed {
		t.Errorf("join token may not ask for a certificate: %v %+v", err, ssar)
	}
	again := apiservertest.StartWith(t, apiservertest.Options{Store: mem})
	if again.JoinToken() != tok {
		t.Errorf("a second server of the store has join token %q, want %q", again.JoinToken(), tok)
	}
	legacy, err := apiserver.New(apiserver.Options{Store: mem, NodeToken: "chosen-by-the-operator"})
	if err != nil {
		t.Fatal(err)
	}
	if legacy.JoinToken() != "chosen-by-the-operator" {
		t.Errorf("legacy join token %q", legacy.JoinToken())
	}
}
