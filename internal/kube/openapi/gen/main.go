// Command gen writes the OpenAPI schemas of every built-in Kubernetes type,
// descriptions included, as kube-apiserver publishes them, for package
// openapi to embed.
//
// The definitions live in k8s.io/kubernetes/pkg/generated/openapi, which only
// a module with replace directives for k8s.io/kubernetes' staging modules can
// import; this generator is that module, so the server itself never links
// k8s.io/kubernetes. It builds the definitions with kube-openapi's builders
// (v2: "#/definitions/…" references; v3: "#/components/schemas/…" with
// references wrapped in allOf) and names them with the API server's own
// definition namer (which adds x-kubernetes-group-version-kind).
//
//	go run . -o ../schemas.json.gz
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/kube-openapi/pkg/builder"
	"k8s.io/kube-openapi/pkg/builder3"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/validation/spec"
	generated "k8s.io/kubernetes/pkg/generated/openapi"
)

// Schemas is the file's content: definition name → schema, for each version.
type Schemas struct {
	V2 map[string]*spec.Schema `json:"v2"`
	V3 map[string]*spec.Schema `json:"v3"`
}

func main() {
	out := flag.String("o", "schemas.json.gz", "file to write (gzip-compressed JSON)")
	flag.Parse()
	data, err := build()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func build() ([]byte, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	namer := openapinamer.NewDefinitionNamer(scheme)
	defs := generated.GetOpenAPIDefinitions(func(string) spec.Ref { return spec.Ref{} })
	// Every definition whose dependencies are all defined (a few, such as
	// component configuration types, refer to types the package lacks; the
	// API serves none of them).
	complete := map[string]bool{}
	var ok func(n string, seen map[string]bool) bool
	ok = func(n string, seen map[string]bool) bool {
		if c, done := complete[n]; done {
			return c
		}
		d, found := defs[n]
		if !found {
			return false
		}
		if seen[n] {
			return true
		}
		seen[n] = true
		for _, dep := range d.Dependencies {
			if !ok(dep, seen) {
				complete[n] = false
				return false
			}
		}
		complete[n] = true
		return true
	}
	names := make([]string, 0, len(defs))
	for n := range defs {
		if ok(n, map[string]bool{}) {
			names = append(names, n)
		}
	}
	sort.Strings(names)

	v2, err := builder.BuildOpenAPIDefinitionsForResources(&common.Config{
		GetDefinitions: generated.GetOpenAPIDefinitions, GetDefinitionName: namer.GetDefinitionName,
	}, names...)
	if err != nil {
		return nil, fmt.Errorf("v2: %w", err)
	}
	v3, err := builder3.BuildOpenAPIDefinitionsForResources(&common.OpenAPIV3Config{
		GetDefinitions: generated.GetOpenAPIDefinitions, GetDefinitionName: namer.GetDefinitionName,
	}, names...)
	if err != nil {
		return nil, fmt.Errorf("v3: %w", err)
	}
	s := Schemas{V2: map[string]*spec.Schema{}, V3: v3}
	for n, d := range v2.Definitions {
		s.V2[n] = &d
	}
	js, err := json.Marshal(&s)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(js); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
