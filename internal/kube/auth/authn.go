package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
	"k8s.io/utils/clock"
)

// Objects reads what authentication checks tokens against.
type Objects interface {
	Secret(ctx context.Context, ns, name string) (*corev1.Secret, error)
	ServiceAccount(ctx context.Context, ns, name string) (*corev1.ServiceAccount, error)
	Pod(ctx context.Context, ns, name string) (*corev1.Pod, error)
}

// Authenticator finds who a request comes from: a client certificate
// verified against the cluster CA (CN is the user, O the groups), the
// admin token (system:masters), a ServiceAccount token, a bootstrap token,
// or (until node agents join with certificates) the legacy node token.
type Authenticator struct {
	AdminToken string
	// LegacyNodeToken authenticates as user LegacyNodeUser, which RBAC
	// binds to the node roles; empty disables it.
	LegacyNodeToken string
	// ClientCAs verify client certificates (nil: none accepted).
	ClientCAs *x509.CertPool
	Tokens    *Tokens
	Objects   Objects
	// Clock gives the time (default the wall clock).
	Clock clock.PassiveClock
}

// LegacyNodeUser is who the legacy node token authenticates as.
const LegacyNodeUser = "system:node"

// ErrUnauthorized is a credential that was presented but is not valid.
var ErrUnauthorized = errors.New("Unauthorized")

// Authenticate returns the request's user, nil without credentials, or an
// error for credentials that do not hold.
func (a *Authenticator) Authenticate(r *http.Request) (*User, error) {
	if tok, ok := bearer(r); ok {
		return a.Token(r.Context(), tok)
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 && a.ClientCAs != nil {
		return a.certificate(r.TLS.PeerCertificates)
	}
	return nil, nil
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", false
	}
	tok := strings.TrimSpace(h[len(prefix):])
	return tok, tok != ""
}

func (a *Authenticator) certificate(chain []*x509.Certificate) (*User, error) {
	opts := x509.VerifyOptions{Roots: a.ClientCAs, Intermediates: x509.NewCertPool(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, CurrentTime: a.now()}
	for _, c := range chain[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := chain[0].Verify(opts); err != nil {
		return nil, ErrUnauthorized
	}
	sub := chain[0].Subject
	if sub.CommonName == "" {
		return nil, ErrUnauthorized
	}
	groups := append(append([]string(nil), sub.Organization...), GroupAuthenticated)
	return &User{Name: sub.CommonName, Groups: groups}, nil
}

func (a *Authenticator) now() time.Time {
	if a.Clock != nil {
		return a.Clock.Now()
	}
	return time.Now()
}

// Token authenticates a bearer token (also what TokenReview asks).
func (a *Authenticator) Token(ctx context.Context, tok string) (*User, error) {
	switch {
	case a.AdminToken != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(a.AdminToken)) == 1:
		return &User{Name: "admin", Groups: []string{GroupMasters, GroupAuthenticated}}, nil
	case a.LegacyNodeToken != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(a.LegacyNodeToken)) == 1:
		return &User{Name: LegacyNodeUser, Groups: []string{GroupNodes, GroupAuthenticated}}, nil
	case bootstraputil.IsValidBootstrapToken(tok):
		return a.bootstrapToken(ctx, tok)
	}
	if a.Tokens == nil {
		return nil, ErrUnauthorized
	}
	c, err := a.Tokens.Verify(tok, a.now())
	if err != nil {
		return nil, ErrUnauthorized
	}
	return a.serviceAccount(ctx, c)
}

// serviceAccount checks that what a verified token names still exists
// (the ServiceAccount, and the Pod or Secret it is bound to).
func (a *Authenticator) serviceAccount(ctx context.Context, c *Claims) (*User, error) {
	if a.Objects == nil {
		return nil, ErrUnauthorized
	}
	ns, name, uid := c.LegacyNamespace, c.LegacyName, c.LegacyUID
	if c.Kubernetes != nil {
		ns, name, uid = c.Kubernetes.Namespace, c.Kubernetes.ServiceAccount.Name, c.Kubernetes.ServiceAccount.UID
	}
	sa, err := a.Objects.ServiceAccount(ctx, ns, name)
	if err != nil || string(sa.UID) != uid || sa.DeletionTimestamp != nil {
		return nil, ErrUnauthorized
	}
	u := ServiceAccountUser(ns, name, uid)
	switch {
	case c.LegacySecret != "":
		s, err := a.Objects.Secret(ctx, ns, c.LegacySecret)
		if err != nil || s.DeletionTimestamp != nil || s.Type != corev1.SecretTypeServiceAccountToken {
			return nil, ErrUnauthorized
		}
	case c.Kubernetes.Pod != nil:
		p, err := a.Objects.Pod(ctx, ns, c.Kubernetes.Pod.Name)
		if err != nil || string(p.UID) != c.Kubernetes.Pod.UID || p.DeletionTimestamp != nil {
			return nil, ErrUnauthorized
		}
		u.Extra = map[string][]string{"authentication.kubernetes.io/pod-name": {p.Name}, "authentication.kubernetes.io/pod-uid": {string(p.UID)}}
	case c.Kubernetes.Secret != nil:
		s, err := a.Objects.Secret(ctx, ns, c.Kubernetes.Secret.Name)
		if err != nil || string(s.UID) != c.Kubernetes.Secret.UID || s.DeletionTimestamp != nil {
			return nil, ErrUnauthorized
		}
	}
	if c.ID != "" {
		if u.Extra == nil {
			u.Extra = map[string][]string{}
		}
		u.Extra["authentication.kubernetes.io/credential-id"] = []string{"JTI=" + c.ID}
	}
	return u, nil
}

// bootstrapToken checks "ID.SECRET" against Secret
// kube-system/bootstrap-token-ID, as kube-apiserver's bootstrap token
// authenticator does: right type, matching secret, usable for
// authentication, not expired, not being deleted.
func (a *Authenticator) bootstrapToken(ctx context.Context, tok string) (*User, error) {
	id, secret, _ := strings.Cut(tok, ".")
	if a.Objects == nil {
		return nil, ErrUnauthorized
	}
	s, err := a.Objects.Secret(ctx, metav1NamespaceSystem, bootstraputil.BootstrapTokenSecretName(id))
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, ErrUnauthorized
		}
		return nil, err
	}
	u, ok := BootstrapUser(s, id, secret, a.now())
	if !ok {
		return nil, ErrUnauthorized
	}
	return u, nil
}

const metav1NamespaceSystem = "kube-system"

// BootstrapUser validates a bootstrap token Secret for id and secret and
// returns its user.
func BootstrapUser(s *corev1.Secret, id, secret string, now time.Time) (*User, bool) {
	if s == nil || s.DeletionTimestamp != nil || s.Type != bootstrapapi.SecretTypeBootstrapToken {
		return nil, false
	}
	get := func(k string) string { return string(s.Data[k]) }
	if get(bootstrapapi.BootstrapTokenIDKey) != id ||
		subtle.ConstantTimeCompare([]byte(get(bootstrapapi.BootstrapTokenSecretKey)), []byte(secret)) != 1 ||
		get(bootstrapapi.BootstrapTokenUsageAuthentication) != "true" {
		return nil, false
	}
	if exp := get(bootstrapapi.BootstrapTokenExpirationKey); exp != "" {
		t, err := time.Parse(time.RFC3339, exp)
		if err != nil || !now.Before(t) {
			return nil, false
		}
	}
	groups := []string{GroupBootstrappers}
	if extra := get(bootstrapapi.BootstrapTokenExtraGroupsKey); extra != "" {
		for _, g := range strings.Split(extra, ",") {
			if bootstraputil.ValidateBootstrapGroupName(g) != nil {
				return nil, false
			}
			if g != GroupBootstrappers {
				groups = append(groups, g)
			}
		}
	}
	return &User{Name: bootstrapapi.BootstrapUserPrefix + id, Groups: append(groups, GroupAuthenticated)}, true
}

// NewBootstrapSecret is the Secret of a new bootstrap token good for
// authentication (joining); token is "ID.SECRET".
func NewBootstrapSecret(token, description string) (*corev1.Secret, error) {
	id, secret, ok := strings.Cut(token, ".")
	if !ok || !bootstraputil.IsValidBootstrapToken(token) {
		return nil, errors.New("auth: not a bootstrap token")
	}
	s := &corev1.Secret{Type: bootstrapapi.SecretTypeBootstrapToken, Data: map[string][]byte{
		bootstrapapi.BootstrapTokenIDKey:               []byte(id),
		bootstrapapi.BootstrapTokenSecretKey:           []byte(secret),
		bootstrapapi.BootstrapTokenUsageAuthentication: []byte("true"),
		bootstrapapi.BootstrapTokenDescriptionKey:      []byte(description),
	}}
	s.Name, s.Namespace = bootstraputil.BootstrapTokenSecretName(id), metav1NamespaceSystem
	return s, nil
}

func randomID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}
