package seed

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in, err string
		docs          int
	}{
		{name: "both layers", docs: 3, in: `# comment only
---
apiVersion: seed.stratus.io/v1
kind: Account
name: ci
apiKey: key-0123456
secretKey: secret-0123456
---
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
--- # next
apiVersion: seed.stratus.io/v1
kind: VirtualMachine
name: vm
zone: z
offering: o
template: t
`},
		{name: "no kind", in: "apiVersion: v1\nmetadata: {name: a}\n", err: "f.yaml:1: document 1, field kind: required"},
		{name: "unknown cloud kind", in: "apiVersion: seed.stratus.io/v1\nkind: Volume\nname: v\n", err: `field kind: seed.stratus.io/v1 has no kind "Volume"`},
		{name: "missing field", in: "---\n\napiVersion: seed.stratus.io/v1\nkind: VirtualMachine\nname: vm\nzone: z\noffering: o\n",
			err: `f.yaml:3: document 1 (VirtualMachine "vm"), field template: required`},
		{name: "unknown field", in: "apiVersion: seed.stratus.io/v1\nkind: Network\nname: net\nzone: z\ncidr: x\n",
			err: `document 1 (Network "net"), field cidr: unknown field (seed.stratus.io/v1 Network has name, account, zone`},
		{name: "half a key pair", in: "apiVersion: seed.stratus.io/v1\nkind: Account\nname: a\napiKey: 12345678\n", err: "field apiKey: apiKey and secretKey go together"},
		{name: "manifest without name", in: "apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: a-}\n", err: "field metadata.name: required"},
		{name: "same object twice", in: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
			err: `f.yaml:5: document 2 (ConfigMap "a"), field name: the same object as document 1`},
		{name: "bad project name", in: "apiVersion: seed.stratus.io/v1\nkind: GCEProject\nname: P\n", err: "field name: \"P\": a project name is"},
		{name: "not a mapping", in: "- a\n- b\n", err: "document 1: not YAML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse("f.yaml", []byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Docs) != tc.docs {
				t.Fatalf("%d documents, want %d", len(f.Docs), tc.docs)
			}
			if f.Docs[2].Line != 13 || f.Docs[2].Kind != "VirtualMachine" || f.Docs[1].Object.GetName() != "a" {
				t.Errorf("documents: %+v %+v", f.Docs[1], f.Docs[2])
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: seed.stratus.io/v1\nkind: Account\nname: a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Parse("f", b)
	})
}
