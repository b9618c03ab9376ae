package apiserver

import (
	"net/http"

	"k8s.io/client-go/rest"

	"github.com/stratus-cloud/stratus/internal/inproc"
)

// LoopbackConfig returns a client-go config whose transport calls the
// handler in-process (no TCP, no TLS), authenticated as admin. Watches
// stream. For controllers running in the same process.
//
// Requests and answers are protobuf where the type has it, JSON otherwise,
// as kube-apiserver's own loopback client and the controller manager's and
// scheduler's default connection do: bodies client-go would otherwise send
// as JSON (a pod's binding, events) cost a fraction to encode and decode.
func (s *Server) LoopbackConfig() *rest.Config {
	return &rest.Config{
		Host:      "http://stratus-loopback",
		Transport: &bearer{next: inproc.Transport(s.handler), token: s.bundle.AdminToken},
		QPS:       -1,
		Burst:     -1,
		UserAgent: "stratus-loopback",
		ContentConfig: rest.ContentConfig{
			ContentType:        mtProtobuf,
			AcceptContentTypes: mtProtobuf + "," + mtJSON,
		},
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
