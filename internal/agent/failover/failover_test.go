package failover

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// backend is one test server that counts the requests it answers.
type backend struct {
	srv  *httptest.Server
	hits atomic.Int32
}

func newBackend(t *testing.T, name string, h http.HandlerFunc) *backend {
	b := &backend{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		if h != nil {
			h(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		_, _ = io.WriteString(w, name+":"+string(body))
	}))
	t.Cleanup(b.srv.Close)
	return b
}

// deadURL is an address nothing listens on.
func deadURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	_ = ln.Close()
	return u
}

// hangup accepts the request and drops the connection without answering.
func hangup(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// status answers with code and "a<code>".
func status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(code)
		_, _ = fmt.Fprintf(w, "a%d", code)
	}
}

func do(t *testing.T, c *http.Client, method, url, body string) (string, error) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		first    func(t *testing.T) string // the first server's URL
		method   string
		body     string
		want     string // answer ("" = an error)
		switched bool   // the client uses the second server afterwards
	}{
		{"healthy first server", func(t *testing.T) string { return newBackend(t, "a", nil).srv.URL }, "GET", "", "a:", false},
		{"refused GET goes on", deadURL, "GET", "", "b:", true},
		{"refused POST goes on with its body", deadURL, "POST", "x=1", "b:x=1", true},
		{"unknown host", func(*testing.T) string { return "http://no-such-host.invalid:1" }, "GET", "", "b:", true},
		{"dropped GET is retried", func(t *testing.T) string { return newBackend(t, "a", hangup).srv.URL }, "GET", "", "b:", true},
		{"dropped POST is not retried", func(t *testing.T) string { return newBackend(t, "a", hangup).srv.URL }, "POST", "x=1", "", true},
		{"503 stands, the next goes on", func(t *testing.T) string { return newBackend(t, "a", status(503)).srv.URL }, "GET", "", "a503", true},
		{"404 is an answer like any", func(t *testing.T) string { return newBackend(t, "a", status(404)).srv.URL }, "GET", "", "a404", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			second := newBackend(t, "b", nil)
			s, err := New([]string{tc.first(t), second.srv.URL}, nil)
			if err != nil {
				t.Fatal(err)
			}
			tr := &http.Transport{DisableKeepAlives: true}
			c := &http.Client{Transport: s.Wrap(tr)}
			got, err := do(t, c, tc.method, s.URLs()[0]+"/x", tc.body)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("answer %q, want an error", got)
				}
			} else if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
			if on := s.Current() == second.srv.URL; on != tc.switched {
				t.Fatalf("current %s, switched %v, want %v", s.Current(), on, tc.switched)
			}
			// whatever happened, the next request is answered
			if got, err := do(t, c, "GET", s.URLs()[0]+"/y", ""); err != nil || got == "" {
				t.Fatalf("next request: %q, %v", got, err)
			}
		})
	}
}

func TestAllDown(t *testing.T) {
	s, err := New([]string{deadURL(t), deadURL(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: s.Wrap(&http.Transport{})}
	if _, err := do(t, c, "GET", s.URLs()[0]+"/", ""); err == nil {
		t.Fatal("no error with every server down")
	}
}

func TestCallerCancelDoesNotSwitch(t *testing.T) {
	slow := newBackend(t, "a", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	s, _ := New([]string{slow.srv.URL, newBackend(t, "b", nil).srv.URL}, nil)
	c := &http.Client{Transport: s.Wrap(&http.Transport{})}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", slow.srv.URL+"/", nil)
	if _, err := c.Do(req); err == nil {
		t.Fatal("no error")
	}
	if s.Current() != slow.srv.URL {
		t.Fatalf("switched to %s after the caller's own cancel", s.Current())
	}
	// a deadline is the server's fault: too slow
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ = http.NewRequestWithContext(ctx, "GET", slow.srv.URL+"/", nil)
	if _, err := c.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want deadline exceeded", err)
	}
	if s.Current() == slow.srv.URL {
		t.Fatal("still on a server that let a request time out")
	}
}

// A watch open on a server the client leaves is ended, so that its owner
// watches again on the next server.
func TestSwitchEndsWatches(t *testing.T) {
	var down atomic.Bool
	a := newBackend(t, "a", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("watch") == "true" {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-r.Context().Done() // a watch that never ends on its own
			return
		}
		if down.Load() {
			hangup(w, r)
			return
		}
		_, _ = io.WriteString(w, "a")
	})
	b := newBackend(t, "b", nil)
	s, _ := New([]string{a.srv.URL, b.srv.URL}, nil)
	c := &http.Client{Transport: s.Wrap(&http.Transport{})}
	resp, err := c.Get(a.srv.URL + "/pods?watch=true")
	if err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		ended <- err
	}()
	down.Store(true)
	if got, err := do(t, c, "GET", a.srv.URL+"/pods", ""); err != nil || got != "b:" {
		t.Fatalf("got %q, %v", got, err)
	}
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the watch on the server left behind is still open")
	}
	// and a new watch goes to the second server
	if got, err := do(t, c, "GET", a.srv.URL+"/pods?watch=true", ""); err != nil || got != "b:" {
		t.Fatalf("watch again: %q, %v", got, err)
	}
}

func TestNewRejects(t *testing.T) {
	for _, bad := range [][]string{nil, {"server1:6443"}, {"https://s/api"}, {"ftp://s"}, {"https://s?x=1"}} {
		if _, err := New(bad, nil); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
	s, err := New([]string{"https://a:6443", " https://b:6443/ ", "https://a:6443"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.URLs(), ","); got != "https://a:6443,https://b:6443" {
		t.Fatalf("URLs %s", got)
	}
}
