package cloudstack

import (
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// maxBody caps a form body (userdata may be up to 1 MB base64-encoded).
const maxBody = 2 << 20

// Params are a request's parameters: the query string and a form body
// merged, the last value of a repeated name winning, as the servlet does.
type Params map[string]string

// parseParams merges the query string and an urlencoded POST body.
func parseParams(r *http.Request) (Params, error) {
	p := Params{}
	if err := p.addEncoded(r.URL.RawQuery); err != nil {
		return nil, err
	}
	if r.Method == http.MethodPost && r.Body != nil {
		ct := r.Header.Get("Content-Type")
		if ct == "" || strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
			b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
			if err != nil {
				return nil, err
			}
			if len(b) > maxBody {
				return nil, errBodyTooLarge
			}
			if err := p.addEncoded(string(b)); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

type paramError string

func (e paramError) Error() string { return string(e) }

const (
	errBodyTooLarge = paramError("request body too large")
	errBadEncoding  = paramError("malformed parameter encoding")
)

// addEncoded adds name=value pairs from an urlencoded string.
func (p Params) addEncoded(s string) error {
	for s != "" {
		var kv string
		kv, s, _ = strings.Cut(s, "&")
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return errBadEncoding
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return errBadEncoding
		}
		if key == "" {
			continue
		}
		p[key] = val
	}
	return nil
}

// Get returns a parameter's value ("" when absent).
func (p Params) Get(name string) string { return p[name] }

// Has reports whether a parameter was given (even empty).
func (p Params) Has(name string) bool { _, ok := p[name]; return ok }

// getFold returns the value of a name matched case-insensitively (apiKey,
// signature, signatureVersion, expires).
func (p Params) getFold(name string) (string, bool) {
	if v, ok := p[name]; ok {
		return v, true
	}
	for k, v := range p {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// List returns a comma-separated list parameter; empty means absent.
func (p Params) List(name string) []string {
	v := p[name]
	if v == "" {
		return nil
	}
	parts := strings.Split(v, ",")
	out := parts[:0]
	for _, s := range parts {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Map returns a map parameter (name[0].key=…&name[0].value=… or
// name[0].somekey=…) as its entries in index order.
func (p Params) Map(name string) []map[string]string {
	byIdx := map[int]map[string]string{}
	prefix := name + "["
	for k, v := range p {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		rest := k[len(prefix):]
		idxS, field, ok := strings.Cut(rest, "].")
		if !ok {
			continue
		}
		idx, err := strconv.Atoi(idxS)
		if err != nil || idx < 0 {
			continue
		}
		m := byIdx[idx]
		if m == nil {
			m = map[string]string{}
			byIdx[idx] = m
		}
		m[field] = v
	}
	idxs := make([]int, 0, len(byIdx))
	for i := range byIdx {
		idxs = append(idxs, i)
	}
	sort.Ints(idxs)
	out := make([]map[string]string, 0, len(idxs))
	for _, i := range idxs {
		out = append(out, byIdx[i])
	}
	return out
}

// parseBool reads a boolean the way Java's Boolean.valueOf does.
func parseBool(s string) bool { return strings.EqualFold(strings.TrimSpace(s), "true") }
