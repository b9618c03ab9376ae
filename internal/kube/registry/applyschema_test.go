package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/structured-merge-diff/v6/schema"
	"sigs.k8s.io/structured-merge-diff/v6/typed"

	"github.com/stratus-cloud/stratus/internal/testenv"
)

// clientGoApplySchema reads the schema client-go embeds in its apply
// configurations (an internal package, so from its source).
func clientGoApplySchema(t *testing.T) *typed.Parser {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "k8s.io/client-go").Output()
	// The go command is there wherever tests are built; under CI a missing
	// module source must fail, not skip.
	testenv.Need(t, err == nil, fmt.Sprintf("cannot locate k8s.io/client-go's source with `go list`: %v", err))
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "applyconfigurations", "internal", "internal.go"))
	if err != nil {
		t.Fatal(err)
	}
	const open = "var schemaYAML = typed.YAMLObject(`"
	i := bytes.Index(src, []byte(open))
	if i < 0 {
		t.Fatal("client-go's schemaYAML not found")
	}
	rest := src[i+len(open):]
	j := bytes.IndexByte(rest, '`')
	if j < 0 {
		t.Fatal("client-go's schemaYAML not terminated")
	}
	p, err := typed.NewParser(typed.YAMLObject(rest[:j]))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pruneSchema keeps the named types reachable from roots.
func pruneSchema(full *schema.Schema, roots []string) *schema.Schema {
	byName := map[string]schema.TypeDef{}
	for _, td := range full.Types {
		byName[td.Name] = td
	}
	keep := map[string]bool{}
	var visitRef func(tr schema.TypeRef)
	var visitAtom func(a schema.Atom)
	visitName := func(name string) {
		if keep[name] {
			return
		}
		td, ok := byName[name]
		if !ok {
			return
		}
		keep[name] = true
		visitAtom(td.Atom)
	}
	visitRef = func(tr schema.TypeRef) {
		if tr.NamedType != nil {
			visitName(*tr.NamedType)
		}
		visitAtom(tr.Inlined)
	}
	visitAtom = func(a schema.Atom) {
		if a.List != nil {
			visitRef(a.List.ElementType)
		}
		if a.Map != nil {
			visitRef(a.Map.ElementType)
			for _, f := range a.Map.Fields {
				visitRef(f.Type)
			}
		}
	}
	for _, r := range roots {
		visitName(r)
	}
	out := &schema.Schema{}
	for _, td := range full.Types { // in client-go's order
		if keep[td.Name] {
			out.Types = append(out.Types, td)
		}
	}
	return out
}

// TestApplySchemaMatchesClientGo checks the embedded schema is client-go's,
// cut to the kinds of the scheme: every stored kind resolves, and nothing
// differs from what client-go's full schema says.
func TestApplySchemaMatchesClientGo(t *testing.T) {
	full := clientGoApplySchema(t)
	sch := schemeForTypes()
	var roots []string
	for gvk := range sch.AllKnownTypes() {
		if name, err := sch.ToOpenAPIDefinitionName(gvk); err == nil {
			roots = append(roots, name)
		}
	}
	want := pruneSchema(&full.Schema, roots)
	for _, td := range want.Types {
		if td.Map == nil {
			continue
		}
		for j := range td.Map.Fields {
			td.Map.Fields[j].Default = stringKeys(td.Map.Fields[j].Default)
		}
	}
	wantGob, err := encodeApplySchema(want)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("STRATUS_UPDATE_APPLY_SCHEMA") != "" {
		if err := os.WriteFile("applyschema.gob", wantGob, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote applyschema.gob: %d of %d types, %d bytes", len(want.Types), len(full.Schema.Types), len(wantGob))
		return
	}
	embedded, err := applyParser()
	if err != nil {
		t.Fatal(err)
	}
	// Compared re-encoded in this process: gob's type ids are per process.
	gotGob, err := encodeApplySchema(&embedded.Schema)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotGob, wantGob) {
		t.Fatal("applyschema.gob differs from client-go's schema: run STRATUS_UPDATE_APPLY_SCHEMA=1 go test -run TestApplySchemaMatchesClientGo ./internal/kube/registry/")
	}
	p, err := applyParser()
	if err != nil {
		t.Fatal(err)
	}
	// Decoded, every type is what client-go's full schema says.
	for _, td := range p.Schema.Types {
		ftd, ok := full.Schema.FindNamedType(td.Name)
		if !ok {
			t.Fatalf("%s is not in client-go's schema", td.Name)
		}
		if ftd.Map != nil {
			for j := range ftd.Map.Fields {
				ftd.Map.Fields[j].Default = stringKeys(ftd.Map.Fields[j].Default)
			}
		}
		got, _ := json.Marshal(td.Atom)
		exp, _ := json.Marshal(ftd.Atom)
		if !bytes.Equal(got, exp) {
			t.Fatalf("%s decodes differently:\n%s\n%s", td.Name, got, exp)
		}
		if td.Map != nil {
			for j, f := range td.Map.Fields {
				if d := ftd.Map.Fields[j].Default; !reflect.DeepEqual(f.Default, d) {
					t.Fatalf("%s.%s default %#v, client-go has %#v", td.Name, f.Name, f.Default, d)
				}
			}
		}
	}
	for _, r := range roots {
		if _, ok := full.Schema.FindNamedType(r); !ok {
			continue // a kind client-go has no schema for (options, lists)
		}
		if _, ok := p.Schema.FindNamedType(r); !ok {
			t.Errorf("%s missing from the embedded schema", r)
		}
	}
}

// stringKeys turns YAML's map[interface{}]interface{} into JSON's
// map[string]interface{}.
func stringKeys(v any) any {
	m, ok := v.(map[any]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, e := range m {
		out[fmt.Sprint(k)] = stringKeys(e)
	}
	return out
}

func BenchmarkApplyParser(b *testing.B) {
	for b.Loop() {
		if _, err := applyParser(); err != nil {
			b.Fatal(err)
		}
	}
}
