package certs

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"time"
)

// SignClientCSR issues a client certificate for a PEM certificate request,
// signed by the cluster CA, with the request's subject (CN is the user,
// O the groups) and client-auth usage, valid for ttl from now. It is the
// signer of kubernetes.io/kube-apiserver-client-kubelet requests, which
// the controller manager calls once a request is approved. NotBefore is
// 5 minutes back, as kube-controller-manager's signer sets it (clock
// skew); a lifetime under the 10 minutes the API allows (a test's) goes
// back a tenth of it, or a kubelet-like rotation at 70-90 % of the
// lifetime would find every certificate already due.
func (b *Bundle) SignClientCSR(csrPEM []byte, now time.Time, ttl time.Duration) ([]byte, error) {
	blk, _ := pem.Decode(csrPEM)
	if blk == nil || blk.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("certs: not a PEM certificate request")
	}
	req, err := x509.ParseCertificateRequest(blk.Bytes)
	if err != nil {
		return nil, err
	}
	if err := req.CheckSignature(); err != nil {
		return nil, err
	}
	ca, key, err := b.ca()
	if err != nil {
		return nil, err
	}
	serial, err := randSerial()
	if err != nil {
		return nil, err
	}
	backdate := 5 * time.Minute
	if ttl < 10*time.Minute {
		backdate = ttl / 10
	}
	notAfter := now.Add(ttl)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      req.Subject,
		NotBefore:    now.Add(-backdate),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, req.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
