package apiserver_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/kube/certs"
)

// capture is a plain TCP listener that records everything sent to it.
type capture struct {
	mu  sync.Mutex
	buf bytes.Buffer
	ln  net.Listener
}

func newCapture(t *testing.T) *capture {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &capture{ln: ln}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
				b := make([]byte, 4096)
				for {
					n, err := conn.Read(b)
					c.mu.Lock()
					c.buf.Write(b[:n])
					c.mu.Unlock()
					if err != nil {
						return
					}
					// answer like a plain HTTP server would
					_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return c
}

func (c *capture) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.buf.Bytes()...)
}

// TestNodeChannelCapture: a Node whose address is a plain listener (a fake
// node registered by anyone who may create Nodes) gets a TLS handshake the
// listener cannot finish, and nothing secret in clear: no token, no
// Authorization header, no HTTP request at all.
func TestNodeChannelCapture(t *testing.T) {
	srv := apiservertest.Start(t)
	cs, err := kubernetes.NewForConfig(apiservertest.RESTConfig(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := newCapture(t)
	port := c.ln.Addr().(*net.TCPAddr).Port
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "evil"}, Status: corev1.NodeStatus{
		Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(port)}}}}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"},
		Spec: corev1.PodSpec{NodeName: "evil", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = cs.CoreV1().Pods("default").GetLogs("p", &corev1.PodLogOptions{}).DoRaw(ctx)
	if err == nil {
		t.Fatal("logs from a plain listener succeeded")
	}
	for _, sub := range []string{"exec", "attach", "portforward"} {
		_ = cs.CoreV1().RESTClient().Post().Namespace("default").Resource("pods").Name("p").SubResource(sub).
			Param("command", "true").Param("container", "c").Param("stdout", "true").Do(ctx).Error()
	}
	got := c.bytes()
	if len(got) == 0 {
		t.Fatal("the API server never connected")
	}
	if got[0] != 0x16 { // a TLS handshake record
		t.Errorf("first byte %#x, want a TLS handshake (0x16)", got[0])
	}
	for _, secret := range []string{srv.AdminToken(), srv.NodeToken(), "Authorization", "Bearer", "GET /", "POST /"} {
		if bytes.Contains(got, []byte(secret)) {
			t.Errorf("the listener received %q in clear", secret)
		}
	}
}

// TestKubeletServingCertificate: an agent on another host has its request
// signed for its own node and addresses; a request naming another subject
// is refused.
func TestKubeletServingCertificate(t *testing.T) {
	srv := apiservertest.Start(t)
	cfg := apiservertest.RESTConfig(t, srv)
	cfg.BearerToken = srv.NodeToken()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	post := func(node string, csr []byte) ([]byte, error) {
		return cs.CoreV1().RESTClient().Post().AbsPath("/stratus/v1/kubelet-serving-certificate/" + node).Body(csr).DoRaw(context.Background())
	}
	csr, _, err := certs.KubeletServingCSR("n1", []net.IP{net.IPv4(10, 0, 0, 7)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := post("n1", csr)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct{ Certificate, CA string }
	if err := json.Unmarshal(raw, &resp); err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode([]byte(resp.Certificate))
	if blk == nil {
		t.Fatalf("no certificate in %s", raw)
	}
	crt, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(resp.CA))
	if _, err := crt.Verify(x509.VerifyOptions{Roots: pool, DNSName: "10.0.0.7"}); err != nil {
		t.Errorf("certificate does not verify for its address: %v", err)
	}
	if crt.Subject.CommonName != "system:node:n1" {
		t.Errorf("subject %v", crt.Subject)
	}
	if _, err := post("n2", csr); err == nil {
		t.Errorf("a request for another node's subject: %v", err)
	}
	anon := rest.CopyConfig(cfg)
	anon.BearerToken = "nope"
	ac, _ := kubernetes.NewForConfig(anon)
	if _, err := ac.CoreV1().RESTClient().Post().AbsPath("/stratus/v1/kubelet-serving-certificate/n1").Body(csr).DoRaw(context.Background()); err == nil {
		t.Error("an unauthenticated request was signed")
	}
	_ = io.Discard
}
