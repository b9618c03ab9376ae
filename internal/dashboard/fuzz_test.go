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

// FuzzUnwrap: any answer from the API is an error or one object, never a
// panic.
func FuzzUnwrap(f *testing.F) {
	f.Add(200, []byte(`{"listzonesresponse":{"count":1,"zone":[{}]}}`))
	f.Add(431, []byte(`{"x":{"errorcode":431,"errortext":"bad"}}`))
	f.Add(200, []byte(`{}`))
	f.Add(500, []byte(`not json`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		raw, err := unwrap(status, body)
		if err == nil && (raw == nil || status != 200) {
			t.Fatalf("unwrap(%d, %q) = %q, nil", status, body, raw)
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
