package httpserver

import (
	"io"
	"net/http"
	"strings"
	"time"
)

// Timeouts are a listener's connection and request time limits.
//
// The server-wide ones (ReadHeader, Idle) hold for every connection. Read
// and Write hold per request, set by Deadlines when the request begins, so
// that long-running requests can be exempt as kube-apiserver exempts them
// (its --request-timeout does not apply to watches, proxies, attach, exec,
// logs and port forwarding): a server-wide ReadTimeout or WriteTimeout
// would cut every watch.
type Timeouts struct {
	// ReadHeader bounds reading a request's headers (slow-loris).
	ReadHeader time.Duration
	// Read bounds reading a whole request, body included, from its start.
	Read time.Duration
	// Write bounds writing the response, from the request's start.
	Write time.Duration
	// Idle is how long a keep-alive connection may wait for its next request.
	Idle time.Duration
}

// DefaultTimeouts are stratus's limits: kube-apiserver's idle timeout
// (90 s) and its one-minute request timeout for reading; two minutes for
// writing, so a large list to a slow client completes.
func DefaultTimeouts() Timeouts {
	return Timeouts{ReadHeader: 10 * time.Second, Read: time.Minute, Write: 2 * time.Minute, Idle: 90 * time.Second}
}

// orDefault fills zero fields from DefaultTimeouts.
func (t Timeouts) orDefault() Timeouts {
	d := DefaultTimeouts()
	if t.ReadHeader <= 0 {
		t.ReadHeader = d.ReadHeader
	}
	if t.Read <= 0 {
		t.Read = d.Read
	}
	if t.Write <= 0 {
		t.Write = d.Write
	}
	if t.Idle <= 0 {
		t.Idle = d.Idle
	}
	return t
}

// Apply sets the server-wide limits on srv (zero fields: the defaults).
func (t Timeouts) Apply(srv *http.Server) {
	t = t.orDefault()
	srv.ReadHeaderTimeout, srv.IdleTimeout = t.ReadHeader, t.Idle
}

// Deadlines wraps h so that every request that is not long-running
// (longRunning nil: none is) must be read within t.Read and answered
// within t.Write. The write deadline is cleared when the handler returns,
// so it does not carry over to the connection's next request.
func (t Timeouts) Deadlines(h http.Handler, longRunning func(*http.Request) bool) http.Handler {
	t = t.orDefault()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if longRunning != nil && longRunning(r) {
			h.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		now := time.Now()
		// In-process writers do not support deadlines: then there is no
		// connection to hold.
		_ = rc.SetReadDeadline(now.Add(t.Read))
		if rc.SetWriteDeadline(now.Add(t.Write)) == nil {
			defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()
		}
		h.ServeHTTP(w, r)
		drain(r)
	})
}

// maxDrain is how much of a body a handler left unread is read after it
// returns (net/http's own HTTP/1 limit).
const maxDrain = 256 << 10

// drain reads what the handler left of the request body. Over HTTP/2 a
// stream whose request body is still arriving when the handler returns is
// reset, and curl reports the reset as error 92 ("Stream error in the
// HTTP/2 framing layer") even though the whole answer arrived; HTTP/1 does
// the same drain itself.
func drain(r *http.Request) {
	if r.Body != nil && r.Body != http.NoBody {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxDrain))
	}
}

// KubeLongRunning reports whether a Kubernetes API request is long-running
// the way kube-apiserver's BasicLongRunningRequestCheck decides: a watch
// (watch=true or a /watch/ path), a proxy, or the attach, exec, log,
// portforward and proxy subresources.
func KubeLongRunning(r *http.Request) bool {
	q := r.URL.Query()
	if w := q.Get("watch"); w == "true" || w == "1" {
		return true
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	for i, p := range parts {
		switch {
		case p == "watch" && i <= 3: // /api/v1/watch/…, /apis/g/v/watch/…
			return true
		case p == "proxy" && i >= 3: // …/pods/name/proxy/…, …/services/name/proxy
			return true
		}
	}
	// Pods' subresources: /api/v1/namespaces/NS/pods/NAME/SUB (or /apis/G/V/…).
	base := 2
	if parts[0] == "apis" {
		base = 3
	}
	switch parts[len(parts)-1] {
	case "attach", "exec", "log", "portforward":
		return len(parts) == base+5
	}
	return false
}

// StreamLongRunning reports whether a request on the HTTP front is a
// stream or waits by design: server-sent events (the dashboard), a watch,
// or a GCE operation's wait (which may hold for two minutes).
func StreamLongRunning(r *http.Request) bool {
	if strings.Contains(r.Header.Get("Accept"), "text/event-stream") || GCEWait(r) {
		return true
	}
	w := r.URL.Query().Get("watch")
	return w == "true" || w == "1"
}

// GCEWait reports whether r is a GCE operations' wait (…/operations/NAME/wait).
func GCEWait(r *http.Request) bool {
	return strings.HasSuffix(r.URL.Path, "/wait") && strings.Contains(r.URL.Path, "/operations/")
}
