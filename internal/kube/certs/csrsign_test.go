package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"testing"
	"time"
)

// TestSignClientCSRLifetime: a node client certificate starts 5 minutes
// back, as kube-controller-manager's signer has it, except under the API's
// 10-minute minimum, where it goes back a tenth of its lifetime.
func TestSignClientCSRLifetime(t *testing.T) {
	b, err := NewBundle(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "system:node:n1", Organization: []string{"system:nodes"}}}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	now := time.Now().Truncate(time.Second)
	for _, tc := range []struct{ ttl, back time.Duration }{
		{365 * 24 * time.Hour, 5 * time.Minute},
		{10 * time.Minute, 5 * time.Minute},
		{20 * time.Second, 2 * time.Second},
	} {
		out, err := b.SignClientCSR(csr, now, tc.ttl)
		if err != nil {
			t.Fatal(err)
		}
		blk, _ := pem.Decode(out)
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if !c.NotBefore.Equal(now.Add(-tc.back)) || !c.NotAfter.Equal(now.Add(tc.ttl)) {
			t.Errorf("ttl %v: valid %v to %v, want from %v back to %v on", tc.ttl, c.NotBefore, c.NotAfter, tc.back, tc.ttl)
		}
		if c.Subject.CommonName != "system:node:n1" {
			t.Errorf("subject %v", c.Subject)
		}
	}
}
