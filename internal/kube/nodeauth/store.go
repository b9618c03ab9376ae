package nodeauth

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/certificate"
)

// ClientPairName is the name of a node's client certificate pair in its
// certificate directory, the kubelet's: DIR/kubelet-client-current.pem (a
// link to the newest DIR/kubelet-client-TIMESTAMP.pem, certificate and key
// in one file, mode 0600).
const ClientPairName = "kubelet-client"

// Open returns a node's client certificate rotation, as a kubelet starts
// one: a certificate kept in dir (client-go's certificate FileStore) that
// names node and has not expired is used as it is, without the bootstrap
// credentials; otherwise the bootstrap configuration base (a bootstrap
// token) buys one with Join, which is kept in dir before it is used.
// Renewals are kept in dir as well, so a restarted agent needs its
// bootstrap token only when its certificate has expired (or was never
// issued). joined says whether the bootstrap credentials were used.
func Open(ctx context.Context, base *rest.Config, node, dir string, lifetime time.Duration) (r *Rotation, joined bool, err error) {
	store, err := openStore(dir)
	if err != nil {
		return nil, false, err
	}
	creds, err := stored(store, node, time.Now())
	if err != nil {
		return nil, false, err
	}
	if creds == nil {
		if base.BearerToken == "" && base.BearerTokenFile == "" {
			return nil, false, fmt.Errorf("nodeauth: no valid certificate for %s in %s, and no bootstrap token to ask for one", node, dir)
		}
		if creds, err = Join(ctx, base, node, lifetime); err != nil {
			return nil, false, err
		}
		if _, err := store.Update(creds.CertPEM, creds.KeyPEM); err != nil {
			return nil, false, fmt.Errorf("nodeauth: keep the certificate in %s: %w", dir, err)
		}
		joined = true
	}
	r, err = NewRotation(base, node, creds, lifetime)
	if err != nil {
		return nil, false, err
	}
	r.disk = store
	return r, joined, nil
}

// openStore is dir's FileStore, dir made (0700: it holds private keys)
// when missing.
func openStore(dir string) (certificate.FileStore, error) {
	if dir == "" {
		return nil, errors.New("nodeauth: no certificate directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("nodeauth: certificate directory: %w", err)
	}
	return certificate.NewFileStore(ClientPairName, dir, dir, "", "")
}

// stored is the pair in store if it is node's client certificate and
// valid at now; nil (and no error) when there is none or it will not do.
func stored(store certificate.FileStore, node string, now time.Time) (*Credentials, error) {
	c, err := store.Current()
	var none *certificate.NoCertKeyError
	if errors.As(err, &none) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("nodeauth: read %s: %w", store.CurrentPath(), err)
	}
	leaf := c.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil, nil
		}
	}
	if leaf.Subject.CommonName != "system:node:"+node || now.Before(leaf.NotBefore) || !now.Before(leaf.NotAfter) {
		return nil, nil
	}
	pemData, err := os.ReadFile(store.CurrentPath())
	if err != nil {
		return nil, err
	}
	// One file holds certificate and key: tls.X509KeyPair takes each
	// kind from it.
	return &Credentials{CertPEM: pemData, KeyPEM: pemData}, nil
}
