package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/testenv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	authenticationv1 "k8s.io/api/authentication/v1"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/kube/controller"
)

// Every namespace gets a default ServiceAccount and the kube-root-ca.crt
// ConfigMap; a legacy token Secret is filled in, and its token works.
func TestServiceAccountControllers(t *testing.T) {
	srv := apiservertest.Start(t)
	cs, err := kubernetes.NewForConfig(srv.LoopbackConfig())
	if err != nil {
		t.Fatal(err)
	}
	cm := controller.New(controller.Options{Client: cs, Log: testenv.Logger(), RootCA: srv.CACert(), LegacyTokenSigner: srv.SignLegacyToken,
		Disable: []string{"scheduler", "replication", "replicaset", "deployment", "endpoints", "endpointslice", "nodelifecycle", "nodeipam", "garbagecollector", "job", "servicelb"}})
	if err := cm.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopWithTimeout(t, "controllers", cm.Stop)
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"default", "kube-system", "team"} {
		testenv.Eventually(t, 10*time.Second, "default ServiceAccount in "+ns, func() bool {
			_, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
			return err == nil
		})
		testenv.Eventually(t, 10*time.Second, "kube-root-ca.crt in "+ns, func() bool {
			c, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
			return err == nil && c.Data["ca.crt"] == string(srv.CACert())
		})
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "default-token", Namespace: "team",
		Annotations: map[string]string{corev1.ServiceAccountNameKey: "default"}}, Type: corev1.SecretTypeServiceAccountToken}
	if _, err := cs.CoreV1().Secrets("team").Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var tok string
	testenv.Eventually(t, 10*time.Second, "legacy token filled in", func() bool {
		s, err := cs.CoreV1().Secrets("team").Get(ctx, "default-token", metav1.GetOptions{})
		if err != nil {
			return false
		}
		tok = string(s.Data[corev1.ServiceAccountTokenKey])
		return tok != "" && string(s.Data["namespace"]) == "team" && len(s.Data["ca.crt"]) > 0
	})
	cfg := rest.AnonymousClientConfig(apiservertest.RESTConfig(t, srv))
	cfg.BearerToken = tok
	sa := kubernetes.NewForConfigOrDie(cfg)
	rv, err := sa.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || rv.Status.UserInfo.Username != "system:serviceaccount:team:default" {
		t.Fatalf("whoami with the legacy token: %v %+v", err, rv)
	}
	if err := cs.CoreV1().Secrets("team").Delete(ctx, "default-token", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := sa.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{}); err == nil {
		t.Fatal("the token of a deleted Secret still authenticates")
	}
}
