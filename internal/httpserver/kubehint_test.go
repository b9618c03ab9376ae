package httpserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestKubeHint: client-go clients get the hint as text (their discovery
// shows a 403's text whole); others get a Kubernetes Status.
func TestKubeHint(t *testing.T) {
	h := KubeHint(func() string { return "the Kubernetes API is at https://127.0.0.1:6443" })
	for _, tc := range []struct {
		ua, wantType string
	}{
		{"kubectl/v1.33.1 (linux/amd64) kubernetes/8adc0f0", "text/plain; charset=utf-8"},
		{"curl/8.5.0", "application/json"},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/api?timeout=32s", nil)
		req.Header.Set("User-Agent", tc.ua)
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden || rec.Header().Get("Content-Type") != tc.wantType || !strings.Contains(rec.Body.String(), "https://127.0.0.1:6443") {
			t.Errorf("%s: %d %q %q", tc.ua, rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
		}
		if tc.wantType == "application/json" {
			var st struct{ Kind, Status, Reason, Message string }
			if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || st.Kind != "Status" || st.Status != "Failure" || st.Reason != "Forbidden" {
				t.Errorf("Status: %+v %v", st, err)
			}
		}
	}
}
