package apiserver_test

import (
	"context"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
)

// TestReviewAPIsDiscovered: the review APIs are in discovery, as
// kube-apiserver lists them, so controller-runtime's client (which finds a
// kind's resource through discovery) can create them, and kubectl
// api-resources shows them.
func TestReviewAPIsDiscovered(t *testing.T) {
	srv := apiservertest.Start(t)
	c, err := client.New(apiservertest.RESTConfig(t, srv), client.Options{Scheme: scheme.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: "alice",
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "default", Verb: "get", Resource: "pods"}}}
	if err := c.Create(ctx, sar); err != nil {
		t.Fatalf("SubjectAccessReview through controller-runtime: %v", err)
	}
	if sar.Status.Allowed {
		t.Errorf("alice may get pods: %+v", sar.Status)
	}
	lsar := &authorizationv1.LocalSubjectAccessReview{ObjectMeta: metav1.ObjectMeta{Namespace: "default"},
		Spec: authorizationv1.SubjectAccessReviewSpec{User: "alice", ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "default", Verb: "get", Resource: "pods"}}}
	if err := c.Create(ctx, lsar); err != nil {
		t.Fatalf("LocalSubjectAccessReview through controller-runtime: %v", err)
	}
	ssr := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(ctx, ssr); err != nil || ssr.Status.UserInfo.Username == "" {
		t.Fatalf("SelfSubjectReview through controller-runtime: %v %+v", err, ssr.Status)
	}

	for _, v := range []string{"1.27", "1.33"} {
		k := newKubectl(t, v, srv)
		contains(t, "api-resources", k.ok("api-resources", "--api-group=authorization.k8s.io"),
			"localsubjectaccessreviews", "selfsubjectaccessreviews", "selfsubjectrulesreviews", "subjectaccessreviews", "authorization.k8s.io/v1")
		contains(t, "api-resources", k.ok("api-resources", "--api-group=authentication.k8s.io"), "selfsubjectreviews", "tokenreviews")
		contains(t, "api-versions", k.ok("api-versions"), "authentication.k8s.io/v1", "authorization.k8s.io/v1", "metrics.k8s.io/v1beta1")
	}
}
