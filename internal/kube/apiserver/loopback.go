package apiserver

import (
	"context"
	"io"
	"net/http"
	"sync"

	"k8s.io/client-go/rest"
)

// LoopbackConfig returns a client-go config whose transport calls the
// handler in-process (no TCP, no TLS), authenticated as admin. Watches
// stream. For controllers running in the same process.
func (s *Server) LoopbackConfig() *rest.Config {
	return &rest.Config{
		Host:      "http://stratus-loopback",
		Transport: &loopback{h: s.handler, token: s.bundle.AdminToken},
		QPS:       -1,
		Burst:     -1,
		UserAgent: "stratus-loopback",
	}
}

// loopback is an http.RoundTripper that serves requests with a handler.
type loopback struct {
	h     http.Handler
	token string
}

func (l *loopback) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	req = req.Clone(ctx)
	req.Header.Set("Authorization", "Bearer "+l.token)
	if req.Body == nil {
		req.Body = http.NoBody
	}
	pr, pw := io.Pipe()
	rw := &pipeWriter{header: http.Header{}, pw: pw, ready: make(chan struct{})}
	go func() {
		defer func() {
			rw.WriteHeader(http.StatusOK) // a handler that wrote nothing answers 200
			pw.Close()
		}()
		l.h.ServeHTTP(rw, req)
	}()
	select {
	case <-rw.ready:
	case <-ctx.Done():
		pr.CloseWithError(ctx.Err())
		cancel()
		return nil, ctx.Err()
	}
	return &http.Response{
		Status: http.StatusText(rw.code), StatusCode: rw.code, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: rw.sent, Body: &cancelBody{PipeReader: pr, cancel: cancel}, ContentLength: -1, Request: req,
	}, nil
}

// cancelBody ends the handler's context when the client closes the body,
// so an abandoned watch stops at once.
type cancelBody struct {
	*io.PipeReader
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	b.cancel()
	return b.PipeReader.Close()
}

// pipeWriter is the handler's ResponseWriter: headers are handed to
// RoundTrip on WriteHeader, the body streams through a pipe.
type pipeWriter struct {
	header http.Header
	sent   http.Header
	pw     *io.PipeWriter
	once   sync.Once
	code   int
	ready  chan struct{}
}

func (w *pipeWriter) Header() http.Header { return w.header }

func (w *pipeWriter) WriteHeader(code int) {
	w.once.Do(func() {
		w.code = code
		w.sent = w.header.Clone()
		close(w.ready)
	})
}

func (w *pipeWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.pw.Write(b)
}

// Flush is a no-op: every Write already reaches the reader.
func (w *pipeWriter) Flush() {}
