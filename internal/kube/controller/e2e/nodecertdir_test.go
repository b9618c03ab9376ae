package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/stratus-cloud/stratus/internal/kube/nodeauth"
)

// TestNodeCertificateKept: a node's client certificate is kept in its
// certificate directory as the kubelet keeps it (kubelet-client-current.pem,
// mode 0600), so a restarted agent is system:node:NAME again without its
// bootstrap token, even after the token was deleted; a directory holding
// another node's certificate, or none, needs the token, and a deleted
// token then joins nothing.
func TestNodeCertificateKept(t *testing.T) {
	_, cs, bootCfg := joinCluster(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "pki")
	whoami := func(r *nodeauth.Rotation) string {
		t.Helper()
		who, err := kubernetes.NewForConfigOrDie(r.Config()).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("whoami: %v", err)
		}
		return who.Status.UserInfo.Username
	}

	first, joined, err := nodeauth.Open(ctx, bootCfg, "n1", dir, 0)
	if err != nil || !joined {
		t.Fatalf("first start: joined=%v err=%v", joined, err)
	}
	if got := whoami(first); got != "system:node:n1" {
		t.Fatalf("first start is %q", got)
	}
	fi, err := os.Stat(filepath.Join(dir, nodeauth.ClientPairName+"-current.pem"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("kept pair: %v %v", fi, err)
	}

	// The bootstrap token is revoked, as kubeadm's expire or an admin
	// deletes them.
	if err := cs.CoreV1().Secrets("kube-system").Delete(ctx, "bootstrap-token-n1join", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	again, joined, err := nodeauth.Open(ctx, bootCfg, "n1", dir, 0)
	if err != nil || joined {
		t.Fatalf("restart with a revoked token: joined=%v err=%v", joined, err)
	}
	if got := whoami(again); got != "system:node:n1" {
		t.Fatalf("restart is %q", got)
	}
	if !again.Expiry().Equal(first.Expiry()) {
		t.Errorf("restart has a certificate expiring %v, the kept one %v", again.Expiry(), first.Expiry())
	}
	// Without any token at all, too.
	if _, joined, err := nodeauth.Open(ctx, rest.AnonymousClientConfig(bootCfg), "n1", dir, 0); err != nil || joined {
		t.Fatalf("restart without a token: joined=%v err=%v", joined, err)
	}

	// Another node's name in the same directory, or a fresh directory:
	// the (revoked) token is needed and refused.
	for _, c := range []struct{ node, dir string }{{"n2", dir}, {"n1", t.TempDir()}} {
		if _, _, err := nodeauth.Open(ctx, bootCfg, c.node, c.dir, 0); !apierrors.IsUnauthorized(err) {
			t.Errorf("%s in %s with the revoked token: %v, want Unauthorized", c.node, c.dir, err)
		}
	}
	if _, _, err := nodeauth.Open(ctx, rest.AnonymousClientConfig(bootCfg), "n1", t.TempDir(), 0); err == nil {
		t.Error("a fresh directory without a token opened")
	}
}
