package dashboard

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzLocalPath: whatever a form's "next" or "back" says, redirects stay on
// the dashboard.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/client/vms?page=2", "//evil", "/client/../x", "/client/\\x", "https://x/", "/client/api"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got := localPath(p)
		if !strings.HasPrefix(got, "/client/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n") {
			t.Fatalf("localPath(%q) = %q", p, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" {
			t.Fatalf("localPath(%q) = %q leaves the site", p, got)
		}
	})
}

// FuzzDeployRequest: a form either yields well-formed parameters or a
// message, never both.
func FuzzDeployRequest(f *testing.F) {
	f.Add("zone", "offering", "template", "web-1", "key", "sg")
	f.Add("", "", "", "", "", "")
	f.Add("z", "o", "t", "-x", "k<", "a b")
	f.Fuzz(func(t *testing.T, zone, offering, tpl, name, key, sg string) {
		form := url.Values{"zoneid": {zone}, "serviceofferingid": {offering}, "templateid": {tpl}, "name": {name}, "keypair": {key}, "securitygroupid": {sg}}
		p, msg := deployRequest(form)
		if (p == nil) == (msg == "") {
			t.Fatalf("params %v and message %q", p, msg)
		}
		if p != nil && (!idPattern.MatchString(p.Get("zoneid")) || (name != "" && !namePattern.MatchString(p.Get("name")))) {
			t.Fatalf("accepted %v", p)
		}
	})
}
