package openapi

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
)

var (
	mtObject  = []string{"application/json", "application/yaml", "application/vnd.kubernetes.protobuf", "application/cbor"}
	mtWatch   = []string{"application/json", "application/yaml", "application/vnd.kubernetes.protobuf", "application/cbor", "application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch", "application/cbor-seq"}
	mtLog     = []string{"text/plain", "application/json", "application/yaml", "application/vnd.kubernetes.protobuf", "application/cbor"}
	mtPatch   = []string{"application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml", "application/apply-patch+cbor"}
	statusTxt = map[int]string{200: "OK", 201: "Created", 202: "Accepted"}
)

const bearerDesc = "Bearer Token authentication"

func pathArgDesc(arg string) string {
	switch arg {
	case "namespace":
		return "object name and auth scope, such as for teams and projects"
	case "name":
		return "name of the object"
	}
	return ""
}

const prettyDesc = "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)."

func (o *operation) produces() []string {
	switch {
	case o.stringResponse:
		return mtLog
	case o.watch:
		return mtWatch
	}
	return mtObject
}

func (o *operation) consumes() []string {
	if o.patch && o.noStrategic {
		return slices.DeleteFunc(slices.Clone(mtPatch), func(mt string) bool { return mt == "application/strategic-merge-patch+json" })
	}
	if o.patch {
		return mtPatch
	}
	return []string{"*/*"}
}

// roots are the definitions the paths refer to directly.
func roots(paths []path) []string {
	var out []string
	for _, p := range paths {
		for _, o := range p.ops {
			if o.body != "" {
				out = append(out, o.body)
			}
			for _, r := range o.responses {
				if r != "" {
					out = append(out, r)
				}
			}
		}
	}
	return out
}

// reach returns the definitions reachable from names through references
// that start with refPrefix.
func reach(all map[string]json.RawMessage, names []string, refPrefix string) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	pfx := []byte(`"$ref":"` + refPrefix)
	var visit func(string)
	visit = func(n string) {
		if _, ok := out[n]; ok {
			return
		}
		raw, ok := all[n]
		if !ok {
			return
		}
		out[n] = raw
		rest := raw
		for {
			i := bytes.Index(rest, pfx)
			if i < 0 {
				return
			}
			rest = rest[i+len(pfx):]
			j := bytes.IndexByte(rest, '"')
			if j < 0 {
				return
			}
			visit(string(rest[:j]))
			rest = rest[j:]
		}
	}
	for _, n := range names {
		visit(n)
	}
	return out
}

func (s *Spec) renderV2(paths []path) ([]byte, error) {
	ps := map[string]any{}
	for _, p := range paths {
		item := map[string]any{"parameters": v2PathParams(p)}
		for _, o := range p.ops {
			item[o.method] = s.v2Op(o)
		}
		ps[p.url] = item
	}
	return json.Marshal(map[string]any{
		"swagger":             "2.0",
		"info":                map[string]string{"title": s.title, "version": s.version},
		"paths":               ps,
		"definitions":         reach(s.defs.v2, roots(paths), "#/definitions/"),
		"securityDefinitions": map[string]any{"BearerToken": map[string]string{"description": bearerDesc, "type": "apiKey", "name": "authorization", "in": "header"}},
		"security":            []any{map[string][]string{"BearerToken": {}}},
	})
}

func v2PathParams(p path) []any {
	var out []any
	for _, a := range p.pathArg {
		out = append(out, map[string]any{"uniqueItems": true, "type": "string", "description": pathArgDesc(a), "name": a, "in": "path", "required": true})
	}
	return append(out, map[string]any{"uniqueItems": true, "type": "string", "description": prettyDesc, "name": "pretty", "in": "query"})
}

func (s *Spec) v2Op(o operation) map[string]any {
	var params []any
	if o.body != "" {
		params = append(params, map[string]any{"name": "body", "in": "body", "required": true, "schema": map[string]string{"$ref": "#/definitions/" + o.body}})
	}
	for _, q := range o.query {
		pd := s.param(q)
		params = append(params, map[string]any{"uniqueItems": true, "type": pd.typ, "description": pd.desc, "name": q, "in": "query"})
	}
	resp := map[string]any{"401": map[string]string{"description": "Unauthorized"}}
	for code, def := range o.responses {
		r := map[string]any{"description": statusTxt[code]}
		if o.stringResponse {
			r["schema"] = map[string]string{"type": "string"}
		} else {
			r["schema"] = map[string]string{"$ref": "#/definitions/" + def}
		}
		resp[strconv.Itoa(code)] = r
	}
	op := map[string]any{
		"description": o.desc, "consumes": o.consumes(), "produces": o.produces(), "schemes": []string{"https"},
		"tags": []string{o.tag}, "operationId": o.id, "responses": resp, "x-kubernetes-action": o.action,
	}
	if params != nil {
		op["parameters"] = params
	}
	if o.gvk != nil {
		op["x-kubernetes-group-version-kind"] = o.gvk
	}
	return op
}

func (s *Spec) renderV3(paths []path) ([]byte, error) {
	ps := map[string]any{}
	for _, p := range paths {
		item := map[string]any{"parameters": v3PathParams(p)}
		for _, o := range p.ops {
			item[o.method] = s.v3Op(o)
		}
		ps[p.url] = item
	}
	return json.Marshal(map[string]any{
		"openapi": "3.0.0",
		"info":    map[string]string{"title": s.title, "version": s.version},
		"paths":   ps,
		"components": map[string]any{
			"schemas":         reach(s.defs.v3, roots(paths), "#/components/schemas/"),
			"securitySchemes": map[string]any{"BearerToken": map[string]string{"type": "apiKey", "description": bearerDesc, "name": "authorization", "in": "header"}},
		},
	})
}

func v3PathParams(p path) []any {
	var out []any
	for _, a := range p.pathArg {
		out = append(out, map[string]any{"name": a, "in": "path", "description": pathArgDesc(a), "required": true, "schema": map[string]any{"type": "string", "uniqueItems": true}})
	}
	return append(out, map[string]any{"name": "pretty", "in": "query", "description": prettyDesc, "schema": map[string]any{"type": "string", "uniqueItems": true}})
}

func (s *Spec) v3Op(o operation) map[string]any {
	var params []any
	for _, q := range o.query {
		pd := s.param(q)
		params = append(params, map[string]any{"name": q, "in": "query", "description": pd.desc, "schema": map[string]any{"type": pd.typ, "uniqueItems": true}})
	}
	resp := map[string]any{"401": map[string]string{"description": "Unauthorized"}}
	for code, def := range o.responses {
		content := map[string]any{}
		for _, mt := range o.produces() {
			if o.stringResponse {
				content[mt] = map[string]any{"schema": map[string]string{"type": "string"}}
			} else {
				content[mt] = map[string]any{"schema": map[string]string{"$ref": "#/components/schemas/" + def}}
			}
		}
		resp[strconv.Itoa(code)] = map[string]any{"description": statusTxt[code], "content": content}
	}
	op := map[string]any{"tags": []string{o.tag}, "description": o.desc, "operationId": o.id, "responses": resp, "x-kubernetes-action": o.action}
	if params != nil {
		op["parameters"] = params
	}
	if o.body != "" {
		content := map[string]any{}
		for _, mt := range o.consumes() {
			content[mt] = map[string]any{"schema": map[string]string{"$ref": "#/components/schemas/" + o.body}}
		}
		op["requestBody"] = map[string]any{"content": content, "required": true}
	}
	if o.gvk != nil {
		op["x-kubernetes-group-version-kind"] = o.gvk
	}
	return op
}

// param describes a query parameter; s.build has made params.
func (s *Spec) param(name string) param {
	return s.params[name]
}
