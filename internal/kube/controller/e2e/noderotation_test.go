package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"path/filepath"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/kube/nodeauth"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestNodeCertificateRotation: a node agent joined with a bootstrap token
// renews its client certificate before it expires, as the kubelet's
// certificate manager does (new CSRs as the node itself, signed by
// kube-apiserver-client-kubelet), and goes on working with the new one
// after the first has expired: its lease is renewed, its watches go on,
// and it is still system:node:n1; each renewal is kept in its directory. The signer issues 20-second
// certificates.
func TestNodeCertificateRotation(t *testing.T) {
	const lifetime = 20 * time.Second
	srv, cs, bootCfg := joinCluster(t, lifetime)
	ctx := context.Background()
	jctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	dir := t.TempDir()
	rot, _, err := nodeauth.Open(jctx, bootCfg, "n1", dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	first := rot.Expiry()
	if first.After(time.Now().Add(lifetime)) {
		t.Fatalf("first certificate expires %v, want within %v", first, lifetime)
	}
	if err := rot.Start(ctx); err != nil {
		t.Fatal(err)
	}
	stopWithTimeout(t, "rotation", rot.Stop)
	node := kubernetes.NewForConfigOrDie(rot.Config())
	a, err := agent.New(agent.Options{Client: node, NodeName: "n1", Runtime: sim.New(sim.Options{}),
		Certs: agent.LocalCerts{Issue: srv.IssueKubeletServingCert, CA: srv.CACert()}, Log: testenv.Logger(),
		Timing: agent.Timing{LeaseDuration: 8 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	stopWithTimeout(t, "agent", a.Stop)
	testenv.Eventually(t, 10*time.Second, "the agent ready", a.Ready)
	n, err := cs.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	testenv.Eventually(t, 2*lifetime, "the lease renewed after the first certificate expired", func() bool {
		l, err := cs.CoordinationV1().Leases("kube-node-lease").Get(ctx, "n1", metav1.GetOptions{})
		return err == nil && l.Spec.RenewTime != nil && l.Spec.RenewTime.After(first.Add(time.Second))
	})
	if !rot.Expiry().After(first) {
		t.Errorf("the certificate was not renewed: it expires %v, the first %v", rot.Expiry(), first)
	}
	if rot.Expiry().Sub(first) > 3*lifetime {
		t.Errorf("renewed certificate expires %v, the first %v: not a new one of the signer's lifetime", rot.Expiry(), first)
	}
	// The renewal was kept in the directory, as the kubelet keeps it.
	kept, err := tls.LoadX509KeyPair(filepath.Join(dir, nodeauth.ClientPairName+"-current.pem"), filepath.Join(dir, nodeauth.ClientPairName+"-current.pem"))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(kept.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if !leaf.NotAfter.After(first) {
		t.Errorf("kept certificate expires %v, the first %v: the renewal was not kept", leaf.NotAfter, first)
	}
	who, err := node.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || who.Status.UserInfo.Username != "system:node:n1" {
		t.Fatalf("whoami after the first certificate expired: %v %+v", err, who)
	}
	again, err := cs.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if err != nil || again.UID != n.UID {
		t.Errorf("the node was replaced or lost: %v (uid %v, was %v)", err, again.UID, n.UID)
	}
	// The renewals were asked for by the node itself, of the kubelet
	// client signer, and issued.
	l, err := cs.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	renewals := 0
	for _, c := range l.Items {
		if c.Spec.Username == "system:node:n1" && c.Spec.SignerName == certificatesv1.KubeAPIServerClientKubeletSignerName && len(c.Status.Certificate) > 0 {
			renewals++
		}
	}
	if renewals == 0 {
		t.Errorf("no issued CSR from system:node:n1 among %d", len(l.Items))
	}
}
