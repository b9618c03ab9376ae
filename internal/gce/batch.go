package gce

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
)

// Batch limits: GCE takes at most 1000 calls in one batch.
const (
	maxBatchParts    = 1000
	maxBatchBody     = 32 << 20
	batchParallelism = 8
)

// batchPart is one call of a batch and, once served, its answer.
type batchPart struct {
	contentID string
	req       *http.Request
	err       *apiError
	rec       *recorder
}

// serveBatch is /batch/compute/v1: a multipart/mixed body of plain HTTP
// requests, each served as if sent alone with the outer request's
// credentials, answered as a multipart/mixed of plain HTTP responses in
// the same order.
func (g *Gateway) serveBatch(w http.ResponseWriter, r *http.Request) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") || params["boundary"] == "" {
		g.writeError(w, r, errBadRequest("A batch request must be multipart/mixed with a boundary."))
		return
	}
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, maxBatchBody), params["boundary"])
	var parts []*batchPart
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			g.writeError(w, r, errBadRequest("Malformed multipart body."))
			return
		}
		if len(parts) == maxBatchParts {
			g.writeError(w, r, errBadRequest("A batch may hold at most %d requests.", maxBatchParts))
			return
		}
		raw, err := io.ReadAll(p)
		if err != nil {
			g.writeError(w, r, errBadRequest("Malformed multipart body."))
			return
		}
		parts = append(parts, g.batchRequest(r, p.Header, raw))
	}
	if len(parts) == 0 {
		g.writeError(w, r, errBadRequest("The batch is empty."))
		return
	}

	sem := make(chan struct{}, batchParallelism)
	var wg sync.WaitGroup
	for _, bp := range parts {
		if bp.err != nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			bp.rec = newRecorder()
			g.mux.ServeHTTP(bp.rec, bp.req)
		}()
	}
	wg.Wait()

	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	boundary := "batch_" + hex.EncodeToString(rnd[:])
	var out bytes.Buffer
	for _, bp := range parts {
		status, hdr, body := 0, http.Header{}, []byte(nil)
		if bp.err != nil {
			status = bp.err.Code
			hdr.Set("Content-Type", "application/json; charset=UTF-8")
			body = mustJSON(bp.err.body())
		} else {
			status, hdr, body = bp.rec.status, bp.rec.header, bp.rec.body.Bytes()
		}
		fmt.Fprintf(&out, "--%s\r\nContent-Type: application/http\r\n", boundary)
		if bp.contentID != "" {
			fmt.Fprintf(&out, "Content-ID: <response-%s>\r\n", bp.contentID)
		}
		fmt.Fprintf(&out, "\r\nHTTP/1.1 %d %s\r\n", status, http.StatusText(status))
		fmt.Fprintf(&out, "Content-Type: %s\r\nContent-Length: %d\r\n\r\n", hdr.Get("Content-Type"), len(body))
		out.Write(body)
		out.WriteString("\r\n")
	}
	fmt.Fprintf(&out, "--%s--\r\n", boundary)
	w.Header().Set("Content-Type", "multipart/mixed; boundary="+boundary)
	w.Header().Set("Content-Length", strconv.Itoa(out.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out.Bytes())
}

// batchRequest reads one part into a request for the API mux.
func (g *Gateway) batchRequest(outer *http.Request, h textproto.MIMEHeader, raw []byte) *batchPart {
	bp := &batchPart{contentID: strings.TrimSuffix(strings.TrimPrefix(h.Get("Content-ID"), "<"), ">")}
	br := bufio.NewReader(bytes.NewReader(raw))
	req, err := http.ReadRequest(br)
	if err != nil {
		bp.err = errBadRequest("Malformed request in batch part.")
		return bp
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		bp.err = errBadRequest("Malformed request in batch part.")
		return bp
	}
	if req.ContentLength <= 0 && len(body) == 0 {
		// No Content-Length: the body is the rest of the part.
		rest, _ := io.ReadAll(br)
		body = bytes.TrimRight(rest, "\r\n")
	}
	path := req.URL.Path
	if !strings.HasPrefix(path, "/compute/v1/") {
		bp.err = &apiError{Code: http.StatusNotFound, Reason: "notFound", Message: "The requested URL " + path + " was not found in this batch endpoint."}
		return bp
	}
	inner, err := http.NewRequestWithContext(outer.Context(), req.Method, req.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		bp.err = errBadRequest("Malformed request in batch part.")
		return bp
	}
	for k, vs := range req.Header {
		inner.Header[k] = vs
	}
	if inner.Header.Get("Authorization") == "" {
		inner.Header.Set("Authorization", outer.Header.Get("Authorization"))
	}
	inner.Host = outer.Host
	inner.TLS = outer.TLS
	inner.RemoteAddr = outer.RemoteAddr
	bp.req = inner
	return bp
}

// recorder captures one batch part's response.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func mustJSON(v any) []byte {
	var b bytes.Buffer
	w := &recorder{header: http.Header{}}
	writeJSON(w, 200, v)
	b.Write(w.body.Bytes())
	return b.Bytes()
}
