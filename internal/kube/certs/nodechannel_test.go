package certs

import (
	"net"
	"testing"
	"time"
)

// FuzzSignKubeletServingCSR: whatever an agent sends, the signer never
// panics, and signs only requests for the node named, with its subject.
func FuzzSignKubeletServingCSR(f *testing.F) {
	b, err := NewBundle(time.Now())
	if err != nil {
		f.Fatal(err)
	}
	good, _, err := KubeletServingCSR("n1", []net.IP{net.IPv4(10, 0, 0, 1)}, []string{"n1.local"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("n1", good)
	f.Add("n2", good)
	f.Add("n1", []byte("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"))
	f.Fuzz(func(t *testing.T, node string, csr []byte) {
		crt, err := b.SignKubeletServingCSR(time.Now(), node, csr)
		if err == nil && node != "n1" && len(crt) > 0 && string(csr) == string(good) {
			t.Fatalf("signed n1's request for node %q", node)
		}
	})
}

func TestKubeletClientCert(t *testing.T) {
	b, err := NewBundle(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c, err := b.KubeletClientCert(time.Now())
	if err != nil || len(c.Certificate) != 1 {
		t.Fatal(err)
	}
}
