package certs

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestServingCertVerifiesAgainstCA(t *testing.T) {
	b, err := NewBundle(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	ips, names := HostSANs("10.1.2.3", "example.test")
	c, err := b.ServingCert(time.Now(), ips, names)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pool, err := b.CertPool()
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1", "localhost", "10.1.2.3", "example.test"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: host}); err != nil {
			t.Errorf("verify %s: %v", host, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "evil.example"}); err == nil {
		t.Error("certificate verified for a name it does not carry")
	}
}

func TestTokensDiffer(t *testing.T) {
	b, err := NewBundle(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if b.AdminToken == b.NodeToken || len(b.AdminToken) != 64 {
		t.Fatalf("tokens: %q %q", b.AdminToken, b.NodeToken)
	}
}

func TestWriteFileMode(t *testing.T) {
	b, _ := NewBundle(time.Now())
	p := filepath.Join(t.TempDir(), "sub", "kubeconfig")
	if err := WriteFile(p, b.Kubeconfig("https://127.0.0.1:6443")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	data, _ := os.ReadFile(p)
	if !strings.Contains(string(data), "server: https://127.0.0.1:6443") || !strings.Contains(string(data), b.AdminToken) {
		t.Fatalf("kubeconfig:\n%s", data)
	}
}
