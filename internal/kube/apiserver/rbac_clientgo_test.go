package apiserver_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
)

// Nodes, the legacy node token, protobuf review bodies, TokenReview and
// the issuer discovery documents, through client-go.
func TestClientGoIdentities(t *testing.T) {
	srv := apiservertest.Start(t)
	ctx := context.Background()
	cfg := apiservertest.RESTConfig(t, srv)
	admin := kubernetes.NewForConfigOrDie(cfg)
	for _, n := range []string{"n1", "n2"} {
		if _, err := admin.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	nodeCfg := rest.CopyConfig(cfg)
	nodeCfg.Impersonate = rest.ImpersonationConfig{UserName: "system:node:n1", Groups: []string{"system:nodes"}}
	node := kubernetes.NewForConfigOrDie(nodeCfg)
	patch := []byte(`{"status":{"conditions":[{"type":"Ready","status":"True"}]}}`)
	// A node creates its own lease and no other (the name is in the body).
	for name, allowed := range map[string]bool{"n1": true, "n2": false} {
		_, err := node.CoordinationV1().Leases(corev1.NamespaceNodeLease).Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		if allowed && err != nil || !allowed && (!apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "can only access node lease with the same name as the requesting node")) {
			t.Errorf("node n1 creating lease %s: %v", name, err)
		}
	}
	if _, err := node.CoreV1().Nodes().Patch(ctx, "n1", types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		t.Fatalf("node patching its own status: %v", err)
	}
	_, err := node.CoreV1().Nodes().Patch(ctx, "n2", types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `node "n1" is not allowed to modify node "n2"`) {
		t.Fatalf("node patching another node's status: %v", err)
	}
	if _, err := node.CoreV1().Secrets("default").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("node listing secrets: %v", err)
	}

	// The legacy node token (remote agents) keeps the node role.
	legacy := rest.AnonymousClientConfig(cfg)
	legacy.BearerToken = srv.NodeToken()
	lc := kubernetes.NewForConfigOrDie(legacy)
	if _, err := lc.CoreV1().Nodes().Patch(ctx, "n2", types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		t.Fatalf("legacy node token: %v", err)
	}
	if _, err := lc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("legacy node token creating a namespace: %v", err)
	}

	// Review bodies in protobuf, as kubectl 1.32+ sends them.
	pcfg := rest.CopyConfig(cfg)
	pcfg.ContentType = "application/vnd.kubernetes.protobuf"
	pc := kubernetes.NewForConfigOrDie(pcfg)
	ssar, err := pc.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "delete", Resource: "nodes"}}}, metav1.CreateOptions{})
	if err != nil || !ssar.Status.Allowed {
		t.Fatalf("protobuf SSAR: %v %+v", err, ssar)
	}
	sar, err := pc.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{User: "system:node:n1", Groups: []string{"system:nodes"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Resource: "secrets", Namespace: "default", Name: "s"}}}, metav1.CreateOptions{})
	if err != nil || sar.Status.Allowed || !strings.Contains(sar.Status.Reason, "no relationship found between node 'n1'") {
		t.Fatalf("SAR for a node's unrelated secret: %v %+v", err, sar.Status)
	}

	// A ServiceAccount token, reviewed.
	if _, err := admin.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "bot"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	tr, err := admin.CoreV1().ServiceAccounts("default").CreateToken(ctx, "bot", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rv, err := admin.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: tr.Status.Token}}, metav1.CreateOptions{})
	if err != nil || !rv.Status.Authenticated || rv.Status.User.Username != "system:serviceaccount:default:bot" {
		t.Fatalf("TokenReview: %v %+v", err, rv.Status)
	}

	// Issuer discovery, for ServiceAccounts (and not for strangers).
	sacfg := rest.AnonymousClientConfig(cfg)
	sacfg.BearerToken = tr.Status.Token
	hc, err := rest.HTTPClientFor(sacfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/.well-known/openid-configuration", "/openid/v1/jwks"} {
		resp, err := hc.Get(srv.URL() + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"`) {
			t.Fatalf("%s: %d %s", p, resp.StatusCode, body)
		}
	}
}
