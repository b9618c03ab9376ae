package agent

import (
	"crypto/tls"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/kube/certs"
)

// testCerts is a cluster CA for tests: the agent's LocalCerts and an HTTP
// client that presents the API server's identity.
type testCA struct {
	b *certs.Bundle
}

func newTestCA(t testing.TB) testCA {
	t.Helper()
	b, err := certs.NewBundle(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return testCA{b: b}
}

func (c testCA) certs() LocalCerts {
	return LocalCerts{CA: c.b.CACertPEM, Issue: func(node string, ips []net.IP, names []string) (tls.Certificate, error) {
		return c.b.KubeletServingCert(time.Now(), node, ips, names)
	}}
}

// client presents cert (none when nil) and trusts the CA.
func (c testCA) client(t testing.TB, cert *tls.Certificate) *http.Client {
	t.Helper()
	pool, err := c.b.CertPool()
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{RootCAs: pool}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
}

func (c testCA) apiServerClient(t testing.TB) *http.Client {
	t.Helper()
	cert, err := c.b.KubeletClientCert(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c.client(t, &cert)
}
