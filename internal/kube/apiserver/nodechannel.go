package apiserver

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stratus-cloud/stratus/internal/kube/certs"
)

// nodeChannel is the API server's side of the channel to node agents, as
// kube-apiserver's to kubelets: HTTPS only, the agent's serving
// certificate verified against the cluster CA for the address dialled,
// and the server's own client certificate (CN kube-apiserver-kubelet-client)
// as its identity. No bearer token is ever sent to a node.
type nodeChannel struct {
	tls       *tls.Config
	transport *http.Transport
	client    *http.Client
}

func newNodeChannel(b *certs.Bundle, now time.Time) (nodeChannel, error) {
	cert, err := b.KubeletClientCert(now)
	if err != nil {
		return nodeChannel{}, err
	}
	pool, err := b.CertPool()
	if err != nil {
		return nodeChannel{}, err
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
		NextProtos:   []string{"http/1.1"},
	}
	tr := &http.Transport{Proxy: nil, TLSClientConfig: cfg, MaxIdleConnsPerHost: 16,
		TLSHandshakeTimeout: 10 * time.Second, DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext}
	return nodeChannel{tls: cfg, transport: tr, client: &http.Client{Transport: tr}}, nil
}

// IssueKubeletServingCert issues a node agent's serving certificate from
// the cluster CA (for agents in this process; others send a request to
// /stratus/v1/kubelet-serving-certificate/NODE).
func (s *Server) IssueKubeletServingCert(node string, ips []net.IP, dnsNames []string) (tls.Certificate, error) {
	return s.bundle.KubeletServingCert(s.now(), node, ips, dnsNames)
}

// kubeletServingCertPath is where agents on other hosts have their serving
// certificate signed (agent.ServingCertPath).
const kubeletServingCertPath = "/stratus/v1/kubelet-serving-certificate/"

// serveKubeletServingCert signs a node agent's certificate request, as the
// kubernetes.io/kubelet-serving signer with auto-approval would (k3s
// agents fetch theirs the same way): the caller must be a node (group
// system:nodes; a system:node:NAME user only for its own NAME) or an
// admin, and the request names the node and IP or DNS names only.
func (s *Server) serveKubeletServingCert(w http.ResponseWriter, r *http.Request) {
	node := strings.TrimPrefix(r.URL.Path, kubeletServingCertPath)
	if r.Method != http.MethodPost {
		s.writeError(w, newStatus(http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed, "the server does not allow this method on the requested resource"))
		return
	}
	u := userFrom(r.Context())
	allowed := u != nil && (slices.Contains(u.Groups, "system:masters") || slices.Contains(u.Groups, "system:nodes"))
	if u != nil && strings.HasPrefix(u.Name, certs.NodeUserPrefix) && u.Name != certs.NodeUserPrefix+node {
		allowed = false
	}
	if !allowed {
		name := ""
		if u != nil {
			name = u.Name
		}
		s.writeError(w, apierrors.NewForbidden(corev1.Resource("nodes"), node, fmt.Errorf("user %q may not get a serving certificate for this node", name)))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		s.writeError(w, apierrors.NewBadRequest(err.Error()))
		return
	}
	crt, err := s.bundle.SignKubeletServingCSR(s.now(), node, body)
	if err != nil {
		s.writeError(w, apierrors.NewBadRequest(err.Error()))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(struct {
		Certificate string `json:"certificate"`
		CA          string `json:"ca"`
	}{string(crt), string(s.bundle.CACertPEM)})
}

// nodeAddress finds where a node's agent listens: its InternalIP and the
// kubelet endpoint port, as kube-apiserver picks them by default.
func (s *Server) nodeAddress(r *http.Request, nodeName string) (string, error) {
	nodes := s.reg.Lookup("", "v1", "nodes")
	nobj, err := s.storage.Get(r.Context(), nodes, "", nodeName)
	if err != nil {
		return "", err
	}
	node := nobj.(*corev1.Node)
	host := ""
	for _, a := range node.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			host = a.Address
			break
		}
	}
	port := node.Status.DaemonEndpoints.KubeletEndpoint.Port
	if host == "" || port == 0 {
		return "", newStatus(http.StatusServiceUnavailable, metav1.StatusReasonServiceUnavailable,
			fmt.Sprintf("node %s has no address or agent port", node.Name))
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port))), nil
}
