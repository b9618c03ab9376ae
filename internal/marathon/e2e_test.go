package marathon_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/marathon/marathontest"
)

// call sends one request with the cluster's credentials and decodes the
// JSON answer into out (if not nil); it returns the status and body.
func call(t *testing.T, c *marathontest.Cluster, method, path string, body any, out any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = bytes.NewBufferString(s)
		} else {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(method, c.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(c.Username, c.Password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode, b
}

func TestSmoke(t *testing.T) {
	c := marathontest.Start(t, marathontest.Options{Nodes: 2})
	code, b := call(t, c, "POST", "/v2/apps", `{"id":"/g/web","instances":2,"cmd":"sleep 100","cpus":0.1,"mem":32}`, nil)
	t.Logf("%d %s", code, b)
	var deps []map[string]any
	marathontest.Eventually(t, 20*time.Second, "deployment done", func() bool {
		call(t, c, "GET", "/v2/deployments", nil, &deps)
		return len(deps) == 0
	})
	code, b = call(t, c, "GET", "/v2/apps/g/web", nil, nil)
	t.Logf("%d %s", code, b)
}
