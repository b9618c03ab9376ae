package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver"
	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/kube/auth"
	"github.com/stratus-cloud/stratus/internal/kube/controller"
	"github.com/stratus-cloud/stratus/internal/kube/nodeauth"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// joinCluster is a server whose controller manager approves and signs
// node client CSRs, each certificate lasting at most signing (0: a year),
// and a client configuration with the bootstrap token n1join.… it knows.
func joinCluster(t *testing.T, signing time.Duration) (*apiserver.Server, kubernetes.Interface, *rest.Config) {
	t.Helper()
	srv := apiservertest.Start(t)
	cs, err := kubernetes.NewForConfig(srv.LoopbackConfig())
	if err != nil {
		t.Fatal(err)
	}
	cm := controller.New(controller.Options{Client: cs, Log: testenv.Logger(), CSRSigner: srv.SignClientCSR, ClusterSigningDuration: signing,
		Disable: []string{"scheduler", "replication", "replicaset", "deployment", "endpoints", "endpointslice", "nodelifecycle", "nodeipam", "garbagecollector", "job", "servicelb", "serviceaccount"}})
	if err := cm.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopWithTimeout(t, "controllers", cm.Stop)
	const join = "n1join.0123456789abcdef"
	sec, err := auth.NewBootstrapSecret(join, "test join")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Secrets("kube-system").Create(context.Background(), sec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	bootCfg := rest.AnonymousClientConfig(apiservertest.RESTConfig(t, srv))
	bootCfg.BearerToken = join
	return srv, cs, bootCfg
}

// A node joins as a kubelet does: its bootstrap token buys a client
// certificate (CSR, auto-approval, signing) for system:node:NAME, with
// which it may write its own Node and not another's; the bootstrap token
// itself can do nothing else. Renewal asks again with the node identity.
func TestNodeJoinsWithBootstrapToken(t *testing.T) {
	_, cs, bootCfg := joinCluster(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	boot := kubernetes.NewForConfigOrDie(bootCfg)
	if _, err := boot.CoreV1().Secrets("").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("bootstrap token listing secrets: %v", err)
	}
	if _, err := boot.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}, metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("bootstrap token creating a node: %v", err)
	}

	jctx, jcancel := context.WithTimeout(ctx, 5*time.Second)
	defer jcancel()
	creds, err := nodeauth.Join(jctx, bootCfg, "n1", 0)
	if err != nil {
		l, _ := cs.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
		for _, c := range l.Items {
			t.Logf("csr %s spec.username=%q groups=%v signer=%s status=%+v", c.Name, c.Spec.Username, c.Spec.Groups, c.Spec.SignerName, c.Status.Conditions)
		}
		t.Fatal(err)
	}
	nodeCfg := creds.Config(bootCfg)
	node := kubernetes.NewForConfigOrDie(nodeCfg)
	who, err := node.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || who.Status.UserInfo.Username != "system:node:n1" || !strings.Contains(strings.Join(who.Status.UserInfo.Groups, ","), "system:nodes") {
		t.Fatalf("whoami with the node certificate: %v %+v", err, who)
	}
	for _, n := range []string{"n1", "n2"} {
		if _, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	patch := []byte(`{"status":{"conditions":[{"type":"Ready","status":"True"}]}}`)
	if _, err := node.CoreV1().Nodes().Patch(ctx, "n1", types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		t.Fatalf("node writing its own status: %v", err)
	}
	if _, err := node.CoreV1().Nodes().Patch(ctx, "n2", types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status"); !apierrors.IsForbidden(err) {
		t.Fatalf("node writing another node's status: %v", err)
	}
	if !creds.Expiry().After(time.Now().Add(300 * 24 * time.Hour)) {
		t.Fatalf("certificate expires %v", creds.Expiry())
	}
	// Renewal: the node asks for a new certificate with its current one
	// (selfnodeclient).
	renewed, err := nodeauth.Join(ctx, nodeCfg, "n1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if e := renewed.Expiry(); e.After(time.Now().Add(2*time.Hour)) || e.Before(time.Now()) {
		t.Fatalf("renewed certificate expires %v", e)
	}
	// A node may not ask for another node's certificate.
	short, scancel := context.WithTimeout(ctx, 2*time.Second)
	defer scancel()
	if _, err := nodeauth.Join(short, nodeCfg, "n2", 0); err == nil {
		t.Fatal("node n1 obtained a certificate for n2")
	}
}
