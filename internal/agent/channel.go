package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"

	"k8s.io/client-go/kubernetes"

	"github.com/stratus-cloud/stratus/internal/kube/certs"
)

// Certs gives a node agent's HTTPS server (the API server's channel to
// the node, as the kubelet's port 10250) its serving certificate and the
// CA that vouches for the API server's client certificate. The agent
// accepts only the identity certs.KubeletClientCN; no token ever reaches it.
type Certs interface {
	// ServingCert returns a certificate from the cluster CA for the
	// node's addresses.
	ServingCert(ctx context.Context, node string, ips []net.IP, dnsNames []string) (tls.Certificate, error)
	// ClientCAs verifies the API server's client certificate.
	ClientCAs(ctx context.Context) (*x509.CertPool, error)
}

// LocalCerts are the certificates of agents in the API server's own
// process (`stratus up`): issued directly from the cluster CA.
type LocalCerts struct {
	// Issue is the API server's kubelet-serving issuer
	// (apiserver.Server.IssueKubeletServingCert).
	Issue func(node string, ips []net.IP, dnsNames []string) (tls.Certificate, error)
	// CA is the cluster CA's certificate, PEM.
	CA []byte
}

// ServingCert implements Certs.
func (c LocalCerts) ServingCert(_ context.Context, node string, ips []net.IP, dnsNames []string) (tls.Certificate, error) {
	return c.Issue(node, ips, dnsNames)
}

// ClientCAs implements Certs.
func (c LocalCerts) ClientCAs(context.Context) (*x509.CertPool, error) { return caPool(c.CA) }

// ServingCertPath is where an agent on another host sends its certificate
// request (PEM) to have it signed by the cluster CA, authenticated as a
// node, as k3s agents fetch their kubelet serving certificate; the answer
// is a ServingCertResponse.
const ServingCertPath = "/stratus/v1/kubelet-serving-certificate/"

// ServingCertResponse is the answer at ServingCertPath.
type ServingCertResponse struct {
	Certificate string `json:"certificate"` // PEM
	CA          string `json:"ca"`          // PEM
}

// RemoteCerts are the certificates of an agent that joined over the
// network (`stratus agent`): its key stays here; the API server signs a
// request for the node's addresses and returns the CA with it.
type RemoteCerts struct {
	Client kubernetes.Interface
	ca     []byte
}

// ServingCert implements Certs.
func (c *RemoteCerts) ServingCert(ctx context.Context, node string, ips []net.IP, dnsNames []string) (tls.Certificate, error) {
	csr, key, err := certs.KubeletServingCSR(node, ips, dnsNames)
	if err != nil {
		return tls.Certificate{}, err
	}
	raw, err := c.Client.CoreV1().RESTClient().Post().AbsPath(ServingCertPath+node).
		SetHeader("Content-Type", "application/x-pem-file").Body(csr).DoRaw(ctx)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("agent: serving certificate: %w", err)
	}
	var resp ServingCertResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		return tls.Certificate{}, fmt.Errorf("agent: serving certificate: %w", err)
	}
	c.ca = []byte(resp.CA)
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair([]byte(resp.Certificate), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
}

// ClientCAs implements Certs: the CA the server returned with the
// serving certificate.
func (c *RemoteCerts) ClientCAs(context.Context) (*x509.CertPool, error) {
	if len(c.ca) == 0 {
		return nil, errors.New("agent: no CA yet (ServingCert first)")
	}
	return caPool(c.ca)
}

func caPool(pemData []byte) (*x509.CertPool, error) {
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pemData) {
		return nil, errors.New("agent: bad CA certificate")
	}
	return p, nil
}

// serverTLS builds the agent server's TLS configuration: the serving
// certificate for the nodes' addresses, client certificates verified
// against the cluster CA when given (healthz needs none; everything else
// checks the identity in requireAPIServer).
func (e *engine) serverTLS(ctx context.Context) (*tls.Config, error) {
	// A node's address is an IP or, as a multi-host cluster's agents
	// give it (--internal-ip=agent1), a host name: the certificate names
	// it either way, so the API server's dial verifies.
	ips := []net.IP{}
	var names []string
	seen := map[string]bool{}
	add := func(s string) {
		if ip := net.ParseIP(s); ip != nil && !seen[ip.String()] {
			seen[ip.String()] = true
			ips = append(ips, ip)
		} else if ip == nil && s != "" && !seen[s] {
			seen[s] = true
			names = append(names, s)
		}
	}
	add(e.cfg.internalIP)
	node := e.cfg.single
	for _, n := range e.nodeSnapshot() {
		add(n.cfg.internalIP)
		if node == "" {
			node = n.name
		}
	}
	if node == "" {
		node = e.cfg.name
	}
	cert, err := e.cfg.certs.ServingCert(ctx, node, ips, names)
	if err != nil {
		return nil, err
	}
	pool, err := e.cfg.certs.ClientCAs(ctx)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    pool,
		NextProtos:   []string{"http/1.1"}, // SPDY and WebSocket upgrades need HTTP/1.1
	}, nil
}

// requireAPIServer lets through only requests whose verified client
// certificate is the API server's (CN kube-apiserver-kubelet-client), as
// the kubelet authorizes its API.
func requireAPIServer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		if !certs.IsKubeletClient(r.TLS.VerifiedChains) {
			http.Error(w, fmt.Sprintf("Forbidden (user=%s, verb=%s, resource=nodes, subresource=proxy)",
				r.TLS.VerifiedChains[0][0].Subject.CommonName, r.Method), http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}
