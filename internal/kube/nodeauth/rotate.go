package nodeauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/certificate"
	"k8s.io/client-go/util/connrotation"
)

// Rotation keeps a node's client certificate fresh, as the kubelet does
// with client-go's certificate manager (k8s.io/client-go/util/certificate),
// which it runs: at a random point between 70 and 90 % of the
// certificate's lifetime it makes a new key and asks for a new certificate
// through a CSR to kubernetes.io/kube-apiserver-client-kubelet, sent as
// the node itself (approved as selfnodeclient), retrying with backoff. A
// certificate that expired before it could be renewed is renewed with the
// bootstrap credentials, as a kubelet falls back to its bootstrap
// kubeconfig.
//
// Clients made from Config present the current certificate at each TLS
// handshake; when it changes, the connections made with the old one are
// closed, so requests and watches go on over new connections with the new
// one (kubelet's transport does the same). The node stays registered
// throughout.
type Rotation struct {
	bootstrap *rest.Config
	config    *rest.Config
	dialer    *connrotation.Dialer
	manager   certificate.Manager
	disk      certificate.Store // Open's directory; nil: memory only

	mu   sync.RWMutex
	cert *tls.Certificate
}

// NewRotation starts from creds, which Join returned for node with the
// bootstrap configuration base. lifetime is the lifetime each request asks
// for (the CSR's expirationSeconds, at least 10 minutes; 0: the signer's
// choice). Start begins the rotation.
func NewRotation(base *rest.Config, node string, creds *Credentials, lifetime time.Duration) (*Rotation, error) {
	r := &Rotation{bootstrap: rest.CopyConfig(base)}
	if _, err := r.Update(creds.CertPEM, creds.KeyPEM); err != nil {
		return nil, err
	}
	cfg, err := r.clientConfig(base)
	if err != nil {
		return nil, err
	}
	r.config = cfg
	var d *time.Duration
	if lifetime > 0 {
		d = &lifetime
	}
	r.manager, err = certificate.NewManager(&certificate.Config{
		Name:        "client-certificate",
		ClientsetFn: r.clientset,
		Template: &x509.CertificateRequest{Subject: pkix.Name{CommonName: "system:node:" + node,
			Organization: []string{"system:nodes"}}},
		SignerName:                   certificatesv1.KubeAPIServerClientKubeletSignerName,
		Usages:                       []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth},
		RequestedCertificateLifetime: d,
		CertificateStore:             r,
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Config is the node's client configuration: base's server, CA, dialer
// and transport wrappers, authenticated with the current certificate.
func (r *Rotation) Config() *rest.Config { return rest.CopyConfig(r.config) }

// Name implements app.Component.
func (r *Rotation) Name() string { return "client-certificate" }

// Start implements app.Component: rotation runs until Stop.
func (r *Rotation) Start(context.Context) error {
	r.manager.Start()
	return nil
}

// Stop implements app.Component.
func (r *Rotation) Stop(context.Context) error {
	r.manager.Stop()
	return nil
}

// Expiry is when the current certificate ends.
func (r *Rotation) Expiry() time.Time {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.cert.Leaf.NotAfter
}

// Current implements certificate.Store.
func (r *Rotation) Current() (*tls.Certificate, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.cert, nil
}

// Update implements certificate.Store: the new pair is kept on disk (when
// Open gave a directory) and becomes current, and connections made with
// the old one are closed.
func (r *Rotation) Update(certPEM, keyPEM []byte) (*tls.Certificate, error) {
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	if r.disk != nil {
		if _, err := r.disk.Update(certPEM, keyPEM); err != nil {
			return nil, err
		}
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil, err
		}
	}
	r.mu.Lock()
	r.cert = &c
	r.mu.Unlock()
	if r.dialer != nil {
		r.dialer.CloseAll()
	}
	return &c, nil
}

// clientset is what the manager asks for certificates with: the node's own
// identity, or the bootstrap credentials once the certificate has expired
// (current is nil then).
func (r *Rotation) clientset(current *tls.Certificate) (kubernetes.Interface, error) {
	if current == nil {
		return kubernetes.NewForConfig(r.bootstrap)
	}
	return kubernetes.NewForConfig(r.config)
}

// clientConfig is base with a transport of its own: TLS as base asks
// (CA, server name), the client certificate read at each handshake, and
// connections through a dialer Update can close.
func (r *Rotation) clientConfig(base *rest.Config) (*rest.Config, error) {
	out := rest.CopyConfig(base)
	out.BearerToken, out.BearerTokenFile, out.Username, out.Password = "", "", "", ""
	out.CertFile, out.KeyFile, out.CertData, out.KeyData = "", "", nil, nil
	out.ExecProvider, out.AuthProvider = nil, nil
	if out.Transport != nil {
		return nil, errors.New("nodeauth: a configuration with its own transport cannot rotate certificates")
	}
	tc, err := rest.TLSConfigFor(out)
	if err != nil {
		return nil, err
	}
	if tc == nil {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		r.mu.RLock()
		defer r.mu.RUnlock()
		return r.cert, nil
	}
	dial := out.Dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	r.dialer = connrotation.NewDialer(connrotation.DialFunc(dial))
	proxy := out.Proxy
	if proxy == nil {
		proxy = http.ProxyFromEnvironment
	}
	out.Transport = utilnet.SetTransportDefaults(&http.Transport{Proxy: proxy, TLSHandshakeTimeout: 10 * time.Second,
		TLSClientConfig: tc, MaxIdleConnsPerHost: 25, DialContext: r.dialer.DialContext})
	out.TLSClientConfig = rest.TLSClientConfig{}
	out.Dial, out.Proxy = nil, nil
	return out, nil
}
