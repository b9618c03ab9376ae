package apiserver

import (
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
)

// openAPI holds the minimal OpenAPI v3 documents: one PATCH operation per
// kind that lists the fieldValidation parameter, which is what makes
// kubectl (1.27+) delegate validation to the server. There are no schemas.
type openAPI struct {
	once sync.Once
	root []byte
	docs map[string][]byte // "api/v1" -> document
	hash map[string]string
}

func (s *Server) openAPIDocs() *openAPI {
	o := &s.openapi
	o.once.Do(func() {
		o.docs, o.hash = map[string][]byte{}, map[string]string{}
		type pathRef struct {
			URL string `json:"serverRelativeURL"`
		}
		root := map[string]map[string]pathRef{"paths": {}}
		for _, gv := range s.reg.GroupVersions() {
			name := "apis/" + gv.Group + "/" + gv.Version
			if gv.Group == "" {
				name = "api/" + gv.Version
			}
			paths := map[string]any{}
			for _, r := range s.reg.Resources {
				if r.Group != gv.Group || r.Version != gv.Version {
					continue
				}
				p := "/" + name + "/"
				if r.Namespaced {
					p += "namespaces/{namespace}/"
				}
				p += r.Name + "/{name}"
				op := map[string]any{
					"operationId":                     "patch" + r.Kind,
					"x-kubernetes-group-version-kind": map[string]string{"group": r.Group, "version": r.Version, "kind": r.Kind},
					"x-kubernetes-action":             "patch",
					"parameters": []map[string]any{
						{"name": "dryRun", "in": "query", "schema": map[string]string{"type": "string"}, "uniqueItems": true},
						{"name": "fieldManager", "in": "query", "schema": map[string]string{"type": "string"}, "uniqueItems": true},
						{"name": "fieldValidation", "in": "query", "schema": map[string]string{"type": "string"}, "uniqueItems": true},
						{"name": "force", "in": "query", "schema": map[string]string{"type": "boolean"}, "uniqueItems": true},
					},
					"responses": map[string]any{"200": map[string]string{"description": "OK"}, "201": map[string]string{"description": "Created"}},
				}
				paths[p] = map[string]any{"patch": op}
			}
			doc, _ := json.Marshal(map[string]any{
				"openapi":    "3.0.0",
				"info":       map[string]string{"title": "Kubernetes", "version": kubeGit},
				"paths":      paths,
				"components": map[string]any{"schemas": map[string]any{}},
			})
			sum := sha512.Sum512(doc)
			h := strings.ToUpper(hex.EncodeToString(sum[:]))
			o.docs[name], o.hash[name] = doc, h
			root["paths"][name] = pathRef{URL: "/openapi/v3/" + name + "?hash=" + h}
		}
		o.root, _ = json.Marshal(root)
	})
	return o
}

func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	o := s.openAPIDocs()
	p := strings.TrimPrefix(r.URL.Path, "/openapi/")
	switch {
	case p == "v3" || p == "v3/":
		w.Header().Set("Etag", `"`+shortHash(o.root)+`"`)
		writeRaw(w, mtJSON, http.StatusOK, o.root)
		return
	case strings.HasPrefix(p, "v3/"):
		name := strings.TrimPrefix(p, "v3/")
		doc, ok := o.docs[name]
		if !ok {
			break
		}
		h := o.hash[name]
		if q := r.URL.Query().Get("hash"); q != "" && q != h {
			http.Redirect(w, r, "/openapi/v3/"+name+"?hash="+h, http.StatusMovedPermanently)
			return
		}
		w.Header().Set("Etag", `"`+h+`"`)
		w.Header().Set("Vary", "Accept")
		if r.URL.Query().Get("hash") != "" {
			w.Header().Set("Cache-Control", "public, immutable")
		}
		writeRaw(w, mtJSON, http.StatusOK, doc)
		return
	}
	s.writeError(w, notFoundPath())
}

func shortHash(b []byte) string {
	sum := sha512.Sum512(b)
	return strings.ToUpper(hex.EncodeToString(sum[:16]))
}
