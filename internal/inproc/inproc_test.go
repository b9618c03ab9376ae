package inproc

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Echo", r.URL.Query().Get("q"))
		w.WriteHeader(http.StatusTeapot)
		w.Write(append([]byte(r.Method+" "), b...))
	})
	c := Client(h)
	resp, err := c.Post("http://x/path?q=hi", "text/plain", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusTeapot || resp.Header.Get("X-Echo") != "hi" || string(b) != "POST body" {
		t.Fatalf("got %d %v %q", resp.StatusCode, resp.Header, b)
	}
}

func TestStreamingAndCancel(t *testing.T) {
	stopped := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(stopped)
		for i := 0; ; i++ {
			if _, err := io.WriteString(w, "event\n"); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Millisecond):
			}
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://x/watch", nil)
	resp, err := Client(h).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	for i := 0; i < 3; i++ {
		if !sc.Scan() || sc.Text() != "event" {
			t.Fatalf("line %d: %q %v", i, sc.Text(), sc.Err())
		}
	}
	defer cancel()
	// Closing the body alone ends the handler's context.
	resp.Body.Close()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("handler did not stop after the client went away")
	}
}

func TestPanicBecomes500(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	resp, err := Client(h).Get("http://x/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Fatalf("got %d", resp.StatusCode)
	}
}

// deep uses about n KiB of stack, as a handler decoding and validating an
// object does.
//
//go:noinline
func deep(n int) byte {
	var buf [1024]byte
	buf[n%1024] = byte(n)
	if n == 0 {
		return buf[0]
	}
	return deep(n-1) + buf[n%1024]
}

// BenchmarkRoundTrip: small requests to a handler with a deep stack.
func BenchmarkRoundTrip(b *testing.B) {
	c := Client(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte{deep(32)})
	}))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Get("http://in.process/x")
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
