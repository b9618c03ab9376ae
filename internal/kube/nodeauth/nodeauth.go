// Package nodeauth is a node's side of TLS bootstrapping, as the kubelet
// does it: with a bootstrap token (good only for joining) it asks the
// certificates API for a client certificate as system:node:NAME in
// system:nodes, waits for the controller manager to approve and sign it,
// and returns a client configuration that uses the certificate; Rotation
// then renews it before it expires. Open keeps the certificate and its
// renewals in a directory as the kubelet does (client-go's FileStore), so
// a restarted node needs its bootstrap token only when it has no valid
// certificate. It is a client of the Kubernetes API.
package nodeauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/certificate/csr"
)

// Credentials are a node's client certificate and key (PEM).
type Credentials struct {
	CertPEM, KeyPEM []byte
}

// Join exchanges the bootstrap credentials of cfg (a bootstrap token) for
// node's client certificate. duration 0 lets the signer choose.
func Join(ctx context.Context, cfg *rest.Config, node string, duration time.Duration) (*Credentials, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
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
	req, err := certutil.MakeCSR(key, &pkix.Name{CommonName: "system:node:" + node, Organization: []string{"system:nodes"}}, nil, nil)
	if err != nil {
		return nil, err
	}
	var d *time.Duration
	if duration > 0 {
		d = &duration
	}
	name, uid, err := csr.RequestCertificateWithContext(ctx, cs, req, "", certificatesv1.KubeAPIServerClientKubeletSignerName, d,
		[]certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}, key)
	if err != nil {
		return nil, fmt.Errorf("nodeauth: request certificate: %w", err)
	}
	cert, err := csr.WaitForCertificate(ctx, cs, name, uid)
	if err != nil {
		return nil, fmt.Errorf("nodeauth: wait for certificate %s: %w", name, err)
	}
	return &Credentials{CertPEM: cert, KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})}, nil
}

// Config returns cfg authenticated with c instead of any token (its
// transport wrappers, dialer and CA kept).
func (c *Credentials) Config(cfg *rest.Config) *rest.Config {
	out := rest.CopyConfig(cfg)
	out.BearerToken, out.BearerTokenFile, out.Username, out.Password = "", "", "", ""
	out.CertFile, out.KeyFile = "", ""
	out.CertData, out.KeyData = c.CertPEM, c.KeyPEM
	return out
}

// Expiry is when the certificate ends (zero if it does not parse).
func (c *Credentials) Expiry() time.Time {
	certs, err := certutil.ParseCertsPEM(c.CertPEM)
	if err != nil || len(certs) == 0 {
		return time.Time{}
	}
	return certs[0].NotAfter
}
