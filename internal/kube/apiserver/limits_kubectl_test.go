package apiserver_test

import (
	"strings"
	"testing"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
)

// TestSizeLimitsThroughKubectl drives the real server's size limits at
// their edges with kubectl: 1 MiB of ConfigMap and Secret data (the limit
// itself is valid), 1.5 MiB stored objects, 3 MiB request bodies. Every
// refusal is the real server's status and text, never a 500.
func TestSizeLimitsThroughKubectl(t *testing.T) {
	srv := apiservertest.Start(t)
	k := newKubectl(t, "1.33", srv)
	const mib = 1 << 20
	// data is the file of a one-key ConfigMap or Secret ("f") whose data
	// totals n bytes (key and value, as the server counts them).
	data := func(n int) string { return k.file("data", strings.Repeat("a", n-1)) }
	pod := func(name string, envBytes int) string {
		return k.file(name+".yaml", `apiVersion: v1
kind: Pod
metadata: {name: `+name+`}
spec:
  containers:
  - name: c
    image: busybox
    env: [{name: BIG, value: "`+strings.Repeat("b", envBytes)+`"}]
`)
	}
	tests := []struct {
		name string
		args func() []string
		// want is a piece of kubectl's error output ("" = accepted)
		want string
	}{
		{"configmap 1 MiB - 1", func() []string { return []string{"create", "configmap", "cm-under", "--from-file=f=" + data(mib-1)} }, ""},
		{"configmap 1 MiB", func() []string { return []string{"create", "configmap", "cm-at", "--from-file=f=" + data(mib)} }, ""},
		{"configmap 1 MiB + 1", func() []string { return []string{"create", "configmap", "cm-over", "--from-file=f=" + data(mib+1)} },
			`ConfigMap "cm-over" is invalid: []: Too long: may not be more than 1048576 bytes`},
		{"secret 1 MiB - 1", func() []string {
			return []string{"create", "secret", "generic", "s-under", "--from-file=f=" + data(mib-1)}
		}, ""},
		{"secret 1 MiB + 1", func() []string {
			return []string{"create", "secret", "generic", "s-over", "--from-file=f=" + data(mib+1)}
		},
			`Secret "s-over" is invalid: data: Too long: may not be more than 1048576 bytes`},
		{"object 1.4 MiB", func() []string { return []string{"create", "-f", pod("p-under", 1400<<10)} }, ""},
		{"object over 1.5 MiB", func() []string { return []string{"create", "-f", pod("p-over", 1600<<10)} },
			`Error from server (RequestEntityTooLarge): error when creating`},
		{"body over 3 MiB", func() []string { return []string{"create", "-f", pod("p-body", 3*mib+1)} },
			`Request entity too large: limit is 3145728`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, err := k.run("", tc.args()...)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v\n%s", err, errs)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted: %s", out)
			case tc.want != "" && !strings.Contains(errs, tc.want):
				t.Fatalf("kubectl says:\n%s\nwant %q", errs, tc.want)
			}
		})
	}
	// Nothing refused was stored.
	out := k.ok("get", "configmaps,secrets,pods", "-o", "name")
	for _, name := range []string{"cm-over", "s-over", "p-over", "p-body"} {
		if strings.Contains(out, name) {
			t.Errorf("refused object %s was stored:\n%s", name, out)
		}
	}
	for _, name := range []string{"configmap/cm-under", "configmap/cm-at", "secret/s-under", "pod/p-under"} {
		if !strings.Contains(out, name) {
			t.Errorf("%s missing:\n%s", name, out)
		}
	}
}
