package httpserver

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestKubeLongRunning(t *testing.T) {
	tests := []struct {
		url  string
		want bool
	}{
		{"/api/v1/pods?watch=true", true},
		{"/api/v1/namespaces/default/pods?watch=1&resourceVersion=5", true},
		{"/api/v1/watch/namespaces/default/pods", true},
		{"/apis/apps/v1/watch/deployments", true},
		{"/api/v1/namespaces/default/pods/p/log?follow=true", true},
		{"/api/v1/namespaces/default/pods/p/log", true},
		{"/api/v1/namespaces/default/pods/p/exec?command=ls", true},
		{"/api/v1/namespaces/default/pods/p/attach", true},
		{"/api/v1/namespaces/default/pods/p/portforward", true},
		{"/api/v1/namespaces/default/services/s/proxy/healthz", true},
		{"/api/v1/pods", false},
		{"/api/v1/namespaces/default/pods/log", false}, // a pod named log
		{"/apis/authentication.k8s.io/v1/selfsubjectreviews", false},
		{"/api/v1/namespaces/default/configmaps/watch", false},
	}
	for url, want := range map[string]bool{
		"/compute/v1/projects/p/zones/z/operations/op-1/wait": true,
		"/compute/v1/projects/p/global/operations/op-1/wait":  true,
		"/compute/v1/projects/p/zones/z/operations/op-1":      false,
		"/client/api?command=listZones":                       false,
	} {
		r, _ := http.NewRequest(http.MethodPost, "http://x"+url, nil)
		if got := StreamLongRunning(r); got != want {
			t.Errorf("%s: %v, want %v", url, got, want)
		}
	}
	for _, tc := range tests {
		r, _ := http.NewRequest(http.MethodGet, "https://x"+tc.url, nil)
		if got := KubeLongRunning(r); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.url, got, tc.want)
		}
	}
}

// TestTimeouts: idle keep-alive connections are closed, a body sent too
// slowly is cut off, and an event stream outlives the write timeout.
func TestTimeouts(t *testing.T) {
	to := Timeouts{ReadHeader: time.Second, Read: 300 * time.Millisecond, Write: 300 * time.Millisecond, Idle: 300 * time.Millisecond}
	s := New(Options{Addr: "127.0.0.1:0", Registry: prometheus.NewRegistry(), Timeouts: to})
	s.Handle("/echo", "echo", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestTimeout)
			return
		}
		_, _ = w.Write(b)
	}))
	s.Handle("/events", "events", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 8 {
			if _, err := io.WriteString(w, "data: tick\n\n"); err != nil {
				return
			}
			_ = http.NewResponseController(w).Flush()
			if i < 7 {
				time.Sleep(100 * time.Millisecond) // the stream's own pace, longer in all than Write
			}
		}
	}))
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(t.Context()) })

	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, bufio.NewReader(c)
	}
	// closed reports whether the server closes c within d.
	closed := func(c net.Conn, br *bufio.Reader, d time.Duration) bool {
		_ = c.SetReadDeadline(time.Now().Add(d))
		_, err := io.Copy(io.Discard, br)
		var ne net.Error
		return err == nil || !(errors.As(err, &ne) && ne.Timeout())
	}

	t.Run("idle", func(t *testing.T) {
		c, br := dial()
		_, _ = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("healthz: %v %v", err, resp)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		if !closed(c, br, 5*time.Second) {
			t.Fatal("idle keep-alive connection still open after 5 s (idle timeout 300 ms)")
		}
	})
	t.Run("slow body", func(t *testing.T) {
		c, br := dial()
		_, _ = io.WriteString(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")
		// Never send the rest: the read deadline ends the request.
		if !closed(c, br, 5*time.Second) {
			t.Fatal("a body sent too slowly holds its connection past 5 s (read timeout 300 ms)")
		}
	})
	t.Run("event stream exempt", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"/events", nil)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || strings.Count(string(b), "tick") != 8 {
			t.Fatalf("stream cut short: %q %v", b, err)
		}
	})
	t.Run("keep-alive survives the write deadline", func(t *testing.T) {
		c, br := dial()
		for i := range 2 {
			_, _ = io.WriteString(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("request %d: %v %v", i, err, resp)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			time.Sleep(200 * time.Millisecond) // idle less than Idle, but past the first request's write deadline
		}
	})
}
