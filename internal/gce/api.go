package gce

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// call is one authenticated API request in progress.
type call struct {
	g       *Gateway
	r       *http.Request
	ctx     context.Context
	tok     *tokenRecord
	project string
	cs      *csclient.Client
	base    string // "http://host:port/compute/v1/projects/"

	zoneCache  []zoneInfo
	imageCache []imageInfo
	// dataDisks holds the attached data volumes by VM id, listed once per
	// request (see attachedDataDisks).
	dataDisks map[string][]csclient.Volume
}

// link builds the selfLink of a resource of the request's project.
func (c *call) link(parts ...string) string { return c.linkIn(c.project, parts...) }

// linkIn builds a selfLink in any project.
func (c *call) linkIn(project string, parts ...string) string {
	var b strings.Builder
	b.WriteString(c.base)
	b.WriteString(project)
	for _, p := range parts {
		if p == "" {
			continue
		}
		b.WriteByte('/')
		b.WriteString(p)
	}
	return b.String()
}

// zoneLink, regionLink are the links of scopes.
func (c *call) zoneLink(zone string) string     { return c.link("zones", zone) }
func (c *call) regionLink(region string) string { return c.link("regions", region) }

// handlerFunc serves one API method; it returns the response object or an error.
type handlerFunc func(c *call) (any, error)

// route flags.
const (
	// publicRead lets any token read the public image projects.
	publicRead = 1 << iota
)

// baseURL is the client-visible root of the server.
func (g *Gateway) baseURL(r *http.Request) string {
	if g.opts.BaseURL != "" {
		return g.opts.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// api wraps a handlerFunc: authentication, the project check, JSON in
// and out, and the one place errors become GCE's error body.
func (g *Gateway) api(fn handlerFunc, flags int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, err := g.authenticate(r)
		if err != nil {
			g.writeError(w, r, err)
			return
		}
		project := r.PathValue("project")
		if project != tok.Project && !(flags&publicRead != 0 && r.Method == http.MethodGet && publicImageProject(project)) {
			g.writeError(w, r, &apiError{Code: http.StatusForbidden, Reason: "forbidden",
				Message: "Permission denied on resource project " + project + "."})
			return
		}
		c := &call{g: g, r: r, ctx: r.Context(), tok: tok, project: project,
			cs: g.client(tok.APIKey, tok.SecretKey), base: g.baseURL(r) + "/compute/v1/projects/"}
		out, err := fn(c)
		if err != nil {
			g.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":500,"message":"encoding failed","errors":[{"message":"encoding failed","domain":"global","reason":"backendError"}]}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError renders err as GCE's error body; server-side failures are
// logged with their cause, which the client does not see.
func (g *Gateway) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := toAPIError(err)
	if ae.Code >= 500 {
		g.log.Warn("gce request failed", "method", r.Method, "path", r.URL.Path, "status", ae.Code, "err", err)
	} else {
		g.log.Debug("gce request refused", "method", r.Method, "path", r.URL.Path, "status", ae.Code, "reason", ae.Reason)
	}
	if ae.Code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/"`)
	}
	writeJSON(w, ae.Code, ae.body())
}

// maxRequestBody caps a JSON request body (user-data is at most 256 KB
// in GCE).
const maxRequestBody = 4 << 20

// decode reads the JSON request body into v.
func (c *call) decode(v any) error {
	body, err := io.ReadAll(io.LimitReader(c.r.Body, maxRequestBody+1))
	if err != nil {
		return errBadRequest("Could not read the request body.")
	}
	if len(body) > maxRequestBody {
		return &apiError{Code: http.StatusRequestEntityTooLarge, Reason: "badRequest", Message: "The request body is too large."}
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return errInvalid("Required field 'resource' not specified")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return errBadRequest("Invalid value at '%s': %s", te.Field, te.Value)
		case errors.As(err, &se):
			return errBadRequest("Invalid JSON payload received.")
		}
		return errBadRequest("Invalid JSON payload received: %v", err)
	}
	return nil
}

// notFoundHandler answers unknown paths in GCE's shape.
func (g *Gateway) notFoundHandler(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, (&apiError{Code: http.StatusNotFound, Reason: "notFound",
		Message: "The requested URL " + r.URL.Path + " was not found on this server."}).body())
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
