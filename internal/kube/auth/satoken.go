package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Issuer is the cluster's ServiceAccount token issuer (kube-apiserver's
// --service-account-issuer), as kubeadm sets it.
const Issuer = "https://kubernetes.default.svc.cluster.local"

// legacyIssuer is the issuer of the tokens in legacy token Secrets.
const legacyIssuer = "kubernetes/serviceaccount"

// Tokens signs and verifies ServiceAccount tokens (ES256 JWTs) with the
// cluster's service-account key.
type Tokens struct {
	key    *ecdsa.PrivateKey
	kid    string
	signer jose.Signer
	// Audiences are the API server's own (--api-audiences): a bound token
	// must name one. Default: [Issuer].
	Audiences []string
}

// NewTokens builds the signer and verifier over key.
func NewTokens(key *ecdsa.PrivateKey) (*Tokens, error) {
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	kid := base64.RawURLEncoding.EncodeToString(sum[:])
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, err
	}
	return &Tokens{key: key, kid: kid, signer: signer, Audiences: []string{Issuer}}, nil
}

// KubernetesClaims are the private claims of a bound token.
type KubernetesClaims struct {
	Namespace      string `json:"namespace"`
	ServiceAccount ref    `json:"serviceaccount"`
	Pod            *ref   `json:"pod,omitempty"`
	Secret         *ref   `json:"secret,omitempty"`
	Node           *ref   `json:"node,omitempty"`
	WarnAfter      *int64 `json:"warnafter,omitempty"`
}

type ref struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

// Claims are a ServiceAccount token's claims, bound or legacy.
type Claims struct {
	jwt.Claims
	Kubernetes *KubernetesClaims `json:"kubernetes.io,omitempty"`
	// Legacy (token Secret) claims.
	LegacyNamespace string `json:"kubernetes.io/serviceaccount/namespace,omitempty"`
	LegacySecret    string `json:"kubernetes.io/serviceaccount/secret.name,omitempty"`
	LegacyName      string `json:"kubernetes.io/serviceaccount/service-account.name,omitempty"`
	LegacyUID       string `json:"kubernetes.io/serviceaccount/service-account.uid,omitempty"`
}

// Bound describes a token to issue through TokenRequest.
type Bound struct {
	Namespace, Name, UID string
	Audiences            []string
	Expiration           time.Duration
	// PodName/PodUID or SecretName/SecretUID bind the token to an object.
	PodName, PodUID       string
	SecretName, SecretUID string
}

// Issue signs a bound token; it returns the token and its expiry.
func (t *Tokens) Issue(b Bound, now time.Time) (string, time.Time, error) {
	aud := b.Audiences
	if len(aud) == 0 {
		aud = t.Audiences
	}
	exp := now.Add(b.Expiration)
	c := Claims{
		Claims: jwt.Claims{Issuer: Issuer, Subject: saUserPrefix + b.Namespace + ":" + b.Name, Audience: jwt.Audience(aud),
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(exp)},
		Kubernetes: &KubernetesClaims{Namespace: b.Namespace, ServiceAccount: ref{Name: b.Name, UID: b.UID}},
	}
	if jti, err := randomID(); err == nil {
		c.ID = jti
	}
	if b.PodName != "" {
		c.Kubernetes.Pod = &ref{Name: b.PodName, UID: b.PodUID}
	}
	if b.SecretName != "" {
		c.Kubernetes.Secret = &ref{Name: b.SecretName, UID: b.SecretUID}
	}
	s, err := jwt.Signed(t.signer).Claims(c).Serialize()
	return s, exp, err
}

// IssueLegacy signs the non-expiring token of a legacy token Secret.
func (t *Tokens) IssueLegacy(ns, name, uid, secret string) (string, error) {
	c := Claims{
		Claims:          jwt.Claims{Issuer: legacyIssuer, Subject: saUserPrefix + ns + ":" + name},
		LegacyNamespace: ns, LegacySecret: secret, LegacyName: name, LegacyUID: uid,
	}
	return jwt.Signed(t.signer).Claims(c).Serialize()
}

// errNotSAToken means the token is not one of ours (try other ways).
var errNotSAToken = errors.New("not a service account token")

// Verify checks a token's signature, issuer, time and audience and
// returns its claims. It does not check that the objects it names still
// exist: the Authenticator does.
func (t *Tokens) Verify(token string, now time.Time) (*Claims, error) {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, errNotSAToken
	}
	var c Claims
	if err := tok.Claims(crypto.PublicKey(&t.key.PublicKey), &c); err != nil {
		return nil, fmt.Errorf("invalid bearer token: %w", err)
	}
	switch c.Issuer {
	case legacyIssuer:
		if c.LegacyNamespace == "" || c.LegacyName == "" || c.LegacySecret == "" {
			return nil, errors.New("invalid bearer token: incomplete legacy claims")
		}
		return &c, nil
	case Issuer:
	default:
		return nil, errNotSAToken
	}
	if c.Kubernetes == nil || c.Kubernetes.Namespace == "" || c.Kubernetes.ServiceAccount.Name == "" {
		return nil, errors.New("invalid bearer token: incomplete claims")
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Time: now}, 0); err != nil {
		return nil, fmt.Errorf("invalid bearer token, %w", err)
	}
	if !slices.ContainsFunc(t.Audiences, c.Audience.Contains) {
		return nil, errors.New("invalid bearer token, token audiences don't match the API server's")
	}
	return &c, nil
}

// JWKS is the key set /openid/v1/jwks serves.
func (t *Tokens) JWKS() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &t.key.PublicKey, KeyID: t.kid, Algorithm: string(jose.ES256), Use: "sig"}}}
}

// OpenIDConfiguration is the document at /.well-known/openid-configuration.
func OpenIDConfiguration() map[string]any {
	return map[string]any{
		"issuer":                                Issuer,
		"jwks_uri":                              Issuer + "/openid/v1/jwks",
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{string(jose.ES256)},
	}
}
