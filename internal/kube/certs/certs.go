// Package certs makes and keeps the Kubernetes API's credentials: a
// self-signed CA, a serving certificate signed by it for 127.0.0.1,
// localhost and the host's names, the admin and node bearer tokens, and the
// kubeconfig file real clients use to reach the API.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"strings"
	"time"
)

// Bundle is the persistent identity of one cluster: the CA and the two
// bearer tokens. It is what survives restarts.
type Bundle struct {
	CACertPEM  []byte `json:"caCert"`
	CAKeyPEM   []byte `json:"caKey"`
	AdminToken string `json:"adminToken"`
	NodeToken  string `json:"nodeToken"`
	// JoinToken is the bootstrap token (ID.SECRET) `stratus up` prints:
	// good only for joining, as kubeadm's. NodeToken is the legacy shared
	// node credential, kept for an operator who chose one.
	JoinToken string `json:"joinToken,omitempty"`
}

// NewBundle generates a fresh CA and tokens.
func NewBundle(now time.Time) (*Bundle, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := randSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "stratus-ca", Organization: []string{"stratus"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	admin, err := NewToken()
	if err != nil {
		return nil, err
	}
	node, err := NewToken()
	if err != nil {
		return nil, err
	}
	return &Bundle{
		CACertPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		CAKeyPEM:   pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		AdminToken: admin,
		NodeToken:  node,
	}, nil
}

// NewToken returns a random 32-byte token, hex encoded.
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func randSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func (b *Bundle) ca() (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cb, _ := pem.Decode(b.CACertPEM)
	if cb == nil {
		return nil, nil, errors.New("certs: bad CA certificate PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	kb, _ := pem.Decode(b.CAKeyPEM)
	if kb == nil {
		return nil, nil, errors.New("certs: bad CA key PEM")
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// Validate reports whether the bundle is complete and its CA parses.
func (b *Bundle) Validate() error {
	if b.AdminToken == "" || b.NodeToken == "" {
		return errors.New("certs: bundle lacks tokens")
	}
	_, _, err := b.ca()
	return err
}

// ServingCert issues a serving certificate signed by the CA for the given
// IPs and DNS names, valid for one year from now.
func (b *Bundle) ServingCert(now time.Time, ips []net.IP, dnsNames []string) (tls.Certificate, error) {
	caCert, caKey, err := b.ca()
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := randSerial()
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "stratus-apiserver", Organization: []string{"stratus"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  ips,
		DNSNames:     dnsNames,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// HostSANs returns the names a serving certificate should carry for this
// host: 127.0.0.1, ::1, localhost, the host name, the addresses of the
// host's interfaces, plus extra: the address the server was asked to bind
// and names or addresses it should also answer to (--tls-san). The
// unspecified addresses (0.0.0.0, ::), which a server binds to listen on
// every interface, name nothing and are left out.
func HostSANs(extra ...string) ([]net.IP, []string) {
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	names := []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"}
	seenIP := map[string]bool{"127.0.0.1": true, "::1": true}
	seenName := map[string]bool{}
	for _, n := range names {
		seenName[n] = true
	}
	add := func(s string) {
		s = strings.TrimSpace(s)
		if s == "" {
			return
		}
		if ip := net.ParseIP(strings.Trim(s, "[]")); ip != nil {
			if ip.IsUnspecified() {
				return
			}
			if !seenIP[ip.String()] {
				seenIP[ip.String()] = true
				ips = append(ips, ip)
			}
			return
		}
		s = strings.ToLower(strings.TrimSuffix(s, "."))
		if !seenName[s] {
			seenName[s] = true
			names = append(names, s)
		}
	}
	if h, err := os.Hostname(); err == nil {
		add(h)
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				add(n.IP.String())
			}
		}
	}
	for _, e := range extra {
		add(e)
	}
	return ips, names
}

// CertPool returns a pool holding the bundle's CA.
func (b *Bundle) CertPool() (*x509.CertPool, error) {
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b.CACertPEM) {
		return nil, fmt.Errorf("certs: bad CA certificate")
	}
	return p, nil
}
