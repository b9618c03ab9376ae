package apiserver_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestHTTP2PostsCloseCleanly posts reviews with a body over HTTP/2 with
// curl, many times: every stream must end cleanly (curl's error 92, "HTTP/2
// stream was not closed cleanly", came on about half of them when a handler
// answered without reading the body).
func TestHTTP2PostsCloseCleanly(t *testing.T) {
	curl := testenv.LookPath(t, "curl", "install curl (Debian package curl)")
	srv := apiservertest.Start(t)
	body := `{"kind":"SelfSubjectReview","apiVersion":"authentication.k8s.io/v1","metadata":{"creationTimestamp":null},"status":{"userInfo":{}}}`
	for _, path := range []string{"/apis/authentication.k8s.io/v1/selfsubjectreviews", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
		"/api/v1/namespaces/default/nosuchthing"} {
		t.Run(path, func(t *testing.T) {
			// One curl, many requests on one connection (-Z would parallelise).
			args := []string{"--http2", "-k", "-sS", "-o", "/dev/null", "-w", "%{http_code}\n", "-H", "Authorization: Bearer " + srv.AdminToken(),
				"-H", "Content-Type: application/json"}
			for range 40 {
				args = append(args, "-X", "POST", "--data-binary", body, srv.URL()+path)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, curl, args...).CombinedOutput()
			if err != nil || strings.Contains(string(out), "curl:") {
				t.Fatalf("curl: %v\n%s", err, out)
			}
		})
	}
}
