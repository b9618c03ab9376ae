// Package failover lets one Kubernetes client use several API servers of
// the same cluster (servers sharing one store): requests go to one server
// at a time, and when it stops answering (a connection cannot be made, the
// connection breaks, a request times out, it answers 502, 503 or 504) the
// client moves on to the next one and carries on there.
//
// It is an http.RoundTripper under client-go's own transport wrappers
// (rest.Config.WrapTransport), so authentication, user agent, rate limits
// and TLS are client-go's; this layer only picks the host. A request that
// certainly never reached the failed server (the dial failed), or that
// reads only (GET, HEAD), is retried at once on the next server; a write
// that may have been sent returns its error, as it would with one server,
// and the caller's retry goes to the next server. Long-running requests
// (watches, followed logs) still open on a server the client leaves are
// cancelled, so informers re-establish their watches on the new one rather
// than wait on a connection to a host that may never answer again.
package failover

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
)

// Servers is one client's view of a cluster's API servers.
type Servers struct {
	urls []*url.URL
	log  *slog.Logger

	mu       sync.Mutex
	cur      int
	inflight []map[*call]struct{} // per server: long-running requests open on it
}

// call is one long-running request: cancel ends it.
type call struct{ cancel context.CancelFunc }

// New parses the servers' URLs (https://host:port, no path). The first is
// used first. log may be nil.
func New(servers []string, log *slog.Logger) (*Servers, error) {
	if len(servers) == 0 {
		return nil, errors.New("failover: no server")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Servers{log: log}
	seen := map[string]bool{}
	for _, raw := range servers {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil {
			return nil, fmt.Errorf("failover: server %q: %w", raw, err)
		}
		if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
			return nil, fmt.Errorf("failover: server %q: want https://host:port", raw)
		}
		u.Path = ""
		if seen[u.String()] {
			continue
		}
		seen[u.String()] = true
		s.urls = append(s.urls, u)
		s.inflight = append(s.inflight, map[*call]struct{}{})
	}
	return s, nil
}

// Current is the URL of the server in use.
func (s *Servers) Current() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.urls[s.cur].String()
}

// URLs lists every server in order.
func (s *Servers) URLs() []string {
	out := make([]string, len(s.urls))
	for i, u := range s.urls {
		out[i] = u.String()
	}
	return out
}

// DialTimeout bounds connecting to one server, so that a host that drops
// packets (stopped, partitioned) costs seconds, not client-go's 30 s.
const DialTimeout = 5 * time.Second

// Config returns a copy of base that reaches the servers through s: Host
// is the first server and WrapTransport routes every request. Without a
// Dial of its own, connecting gets DialTimeout.
func (s *Servers) Config(base *rest.Config) *rest.Config {
	cfg := rest.CopyConfig(base)
	cfg.Host = s.urls[0].String()
	prev := cfg.WrapTransport
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		if prev != nil {
			rt = prev(rt)
		}
		return s.Wrap(rt)
	}
	if cfg.Dial == nil {
		d := &net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}
		cfg.Dial = d.DialContext
	}
	return cfg
}

// Wrap returns a RoundTripper that sends each request through next to the
// current server, moving on when it fails.
func (s *Servers) Wrap(next http.RoundTripper) http.RoundTripper {
	return &transport{s: s, next: next}
}

type transport struct {
	s    *Servers
	next http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	s := t.s
	s.mu.Lock()
	start := s.cur
	s.mu.Unlock()
	var lastErr error
	for i := range len(s.urls) {
		idx := (start + i) % len(s.urls)
		if i > 0 && req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
			break // the body is spent and cannot be read again
		}
		resp, err := t.try(req, idx, i > 0)
		if err == nil {
			if unavailable(resp.StatusCode) {
				// answered, but cannot serve (its store out of reach, say):
				// the answer stands, the next request goes elsewhere
				s.failed(idx, fmt.Errorf("%s answered %s", s.urls[idx].Host, resp.Status))
			}
			return resp, nil
		}
		lastErr = err
		switch req.Context().Err() {
		case context.Canceled:
			return nil, err // the caller gave up; no fault of the server
		case context.DeadlineExceeded:
			// the server took longer than the caller could wait: the
			// next request goes elsewhere, this one is over
			s.failed(idx, err)
			return nil, err
		}
		s.failed(idx, err)
		if !notSent(err) && !readOnly(req) {
			return nil, err
		}
	}
	return nil, lastErr
}

// try sends req to server idx.
func (t *transport) try(req *http.Request, idx int, again bool) (*http.Response, error) {
	s := t.s
	u := s.urls[idx]
	ctx := req.Context()
	var c *call
	if longRunning(req) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		c = &call{cancel: cancel}
		s.mu.Lock()
		s.inflight[idx][c] = struct{}{}
		s.mu.Unlock()
	}
	r := req.Clone(ctx)
	r.URL.Scheme, r.URL.Host, r.Host = u.Scheme, u.Host, u.Host
	if again && req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			t.done(idx, c)
			return nil, err
		}
		r.Body = body
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		t.done(idx, c)
		return nil, err
	}
	if c != nil {
		resp.Body = &body{ReadCloser: resp.Body, done: func() { t.done(idx, c) }}
	}
	return resp, nil
}

// done forgets a long-running call and releases its context.
func (t *transport) done(idx int, c *call) {
	if c == nil {
		return
	}
	t.s.mu.Lock()
	delete(t.s.inflight[idx], c)
	t.s.mu.Unlock()
	c.cancel()
}

// failed moves off server idx if it is the current one, and ends the
// long-running requests still open on it.
func (s *Servers) failed(idx int, err error) {
	s.mu.Lock()
	if s.cur != idx || len(s.urls) == 1 {
		s.mu.Unlock()
		return
	}
	s.cur = (idx + 1) % len(s.urls)
	open := s.inflight[idx]
	s.inflight[idx] = map[*call]struct{}{}
	from, to := s.urls[idx].String(), s.urls[s.cur].String()
	s.mu.Unlock()
	for c := range open {
		c.cancel()
	}
	s.log.Warn("API server not answering; switching", "from", from, "to", to, "cancelled", len(open), "err", err)
}

// notSent reports whether err shows the request never reached a server:
// the connection could not be made (refused, no route, unknown host, dial
// timeout), so retrying elsewhere cannot do anything twice.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// unavailable reports whether a status says the server cannot serve now
// rather than that the request was wrong.
func unavailable(code int) bool {
	return code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout
}

func readOnly(req *http.Request) bool {
	return req.Method == http.MethodGet || req.Method == http.MethodHead
}

// longRunning reports whether req streams until someone stops it: a watch
// or a followed log.
func longRunning(req *http.Request) bool {
	q := req.URL.Query()
	return q.Get("watch") == "true" || q.Get("watch") == "1" || q.Get("follow") == "true" ||
		strings.Contains(req.URL.Path, "/watch/")
}

// body releases its call when the response is closed.
type body struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *body) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}
