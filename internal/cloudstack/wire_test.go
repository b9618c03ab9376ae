package cloudstack_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloudstack"
	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
)

// signed returns the query string of a request signed the way CloudStack
// verifies it.
func signed(params map[string]string, key, secret string) string {
	p := cloudstack.Params{"apiKey": key}
	for k, v := range params {
		p[k] = v
	}
	p["signature"] = cloudstack.Sign(p, secret)
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for i, k := range names {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(p[k]))
	}
	return b.String()
}

func get(t *testing.T, c *http.Client, u string) (int, http.Header, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestWireFormat(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	c := srv.HTTP.Client()
	q := func(m map[string]string) string { return srv.URL + "?" + signed(m, srv.APIKey, srv.SecretKey) }
	tests := []struct {
		name     string
		url      string
		status   int
		ctype    string
		contains []string
	}{
		{"xml by default", q(map[string]string{"command": "listZones"}), 200, "text/xml",
			[]string{`<?xml version="1.0" encoding="UTF-8"?><listzonesresponse cloud-stack-version=`, "<count>2</count><zone><id>"}},
		{"json list", q(map[string]string{"command": "listZones", "response": "json"}), 200, "application/json",
			[]string{`{"listzonesresponse":{"count":2,"zone":[{`}},
		{"empty list", q(map[string]string{"command": "listVirtualMachines", "response": "json"}), 200, "application/json",
			[]string{`{"listvirtualmachinesresponse":{}}`}},
		{"missing parameter", q(map[string]string{"command": "listTemplates", "response": "json"}), 431, "application/json",
			[]string{`{"listtemplatesresponse":{"uuidList":[],"errorcode":431,"cserrorcode":4350,"errortext":"Unable to execute API command listtemplates due to missing parameter templatefilter"}}`}},
		{"unknown id", q(map[string]string{"command": "stopVirtualMachine", "response": "json", "id": "9f0b8d1e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"}), 431, "application/json",
			[]string{`Invalid parameter id value=9f0b8d1e-1c2d-4e5f-8a9b-0c1d2e3f4a5b due to incorrect long value format, or entity does not exist`}},
		{"malformed id", q(map[string]string{"command": "listVirtualMachines", "response": "json", "id": "nope"}), 431, "application/json",
			[]string{`Invalid parameter id value=nope due to incorrect long value format`}},
		{"bad signature", srv.URL + "?command=listZones&response=json&apiKey=" + url.QueryEscape(srv.APIKey) + "&signature=AAAA", 401, "application/json",
			[]string{`{"listzonesresponse":{"uuidList":[],"errorcode":401,"errortext":"unable to verify user credentials and/or request signature"}}`}},
		{"unknown key", srv.URL + "?" + signed(map[string]string{"command": "listZones", "response": "json"}, "nokey", "x"), 401, "application/json",
			[]string{`"errorcode":401`}},
		{"no credentials", srv.URL + "?command=listZones&response=json", 401, "application/json", []string{`"errorcode":401`}},
		{"unknown command", q(map[string]string{"command": "fooBar", "response": "json"}), 401, "application/json", []string{`"errorcode":401`}},
		{"expired v3", q(map[string]string{"command": "listZones", "response": "json", "signatureversion": "3", "expires": "2001-01-01T00:00:00Z"}), 401, "application/json",
			[]string{`"errorcode":401`}},
		{"negative root disk", q(map[string]string{"command": "deployVirtualMachine", "response": "json", "zoneid": "9f0b8d1e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
			"serviceofferingid": "9f0b8d1e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "rootdisksize": "-5"}), 431, "application/json",
			[]string{`"errorcode":431,"cserrorcode":4350,"errortext":"Root disk size should be a positive number."`}},
		{"display name too long", q(map[string]string{"command": "listVirtualMachines", "response": "json", "name": strings.Repeat("n", 10000)}), 431, "application/json",
			[]string{`"errortext":"Value greater than max allowed length 255 for param: name"`}},
		{"v3 that never expires", q(map[string]string{"command": "listZones", "response": "json", "signatureversion": "3", "expires": "9999-12-31T00:00:00Z"}), 401, "application/json",
			[]string{`"errorcode":401`}},
		{"valid v3", q(map[string]string{"command": "listZones", "response": "json", "signatureVersion": "3", "expires": time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05-0700")}), 200, "application/json",
			[]string{`"count":2`}},
		{"tilde signed the client way", srv.URL + "?" + clientSigned(map[string]string{"command": "listSSHKeyPairs", "response": "json", "name": "key~one"}, srv.APIKey, srv.SecretKey), 200, "application/json",
			[]string{`{"listsshkeypairsresponse":{}}`}},
		{"bad page size", q(map[string]string{"command": "listZones", "response": "json", "pagesize": "10"}), 431, "application/json",
			[]string{`\"page\" parameter is required when \"pagesize\" is specified`}},
		{"xml error", q(map[string]string{"command": "listTemplates"}), 431, "text/xml",
			[]string{`<listtemplatesresponse cloud-stack-version="4.22.0.0"><errorcode>431</errorcode><cserrorcode>4350</cserrorcode><errortext>Unable to execute API command listtemplates due to missing parameter templatefilter</errortext></listtemplatesresponse>`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := get(t, c, tc.url)
			if status != tc.status || !strings.HasPrefix(h.Get("Content-Type"), tc.ctype) {
				t.Fatalf("status %d %q, want %d %q: %s", status, h.Get("Content-Type"), tc.status, tc.ctype, body)
			}
			for _, want := range tc.contains {
				if !strings.Contains(body, want) {
					t.Fatalf("body %s\nlacks %s", body, want)
				}
			}
		})
	}
}

// clientSigned signs like cloudstack-go and python cs do: Go's QueryEscape
// with "*" kept, so "~" stays unescaped.
func clientSigned(params map[string]string, key, secret string) string {
	v := url.Values{"apiKey": {key}}
	for k, x := range params {
		v.Set(k, x)
	}
	names := make([]string, 0, len(v))
	for k := range v {
		names = append(names, k)
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		e := strings.ReplaceAll(strings.ReplaceAll(url.QueryEscape(v.Get(k)), "+", "%20"), "%2A", "*")
		parts = append(parts, k+"="+e)
	}
	s := strings.Join(parts, "&")
	return s + "&signature=" + url.QueryEscape(cloudstack.SignString(strings.ToLower(s), secret))
}

func TestSessionLogin(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(srv.URL, url.Values{"command": {"login"}, "username": {"admin"}, "password": {"password"}, "domain": {"/"}, "response": {"json"}})
	if err != nil {
		t.Fatal(err)
	}
	var login struct {
		R struct {
			SessionKey string `json:"sessionkey"`
			Timeout    int    `json:"timeout"`
			UserID     string `json:"userid"`
		} `json:"loginresponse"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	var jsession, cookieKey string
	for _, ck := range resp.Cookies() {
		switch ck.Name {
		case "JSESSIONID":
			jsession = ck.Value
		case "sessionkey":
			cookieKey = ck.Value
		}
	}
	if resp.StatusCode != 200 || login.R.SessionKey == "" || jsession == "" || cookieKey != login.R.SessionKey || login.R.Timeout != 1800 {
		t.Fatalf("login: %d %+v cookies %q %q", resp.StatusCode, login, jsession, cookieKey)
	}
	key := url.QueryEscape(login.R.SessionKey)
	if status, _, body := get(t, c, srv.URL+"?command=getUserKeys&response=json&id="+login.R.UserID+"&sessionkey="+key); status != 200 || !strings.Contains(body, `"apikey":"`+srv.APIKey) {
		t.Fatalf("getUserKeys in session: %d %s", status, body)
	}
	// the session key alone, without the cookies, is not enough
	if status, _, _ := get(t, srv.HTTP.Client(), srv.URL+"?command=listZones&response=json&sessionkey="+key); status != 401 {
		t.Fatalf("session key without cookie: %d", status)
	}
	if status, _, body := get(t, c, srv.URL+"?command=fooBar&response=json&sessionkey="+key); status != 432 || !strings.Contains(body, `"errorresponse"`) {
		t.Fatalf("unknown command in session: %d %s", status, body)
	}
	if status, _, body := get(t, c, srv.URL+"?command=logout&response=json&sessionkey="+key); status != 200 || body != `{"logoutresponse":{"description":"success"}}` {
		t.Fatalf("logout: %d %s", status, body)
	}
	if status, _, _ := get(t, c, srv.URL+"?command=listZones&response=json&sessionkey="+key); status != 401 {
		t.Fatalf("after logout: %d", status)
	}
	resp, err = c.PostForm(srv.URL, url.Values{"command": {"login"}, "username": {"admin"}, "password": {"wrong"}, "response": {"json"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(string(b), "Failed to authenticate user admin in domain") {
		t.Fatalf("bad login: %d %s", resp.StatusCode, b)
	}
}
