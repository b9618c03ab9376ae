package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// The API-server-to-node channel is TLS both ways, as kube-apiserver ↔
// kubelet: each node agent serves HTTPS with a certificate from the
// cluster CA for its node's addresses (CN system:node:NAME, O
// system:nodes, as a kubelet-serving certificate), and the API server
// presents a client certificate of its own (CN kube-apiserver-kubelet-client,
// O system:masters), the only identity an agent accepts.

// KubeletClientCN is the common name of the API server's client
// certificate towards node agents (kube-apiserver's --kubelet-client-certificate).
const KubeletClientCN = "kube-apiserver-kubelet-client"

// NodeUserPrefix prefixes a node's user name (system:node:NAME).
const NodeUserPrefix = "system:node:"

// KubeletClientCert issues the API server's client certificate towards
// node agents, valid for one year from now.
func (b *Bundle) KubeletClientCert(now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: KubeletClientCN, Organization: []string{"system:masters"}},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.AddDate(1, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := b.sign(tmpl, &key.PublicKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// KubeletServingCert issues a node agent's serving certificate for its
// addresses directly (agents in the server's own process).
func (b *Bundle) KubeletServingCert(now time.Time, node string, ips []net.IP, dnsNames []string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	der, err := b.sign(servingTemplate(now, node, ips, dnsNames), &key.PublicKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// SignKubeletServingCSR signs a node agent's certificate request (PEM,
// "CERTIFICATE REQUEST") for node, as the kubernetes.io/kubelet-serving
// signer does: the subject must be system:node:NAME in system:nodes, and
// only IP and DNS names are carried over. It returns the certificate PEM.
func (b *Bundle) SignKubeletServingCSR(now time.Time, node string, csrPEM []byte) ([]byte, error) {
	blk, _ := pem.Decode(csrPEM)
	if blk == nil || blk.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("certs: not a PEM certificate request")
	}
	csr, err := x509.ParseCertificateRequest(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("certs: certificate request: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("certs: certificate request: %w", err)
	}
	if csr.Subject.CommonName != NodeUserPrefix+node || len(csr.Subject.Organization) != 1 || csr.Subject.Organization[0] != "system:nodes" {
		return nil, fmt.Errorf("certs: certificate request subject must be CN=%s%s, O=system:nodes", NodeUserPrefix, node)
	}
	if len(csr.IPAddresses)+len(csr.DNSNames) == 0 || len(csr.EmailAddresses) > 0 || len(csr.URIs) > 0 {
		return nil, errors.New("certs: a serving certificate request names IP addresses or DNS names only")
	}
	der, err := b.sign(servingTemplate(now, node, csr.IPAddresses, csr.DNSNames), csr.PublicKey)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// KubeletServingCSR makes a key and a certificate request for a node
// agent's serving certificate (what SignKubeletServingCSR signs).
func KubeletServingCSR(node string, ips []net.IP, dnsNames []string) (csrPEM []byte, key *ecdsa.PrivateKey, err error) {
	key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:     pkix.Name{CommonName: NodeUserPrefix + node, Organization: []string{"system:nodes"}},
		IPAddresses: ips, DNSNames: dnsNames,
	}, key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), key, nil
}

// IsKubeletClient reports whether a verified client certificate chain is
// the API server's identity towards node agents.
func IsKubeletClient(chains [][]*x509.Certificate) bool {
	for _, ch := range chains {
		if len(ch) > 0 && ch[0].Subject.CommonName == KubeletClientCN {
			return true
		}
	}
	return false
}

func servingTemplate(now time.Time, node string, ips []net.IP, dnsNames []string) *x509.Certificate {
	names := make([]string, 0, len(dnsNames))
	for _, n := range dnsNames {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	return &x509.Certificate{
		Subject:     pkix.Name{CommonName: NodeUserPrefix + node, Organization: []string{"system:nodes"}},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.AddDate(1, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: ips,
		DNSNames:    names,
	}
}

// sign signs tmpl (given a fresh serial) with the CA.
func (b *Bundle) sign(tmpl *x509.Certificate, pub any) ([]byte, error) {
	caCert, caKey, err := b.ca()
	if err != nil {
		return nil, err
	}
	if tmpl.SerialNumber, err = randSerial(); err != nil {
		return nil, err
	}
	return x509.CreateCertificate(rand.Reader, tmpl, caCert, pub, caKey)
}
