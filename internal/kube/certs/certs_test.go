package certs

import (
	"crypto/tls"
	"crypto/x509"
	"net"
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

// The serving certificate of a server that binds every interface names
// what clients dial: loopback, the host's names and addresses, and the
// extra SANs; never the unspecified address it bound.
func TestHostSANs(t *testing.T) {
	host, _ := os.Hostname()
	var ifaceIPs []string
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				ifaceIPs = append(ifaceIPs, n.IP.String())
			}
		}
	}
	tests := []struct {
		name    string
		extra   []string
		want    []string // hosts the certificate must verify for
		notWant []string // IP or DNS SANs it must not carry
	}{
		{"loopback bind", []string{"127.0.0.1"}, []string{"127.0.0.1", "::1", "localhost", "kubernetes.default.svc"}, nil},
		{"all IPv4 interfaces", []string{"0.0.0.0"}, append([]string{"127.0.0.1", "localhost", host}, ifaceIPs...), []string{"0.0.0.0"}},
		{"all IPv6 interfaces", []string{"::"}, append([]string{"::1", "localhost", host}, ifaceIPs...), []string{"::"}},
		{"extra names and addresses", []string{"0.0.0.0", "server1", " Stratus.Example.Test. ", "10.9.8.7", "[fd00::7]", ""},
			[]string{"127.0.0.1", "server1", "stratus.example.test", "10.9.8.7", "fd00::7"}, []string{"0.0.0.0", ""}},
	}
	b, err := NewBundle(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pool, err := b.CertPool()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ips, names := HostSANs(tc.extra...)
			c, err := b.ServingCert(time.Now(), ips, names)
			if err != nil {
				t.Fatal(err)
			}
			leaf, err := x509.ParseCertificate(c.Certificate[0])
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range tc.want {
				if h == "" {
					continue
				}
				if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: h}); err != nil {
					t.Errorf("verify %s: %v", h, err)
				}
			}
			have := map[string]int{}
			for _, ip := range leaf.IPAddresses {
				have[ip.String()]++
			}
			for _, n := range leaf.DNSNames {
				have[n]++
			}
			for _, n := range tc.notWant {
				if have[n] > 0 {
					t.Errorf("certificate carries %q", n)
				}
			}
			for n, k := range have {
				if k > 1 {
					t.Errorf("%q is in the certificate %d times", n, k)
				}
			}
		})
	}
}

// A client that dials the server by an extra SAN completes the TLS
// handshake verifying the certificate against the cluster CA.
func TestServingCertHandshakeBySAN(t *testing.T) {
	b, _ := NewBundle(time.Now())
	ips, names := HostSANs("0.0.0.0", "server2")
	cert, err := b.ServingCert(time.Now(), ips, names)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			_ = c.Close()
		}
	}()
	pool, _ := b.CertPool()
	for _, tc := range []struct {
		serverName string
		ok         bool
	}{{"server2", true}, {"127.0.0.1", true}, {"localhost", true}, {"server9", false}} {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: tc.serverName})
		if err == nil {
			_ = c.Close()
		}
		if (err == nil) != tc.ok {
			t.Errorf("dial as %s: %v, want ok=%v", tc.serverName, err, tc.ok)
		}
	}
}

// Certificates are made at every start: they must stay cheap (ECDSA).
func BenchmarkServingCert(b *testing.B) {
	bundle, _ := NewBundle(time.Now())
	ips, names := HostSANs("0.0.0.0", "server1")
	for b.Loop() {
		if _, err := bundle.ServingCert(time.Now(), ips, names); err != nil {
			b.Fatal(err)
		}
	}
}
