package apiserver

import (
	"net/http"

	"k8s.io/client-go/rest"

	"github.com/stratus-cloud/stratus/internal/inproc"
)

// LoopbackConfig returns a client-go config whose transport calls the
// handler in-process (no TCP, no TLS), authenticated as admin. Watches
// stream. For controllers running in the same process.
func (s *Server) LoopbackConfig() *rest.Config {
	return &rest.Config{
		Host:      "http://stratus-loopback",
		Transport: &bearer{next: inproc.Transport(s.handler), token: s.bundle.AdminToken},
		QPS:       -1,
		Burst:     -1,
		UserAgent: "stratus-loopback",
	}
}

// bearer adds the admin token to every in-process request.
type bearer struct {
	next  http.RoundTripper
	token string
}

func (b *bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(req)
}
