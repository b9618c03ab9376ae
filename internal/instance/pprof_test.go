package instance

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPprofRoutes(t *testing.T) {
	in := &Instance{admin: &admin{token: "secret"}}
	srv := httptest.NewServer(in.adminHandler())
	defer srv.Close()
	for _, tc := range []struct {
		name, path, token string
		want              int
		profile           bool
		// text: the debug=N text form must hold this.
		text string
	}{
		{"no token", "debug/pprof/heap", "", http.StatusUnauthorized, false, ""},
		{"wrong token", "debug/pprof/heap", "nope", http.StatusUnauthorized, false, ""},
		{"heap", "debug/pprof/heap?gc=1", "secret", http.StatusOK, true, ""},
		{"goroutine", "debug/pprof/goroutine", "secret", http.StatusOK, true, ""},
		{"unknown", "debug/pprof/nothing", "secret", http.StatusNotFound, false, ""},
		{"bad seconds", "debug/pprof/profile?seconds=x", "secret", http.StatusBadRequest, false, ""},
		{"too long", "debug/pprof/profile?seconds=601", "secret", http.StatusBadRequest, false, ""},
		{"cpu", "debug/pprof/profile?seconds=1", "secret", http.StatusOK, true, ""},
		{"heap as text", "debug/pprof/heap?gc=1&debug=1", "secret", http.StatusOK, false, "# HeapAlloc = "},
		{"goroutines as text", "debug/pprof/goroutine?debug=2", "secret", http.StatusOK, false, "goroutine "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+adminPrefix+tc.path, nil)
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.text != "" {
				b, err := io.ReadAll(resp.Body)
				if err != nil || !strings.Contains(string(b), tc.text) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
					t.Fatalf("%s: %s, %v; want text with %q", resp.Header.Get("Content-Type"), b[:min(len(b), 200)], err, tc.text)
				}
			}
			if !tc.profile {
				return
			}
			// A profile is a gzipped protocol buffer.
			zr, err := gzip.NewReader(resp.Body)
			if err != nil {
				t.Fatalf("not a profile: %v", err)
			}
			b, err := io.ReadAll(zr)
			if err != nil || len(b) == 0 {
				t.Fatalf("profile body: %d bytes, %v", len(b), err)
			}
		})
	}
}
