package apiserver_test

import (
	"bufio"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
)

// notYetServed are the resources of a v1.33 server's list that stratus does
// not serve yet. The test fails when one of them appears, so the list
// shrinks with the work.
var notYetServed = map[string]bool{
	"bindings v1":                           true, // served as pods/binding only
	"apiservices apiregistration.k8s.io/v1": true,
}

// TestAPIResourcesMatchV133 compares discovery with the list of a real
// v1.33 server (testdata/api-resources-v1.33.txt): for every group version,
// each top-level resource's name, short names, scope, kind, verbs and
// categories, as `kubectl api-resources -o wide` prints them. Group
// versions outside kube-apiserver (metrics.k8s.io, served here as
// metrics-server would) are left out.
func TestAPIResourcesMatchV133(t *testing.T) {
	want := map[string]string{}
	f, err := os.Open("testdata/api-resources-v1.33.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) != 7 {
			t.Fatalf("testdata line %q: want 7 columns", line)
		}
		want[fs[0]+" "+fs[2]] = line
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	srv := apiservertest.Start(t)
	cs := clientset(t, apiservertest.RESTConfig(t, srv))
	_, lists, err := cs.Discovery().ServerGroupsAndResources()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, l := range lists {
		if strings.HasPrefix(l.GroupVersion, "metrics.k8s.io/") {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") {
				continue
			}
			dash := func(s []string) string {
				if len(s) == 0 {
					return "-"
				}
				return strings.Join(s, ",")
			}
			verbs := append([]string(nil), r.Verbs...)
			sort.Strings(verbs)
			ns := "false"
			if r.Namespaced {
				ns = "true"
			}
			got[r.Name+" "+l.GroupVersion] = strings.Join([]string{r.Name, dash(r.ShortNames), l.GroupVersion, ns, r.Kind, dash(verbs), dash(r.Categories)}, " ")
		}
	}
	for key, w := range want {
		g, ok := got[key]
		switch {
		case !ok && notYetServed[key]:
		case !ok:
			t.Errorf("not served: %s", w)
		case notYetServed[key]:
			t.Errorf("%s is served now: take it off notYetServed", key)
			fallthrough
		case g != w:
			if g != w {
				t.Errorf("%s:\n got %s\nwant %s", key, g, w)
			}
		}
	}
	for key, g := range got {
		if _, ok := want[key]; !ok {
			t.Errorf("served but not by v1.33: %s", g)
		}
	}
}
