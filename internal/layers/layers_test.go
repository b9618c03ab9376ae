package layers

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/stratus-cloud/stratus/"

// rule says which of the project's packages a package (and everything under
// it) must not import, by path prefix. The table is the one in
// docs/architecture.md ("Layers"); the longest matching pkg prefix applies.
type rule struct {
	pkg    string
	forbid []string
	why    string
}

// clientsOfKube talk to the cluster only through the Kubernetes API.
var notBelowKubeAPI = []string{"internal/store", "internal/cloud", "internal/cloudstack", "internal/kube/apiserver", "internal/kube/registry", "internal/gce", "internal/dashboard"}

var rules = []rule{
	{"internal/store", []string{"internal/cloud", "internal/cloudstack", "internal/gce", "internal/kube", "internal/agent", "internal/dashboard", "internal/proxy", "internal/runtime"},
		"the store is the bottom layer: it knows no API"},
	{"internal/cloud", []string{"internal/cloudstack", "internal/gce", "internal/kube", "internal/agent", "internal/dashboard", "internal/proxy", "internal/runtime"},
		"the simulator is a domain model: APIs stand on it, not it on them"},
	{"internal/cloudstack", []string{"internal/gce", "internal/kube", "internal/agent", "internal/dashboard", "internal/proxy", "internal/runtime"},
		"the CloudStack API stands on the simulator only"},
	{"internal/cloudstack/csclient", []string{"internal/store", "internal/cloud", "=internal/cloudstack", "internal/cloudstack/cstest", "internal/gce", "internal/kube", "internal/agent", "internal/dashboard", "internal/proxy", "internal/runtime"},
		"the one CloudStack client speaks the wire to any CloudStack: it knows nothing of the server or the simulator"},
	{"internal/gce", []string{"internal/cloud", "=internal/cloudstack", "internal/cloudstack/cstest", "internal/kube", "internal/agent", "internal/dashboard", "internal/proxy", "internal/runtime"},
		"the GCE gateway speaks CloudStack over the wire, to any CloudStack: it never touches the simulator"},
	{"internal/kube/registry", []string{"internal/kube/apiserver", "internal/kube/controller", "internal/cloud", "internal/cloudstack", "internal/gce", "internal/agent", "internal/dashboard", "internal/proxy", "internal/runtime"},
		"the registry is the API server's storage layer"},
	{"internal/kube/apiserver", []string{"internal/kube/controller", "internal/cloud", "internal/cloudstack", "internal/gce", "internal/agent", "internal/dashboard", "internal/proxy", "internal/runtime"},
		"the API server serves objects; controllers and agents are its clients"},
	{"internal/kube/controller", notBelowKubeAPI, "controllers are clients of the Kubernetes API"},
	{"internal/agent", append(notBelowKubeAPI, "internal/kube/controller"), "node agents are clients of the Kubernetes API"},
	{"internal/proxy", append(notBelowKubeAPI, "internal/kube/controller", "internal/agent"), "the service proxy is a client of the Kubernetes API"},
	{"internal/leader", notBelowKubeAPI, "leader election is a client of the Kubernetes API"},
	{"internal/marathon", append(notBelowKubeAPI, "internal/kube/controller", "internal/agent"), "Marathon's API is a client of the Kubernetes API: one scheduler, two APIs"},
	{"internal/compose", append(notBelowKubeAPI, "internal/kube/controller", "internal/agent", "internal/instance"), "stratus compose is a client of the Kubernetes API"},
	{"internal/runtime", append(notBelowKubeAPI, "internal/kube", "internal/agent"), "runtimes run containers; they know nothing of Kubernetes objects' storage"},
	{"internal/dashboard", []string{"internal/store", "internal/cloud", "=internal/cloudstack", "internal/cloudstack/cstest", "internal/gce", "internal/kube/apiserver", "internal/kube/registry", "internal/kube/controller", "internal/agent"},
		"the dashboard is a client of the public APIs"},
	{"internal/seed", []string{"internal/store", "internal/cloud", "=internal/cloudstack", "internal/cloudstack/cstest", "internal/gce", "internal/kube", "internal/agent", "internal/dashboard", "internal/instance"},
		"a seed file is applied as a client of the public APIs"},
	{"internal/fault", []string{"internal/store", "internal/cloud", "internal/cloudstack", "internal/gce", "internal/kube", "internal/agent", "internal/dashboard", "internal/instance"},
		"fault rules are HTTP middleware: they know no API's internals"},
}

// knownExceptions are imports that break a rule today, each with the issue
// that removes it. The test fails when one disappears, so the list only
// shrinks.
var knownExceptions = map[string]string{}

func ruleFor(pkg string) *rule {
	if strings.HasSuffix(pkg, "test") { // test kits (apiservertest, cstest, …) start whole servers
		return nil
	}
	var best *rule
	for i := range rules {
		r := &rules[i]
		if (pkg == r.pkg || strings.HasPrefix(pkg, r.pkg+"/")) && (best == nil || len(r.pkg) > len(best.pkg)) {
			best = r
		}
	}
	return best
}

// matches: "=p" is package p alone; "p" is p and everything under it.
func matches(pkg, pattern string) bool {
	if p, ok := strings.CutPrefix(pattern, "="); ok {
		return pkg == p
	}
	return pkg == pattern || strings.HasPrefix(pkg, pattern+"/")
}

// imports returns, for every package directory under the repository, the
// project packages its files import (tests excluded when tests is false).
func imports(t *testing.T, tests bool) map[string]map[string][]string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string][]string{} // pkg -> import -> files
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "testdata", "vendor", ".git", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || (!tests && strings.HasSuffix(path, "_test.go")) {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		for _, is := range f.Imports {
			p, _ := strconv.Unquote(is.Path.Value)
			if out[pkg] == nil {
				out[pkg] = map[string][]string{}
			}
			out[pkg][p] = append(out[pkg][p], filepath.Base(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLayers(t *testing.T) {
	seen := map[string]bool{}
	var bad []string
	for pkg, imps := range imports(t, false) {
		r := ruleFor(pkg)
		if r == nil {
			continue
		}
		for imp, files := range imps {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			target := strings.TrimPrefix(imp, module)
			for _, f := range r.forbid {
				if !matches(target, f) {
					continue
				}
				key := r.pkg + " -> " + f
				if _, ok := knownExceptions[key]; ok {
					seen[key] = true
					break
				}
				bad = append(bad, pkg+" imports "+target+" ("+strings.Join(files, ", ")+"): "+r.why)
				break
			}
		}
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Error(b)
	}
	for k, why := range knownExceptions {
		if !seen[k] {
			t.Errorf("known exception %q (%s) no longer happens: remove it from knownExceptions", k, why)
		}
	}
}

// aliases are the names every file gives these packages (importas).
var aliases = map[string]string{
	"k8s.io/apimachinery/pkg/apis/meta/v1": "metav1",
	"k8s.io/apimachinery/pkg/api/errors":   "apierrors",
}

// k8sAPI is a k8s.io/api group version: its alias is group+version
// (corev1, appsv1, coordinationv1, ...).
var k8sAPI = regexp.MustCompile(`^k8s\.io/api/([a-z0-9]+)/(v[a-z0-9]+)$`)

func TestImportAliases(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var bad []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "testdata", "vendor", ".git":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, is := range f.Imports {
			p, _ := strconv.Unquote(is.Path.Value)
			want, ok := aliases[p]
			if m := k8sAPI.FindStringSubmatch(p); m != nil {
				want, ok = m[1]+m[2], true
			}
			if !ok {
				continue
			}
			got := ""
			if is.Name != nil {
				got = is.Name.Name
			}
			if got != want && got != "_" {
				rel, _ := filepath.Rel(root, path)
				bad = append(bad, rel+": "+strconv.Quote(p)+" imported as "+strconv.Quote(got)+", want "+want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Error(b)
	}
}
