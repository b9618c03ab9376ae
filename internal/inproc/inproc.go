// Package inproc lets a client in the same process call an http.Handler
// without TCP or TLS: Transport is an http.RoundTripper that runs the
// handler directly. Responses stream (watches and log follows work): the
// round trip returns as soon as the handler has written its header, and the
// body is read while the handler goes on writing.
package inproc

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Transport returns a RoundTripper that serves every request with h.
func Transport(h http.Handler) http.RoundTripper { return &transport{h: h, work: make(chan func())} }

// Client returns an http.Client whose requests h serves.
func Client(h http.Handler) *http.Client { return &http.Client{Transport: Transport(h)} }

// workerIdle is how long a handler goroutine waits for the next request
// before it ends.
const workerIdle = 5 * time.Second

type transport struct {
	h http.Handler
	// work hands a request to an idle handler goroutine. Reusing them
	// keeps their grown stacks: a fresh goroutine per request grew its
	// stack from the minimum through every copy again (about 4 % of the
	// CPU of a 10,000-pod scale).
	work chan func()
}

// serve runs fn on an idle handler goroutine, or on a new one.
func (t *transport) serve(fn func()) {
	select {
	case t.work <- fn:
	default:
		go t.worker(fn)
	}
}

func (t *transport) worker(fn func()) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		fn()
		idle.Reset(workerIdle)
		select {
		case fn = <-t.work:
		case <-idle.C:
			return
		}
	}
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	// A server request: body, RemoteAddr and RequestURI as net/http sets
	// them, and a context that ends when the client closes the body, so an
	// abandoned stream stops its handler at once.
	ctx, cancel := context.WithCancel(req.Context())
	sreq := req.Clone(ctx)
	if sreq.Body == nil {
		sreq.Body = http.NoBody
	}
	sreq.RemoteAddr = "127.0.0.1:0"
	sreq.RequestURI = req.URL.RequestURI()
	if sreq.Host == "" {
		sreq.Host = req.URL.Host
	}
	pr, pw := io.Pipe()
	w := &writer{header: http.Header{}, body: pw, ready: make(chan struct{}), req: req}
	t.serve(func() {
		defer func() {
			if p := recover(); p != nil && p != http.ErrAbortHandler {
				w.WriteHeader(http.StatusInternalServerError)
			}
			w.WriteHeader(http.StatusOK) // no-op when already written
			pw.Close()
		}()
		t.h.ServeHTTP(w, sreq)
	})
	select {
	case <-w.ready:
	case <-ctx.Done():
		pr.CloseWithError(ctx.Err())
		cancel()
		return nil, ctx.Err()
	}
	return w.resp(&cancelBody{PipeReader: pr, cancel: cancel}), nil
}

// cancelBody ends the handler's context when the client closes the body.
type cancelBody struct {
	*io.PipeReader
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	b.cancel()
	return b.PipeReader.Close()
}

// writer is the handler's side: headers are handed over once, the body goes
// through the pipe.
type writer struct {
	header http.Header
	body   *io.PipeWriter
	req    *http.Request

	once  sync.Once
	ready chan struct{}
	code  int
	sent  http.Header
}

func (w *writer) Header() http.Header { return w.header }

func (w *writer) WriteHeader(code int) {
	w.once.Do(func() {
		w.code = code
		w.sent = w.header.Clone()
		close(w.ready)
	})
}

func (w *writer) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

// Flush is a no-op: every Write already reaches the reader.
func (w *writer) Flush() { w.WriteHeader(http.StatusOK) }

func (w *writer) resp(body io.ReadCloser) *http.Response {
	r := &http.Response{
		Status:        strconv.Itoa(w.code) + " " + http.StatusText(w.code),
		StatusCode:    w.code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.sent,
		Body:          body,
		ContentLength: -1,
		Request:       w.req,
	}
	if cl := w.sent.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil {
			r.ContentLength = n
		}
	}
	return r
}
