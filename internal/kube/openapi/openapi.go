// Package openapi builds the OpenAPI documents the Kubernetes API publishes:
// /openapi/v2 (JSON and the protobuf form kubectl 1.27 and 1.28 read) and
// /openapi/v3 (an index and one document per group version), with the full
// schemas of every served kind, descriptions included, so `kubectl explain`,
// client-side validation and the query-parameter check that lets clients
// hand validation to the server all work.
//
// The schemas are kube-apiserver's own: a generator in ./gen (its own Go
// module, since only a module with k8s.io/kubernetes' replace directives can
// import k8s.io/kubernetes/pkg/generated/openapi) writes every built-in
// definition, as kube-openapi builds them, into schemas.json.gz, which this
// package embeds. Documents are built on first request, from the served
// resources and only the definitions they reach; nothing is decoded at
// start-up.
package openapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	openapiv2 "github.com/google/gnostic-models/openapiv2"
	"google.golang.org/protobuf/proto"
)

// schemasGz is what ./gen writes: {"v2": {name: schema}, "v3": {name: schema}}.
//
//go:embed schemas.json.gz
var schemasGz []byte

// GVK names a kind as the x-kubernetes-group-version-kind extension does.
type GVK struct {
	Group   string `json:"group"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
}

// Resource is what the documents need to know of one served resource.
type Resource struct {
	Group, Version, Name, Kind string
	Namespaced                 bool
	// Verbs the resource answers (discovery's list).
	Verbs []string
	// Subresources served on an object, with the kind each reads and writes.
	Subresources []Subresource
	// Defs are the definitions of a kind not among the embedded ones (a
	// custom resource's, as apiextensions-apiserver builds them).
	Defs *Defs
}

// Defs are one kind's definitions (and its list's), v2 and v3, by name.
type Defs struct {
	V2, V3     map[string]json.RawMessage
	Kind, List string
}

// Subresource is one subresource of a Resource.
type Subresource struct {
	Name  string
	Kind  GVK
	Verbs []string
}

// Spec holds the documents of one set of resources, built on first use.
type Spec struct {
	title, version string
	resources      []Resource

	once   sync.Once
	err    error
	defs   defs
	params map[string]param
	v2JSON []byte
	v3     map[string]doc // "api/v1", "apis/apps/v1"
	v3Root []byte

	pbOnce sync.Once
	pbErr  error
	v2PB   []byte
}

type doc struct {
	data []byte
	hash string
}

// New returns the documents for resources; version is the server's
// gitVersion (the documents' info.version).
func New(version string, resources []Resource) *Spec {
	return &Spec{title: "Kubernetes", version: version, resources: resources}
}

// V2 returns the OpenAPI v2 document as JSON.
func (s *Spec) V2() ([]byte, error) {
	s.build()
	return s.v2JSON, s.err
}

// V2Protobuf returns the OpenAPI v2 document in gnostic's protobuf form
// (application/com.github.proto-openapi.spec.v2@v1.0+protobuf).
func (s *Spec) V2Protobuf() ([]byte, error) {
	s.build()
	if s.err != nil {
		return nil, s.err
	}
	s.pbOnce.Do(func() {
		d, err := openapiv2.ParseDocument(s.v2JSON)
		if err != nil {
			s.pbErr = fmt.Errorf("openapi: v2 to protobuf: %w", err)
			return
		}
		s.v2PB, s.pbErr = proto.Marshal(d)
	})
	return s.v2PB, s.pbErr
}

// V3Index returns the /openapi/v3 index: each group version's document
// path with the hash of its current content.
func (s *Spec) V3Index() ([]byte, error) {
	s.build()
	return s.v3Root, s.err
}

// V3 returns the document of one group version ("api/v1",
// "apis/apps/v1") and its hash; ok is false for an unknown one.
func (s *Spec) V3(name string) (data []byte, hash string, ok bool, err error) {
	s.build()
	if s.err != nil {
		return nil, "", false, s.err
	}
	d, ok := s.v3[name]
	return d.data, d.hash, ok, nil
}

// Hash is the content hash the v3 index and ETags use.
func Hash(b []byte) string {
	sum := sha512.Sum512(b)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func (s *Spec) build() {
	s.once.Do(func() {
		d, err := loadDefs()
		if err != nil {
			s.err = err
			return
		}
		for _, r := range s.resources {
			if r.Defs == nil {
				continue
			}
			for name, sch := range r.Defs.V2 {
				if _, ok := d.v2[name]; !ok {
					d.v2[name] = sch
				}
			}
			for name, sch := range r.Defs.V3 {
				if _, ok := d.v3[name]; !ok {
					d.v3[name] = sch
				}
			}
			d.byGVK[GVK{Group: r.Group, Version: r.Version, Kind: r.Kind}] = r.Defs.Kind
			d.byGVK[GVK{Group: r.Group, Version: r.Version, Kind: r.Kind + "List"}] = r.Defs.List
		}
		s.defs = d
		s.err = s.buildDocs()
		// The raw definitions are not needed once the documents exist.
		s.defs = defs{}
	})
}

// defs are the embedded definitions, still encoded, and an index of the
// kinds they declare.
type defs struct {
	v2, v3 map[string]json.RawMessage
	byGVK  map[GVK]string
}

func loadDefs() (defs, error) {
	zr, err := gzip.NewReader(bytes.NewReader(schemasGz))
	if err != nil {
		return defs{}, fmt.Errorf("openapi: embedded schemas: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return defs{}, fmt.Errorf("openapi: embedded schemas: %w", err)
	}
	var all struct {
		V2 map[string]json.RawMessage `json:"v2"`
		V3 map[string]json.RawMessage `json:"v3"`
	}
	if err := json.Unmarshal(raw, &all); err != nil {
		return defs{}, fmt.Errorf("openapi: embedded schemas: %w", err)
	}
	d := defs{v2: all.V2, v3: all.V3, byGVK: map[GVK]string{}}
	for name, sch := range all.V2 {
		var ext struct {
			GVKs []GVK `json:"x-kubernetes-group-version-kind"`
		}
		if !bytes.Contains(sch, []byte(`"x-kubernetes-group-version-kind"`)) {
			continue
		}
		if err := json.Unmarshal(sch, &ext); err != nil {
			return defs{}, fmt.Errorf("openapi: definition %s: %w", name, err)
		}
		for _, g := range ext.GVKs {
			// Meta types (Status, DeleteOptions, WatchEvent) carry every
			// group's GVK; a group's own type wins over them.
			if prev, ok := d.byGVK[g]; ok && !strings.HasPrefix(prev, "io.k8s.apimachinery.") {
				continue
			}
			d.byGVK[g] = name
		}
	}
	return d, nil
}

// definition names of the meta types every document refers to.
const (
	metaPrefix   = "io.k8s.apimachinery.pkg.apis.meta.v1."
	defStatus    = metaPrefix + "Status"
	defDelete    = metaPrefix + "DeleteOptions"
	defPatch     = metaPrefix + "Patch"
	defWatch     = metaPrefix + "WatchEvent"
	defList      = metaPrefix + "ListOptions"
	defCreate    = metaPrefix + "CreateOptions"
	defPatchOpts = metaPrefix + "PatchOptions"
)

func (s *Spec) buildDocs() error {
	params, err := s.queryParams()
	if err != nil {
		return err
	}
	s.params = params
	b := &builder{defs: s.defs}
	byGV := map[string][]path{}
	var order []string
	var all []path
	for _, r := range s.resources {
		ps, err := b.paths(r)
		if err != nil {
			return err
		}
		name := gvName(r.Group, r.Version)
		if _, ok := byGV[name]; !ok {
			order = append(order, name)
		}
		byGV[name] = append(byGV[name], ps...)
		all = append(all, ps...)
	}
	if s.v2JSON, err = s.renderV2(all); err != nil {
		return err
	}
	s.v3 = map[string]doc{}
	type ref struct {
		URL string `json:"serverRelativeURL"`
	}
	index := map[string]ref{}
	for _, name := range order {
		data, err := s.renderV3(byGV[name])
		if err != nil {
			return err
		}
		h := Hash(data)
		s.v3[name] = doc{data: data, hash: h}
		index[name] = ref{URL: "/openapi/v3/" + name + "?hash=" + h}
	}
	s.v3Root, err = json.Marshal(map[string]any{"paths": index})
	return err
}

func gvName(group, version string) string {
	if group == "" {
		return "api/" + version
	}
	return "apis/" + group + "/" + version
}

// param is one query parameter, described as the option types describe it.
type param struct {
	name, typ, desc string
}

// queryParams reads the query parameters' types and descriptions from the
// option types (ListOptions, DeleteOptions, CreateOptions, PatchOptions), as
// kube-apiserver derives them from the same Go types.
func (s *Spec) queryParams() (map[string]param, error) {
	out := map[string]param{}
	for _, def := range []string{defList, defDelete, defCreate, defPatchOpts} {
		var sch struct {
			Properties map[string]struct {
				Type        string `json:"type"`
				Description string `json:"description"`
			} `json:"properties"`
		}
		raw, ok := s.defs.v2[def]
		if !ok {
			return nil, fmt.Errorf("openapi: %s is not among the embedded definitions", def)
		}
		if err := json.Unmarshal(raw, &sch); err != nil {
			return nil, fmt.Errorf("openapi: %s: %w", def, err)
		}
		for name, p := range sch.Properties {
			if name == "apiVersion" || name == "kind" {
				continue
			}
			typ := p.Type
			if typ == "array" { // dryRun: one string per occurrence
				typ = "string"
			}
			if typ == "" {
				continue // preconditions: not a query parameter
			}
			if _, dup := out[name]; !dup {
				out[name] = param{name: name, typ: typ, desc: p.Description}
			}
		}
	}
	return out, nil
}
