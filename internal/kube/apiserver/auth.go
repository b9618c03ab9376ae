package apiserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"

	"github.com/stratus-cloud/stratus/internal/kube/auth"
	"github.com/stratus-cloud/stratus/internal/kube/informersync"
	"github.com/stratus-cloud/stratus/internal/kube/registry"
	"github.com/stratus-cloud/stratus/internal/store"
)

// userKey is the context key of the request's user (after impersonation).
type userKey struct{}

// saKeyKey is where the ServiceAccount token signing key lives in the
// store, beside the CA (pkiKey), so every server of a cluster signs and
// verifies with the same key.
const saKeyKey = "/stratus/kube/sa-key"

// loadSAKey reads the ServiceAccount signing key, creating it on first use.
func loadSAKey(ctx context.Context, st store.Store) (*ecdsa.PrivateKey, error) {
	for range 3 {
		kv, err := st.Get(ctx, saKeyKey)
		if err == nil {
			b, _ := pem.Decode(kv.Value)
			if b == nil {
				return nil, errors.New("apiserver: stored service account key is not PEM")
			}
			return x509.ParseECPrivateKey(b.Bytes)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return nil, err
		}
		data := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
		if _, err := st.Txn(ctx, store.Create(saKeyKey, data)); err == nil {
			return key, nil
		} else if !errors.Is(err, store.ErrConflict) {
			return nil, err
		}
	}
	return nil, errors.New("apiserver: could not store the service account key")
}

// authState is the server's authentication and authorization.
type authState struct {
	authn  *auth.Authenticator
	tokens *auth.Tokens
	rbac   *auth.RBAC
	node   *auth.Node
	authz  auth.Chain
	// informers feed RBAC (started by startAuthz).
	informers informers.SharedInformerFactory
	source    *auth.InformerSource
	// reviews decodes review and TokenRequest bodies.
	reviews runtime.Decoder
}

// setupAuth builds authentication and authorization (New calls it).
func (s *Server) setupAuth(ctx context.Context) error {
	key, err := loadSAKey(ctx, s.opts.Store)
	if err != nil {
		return err
	}
	tokens, err := auth.NewTokens(key)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.bundle.CACertPEM) {
		return errors.New("apiserver: CA certificate does not parse")
	}
	a := &s.auth
	a.tokens, a.reviews = tokens, newReviewDecoder()
	a.authn = &auth.Authenticator{AdminToken: s.bundle.AdminToken, LegacyNodeToken: s.bundle.NodeToken,
		ClientCAs: pool, Tokens: tokens, Objects: storageObjects{s}, Clock: s.opts.Clock}
	a.node = auth.NewNode(s.podsOnNode)
	return nil
}

// startAuthz seeds the bootstrap policy and starts the RBAC informers over
// the loopback client (as system:masters, which needs no RBAC), waiting
// until they have synced.
func (s *Server) startAuthz(ctx context.Context) error {
	if err := together(func() error { return s.seedPolicy(ctx) }, func() error { return s.ensureJoinSecret(ctx) }); err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(s.LoopbackConfig())
	if err != nil {
		return err
	}
	a := &s.auth
	a.informers = informers.NewSharedInformerFactory(cs, 0)
	a.source = auth.NewInformerSource(a.informers)
	a.rbac = auth.NewRBAC(a.source)
	if err := a.source.Watch(a.rbac); err != nil {
		return err
	}
	a.authz = auth.Chain{auth.Masters{}, a.node, a.rbac}
	if err := s.setupAdmission(cs); err != nil {
		return err
	}
	a.informers.Start(s.base.Done())
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if !informersync.Factory(sctx.Done(), a.informers) || !informersync.Wait(sctx.Done(), s.admission.HasSynced) {
		return fmt.Errorf("apiserver: RBAC and admission informers did not sync: %w", sctx.Err())
	}
	return nil
}

// seedPolicy creates the bootstrap ClusterRoles and ClusterRoleBindings
// that are missing (existing ones are left as they are).
func (s *Server) seedPolicy(ctx context.Context) error {
	crr := s.reg.Lookup("rbac.authorization.k8s.io", "v1", "clusterroles")
	crbr := s.reg.Lookup("rbac.authorization.k8s.io", "v1", "clusterrolebindings")
	var fns []func() error
	for _, cr := range auth.ClusterRoles() {
		fns = append(fns, func() error { return s.ensure(ctx, crr, cr, registry.WriteOptions{}) })
	}
	for _, b := range auth.ClusterRoleBindings() {
		fns = append(fns, func() error { return s.ensure(ctx, crbr, b, registry.WriteOptions{}) })
	}
	return together(fns...)
}

// ensureJoinSecret creates the bootstrap token Secret of the cluster's
// join token when it is missing (kube-system/bootstrap-token-ID, good for
// authentication only, without expiry), as kubeadm init does for the token
// it prints. Deleting the Secret revokes the token until the next start.
func (s *Server) ensureJoinSecret(ctx context.Context) error {
	id, secret, ok := strings.Cut(s.bundle.JoinToken, ".")
	if !ok {
		return nil
	}
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: bootstraputil.BootstrapTokenSecretName(id), Namespace: metav1.NamespaceSystem},
		Type:       bootstrapapi.SecretTypeBootstrapToken,
		Data: map[string][]byte{
			bootstrapapi.BootstrapTokenIDKey:               []byte(id),
			bootstrapapi.BootstrapTokenSecretKey:           []byte(secret),
			bootstrapapi.BootstrapTokenUsageAuthentication: []byte("true"),
			bootstrapapi.BootstrapTokenDescriptionKey:      []byte("the join token stratus up prints"),
		},
	}
	return s.ensure(ctx, s.reg.Lookup("", "v1", "secrets"), sec, registry.WriteOptions{})
}

// storageObjects reads the objects tokens are checked against.
type storageObjects struct{ s *Server }

func (o storageObjects) get(ctx context.Context, resource, ns, name string) (any, error) {
	return o.s.storage.Get(ctx, o.s.reg.Lookup("", "v1", resource), ns, name)
}

func (o storageObjects) Secret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	obj, err := o.get(ctx, "secrets", ns, name)
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.Secret), nil
}

func (o storageObjects) ServiceAccount(ctx context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	obj, err := o.get(ctx, "serviceaccounts", ns, name)
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.ServiceAccount), nil
}

func (o storageObjects) Pod(ctx context.Context, ns, name string) (*corev1.Pod, error) {
	obj, err := o.get(ctx, "pods", ns, name)
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.Pod), nil
}

// podsOnNode lists the pods bound to node (the Node authorizer's graph).
func (s *Server) podsOnNode(ctx context.Context, node string) ([]*corev1.Pod, error) {
	res := s.reg.Lookup("", "v1", "pods")
	p := registry.Predicate{Field: fields.OneTermEqualSelector("spec.nodeName", node)}
	lr, err := s.storage.List(ctx, res, "", p, 0, "")
	if err != nil {
		return nil, err
	}
	out := make([]*corev1.Pod, 0, len(lr.Items))
	for _, o := range lr.Items {
		out = append(out, o.(*corev1.Pod))
	}
	return out, nil
}

// SignLegacyToken signs the token of a legacy ServiceAccount token Secret
// (for the controller manager's token controller, in-process).
func (s *Server) SignLegacyToken(ns, serviceAccount, uid, secret string) (string, error) {
	return s.auth.tokens.IssueLegacy(ns, serviceAccount, uid, secret)
}

// SignClientCSR signs an approved node client certificate request with
// the cluster CA (for the controller manager's CSR signer, in-process).
func (s *Server) SignClientCSR(csrPEM []byte, ttl time.Duration) ([]byte, error) {
	return s.bundle.SignClientCSR(csrPEM, s.now(), ttl)
}

// userFrom is the request's user once authenticated (after impersonation).
func userFrom(ctx context.Context) *auth.User {
	u, _ := ctx.Value(userKey{}).(*auth.User)
	return u
}
