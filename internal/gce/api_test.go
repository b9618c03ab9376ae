package gce

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func (e *testEnv) do(t testing.TB, method, path, token, contentType string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestBatch sends gcloud's kind of multipart batch: two inserts, then
// two gets, and checks the parts come back in order with their ids.
func TestBatch(t *testing.T) {
	e := newRealEnv(t)
	p := "/compute/v1/projects/" + e.project
	part := func(i int, method, path, body string) string {
		return fmt.Sprintf("--BOUNDARY\r\nContent-Type: application/http\r\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <abc+%d>\r\n\r\n%s %s HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\nHost: x\r\n\r\n%s\r\n", i, method, path, len(body), body)
	}
	insert := func(name string) string {
		return `{"name":"` + name + `","machineType":"zones/sandbox-simulator-a/machineTypes/micro","disks":[{"boot":true,"initializeParams":{"sourceImage":"projects/debian-cloud/zones/-/imageFamilyViews/debian-12"}}]}`
	}
	body := part(0, "POST", p+"/zones/sandbox-simulator-a/instances", insert("b1")) +
		part(1, "POST", p+"/zones/sandbox-simulator-a/instances", insert("b2")) +
		part(2, "GET", p+"/zones/sandbox-simulator-a/instances/nosuch", "") +
		part(3, "GET", "/elsewhere", "") + "--BOUNDARY--\r\n"
	resp, out := e.do(t, "POST", "/batch/compute/v1", e.token, `multipart/mixed; boundary="BOUNDARY"`, strings.NewReader(body))
	if resp.StatusCode != 200 {
		t.Fatalf("batch: %d %s", resp.StatusCode, out)
	}
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(bytes.NewReader(out), params["boundary"])
	wantStatus := []int{200, 200, 404, 404}
	for i := 0; ; i++ {
		pt, err := mr.NextPart()
		if err == io.EOF {
			if i != 4 {
				t.Fatalf("%d parts", i)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := pt.Header.Get("Content-ID"); got != fmt.Sprintf("<response-abc+%d>", i) {
			t.Fatalf("part %d Content-ID %q", i, got)
		}
		raw, _ := io.ReadAll(pt)
		if !strings.HasPrefix(string(raw), fmt.Sprintf("HTTP/1.1 %d ", wantStatus[i])) {
			t.Fatalf("part %d: %s", i, raw)
		}
	}
	// The inserts happened.
	svc := e.service(t, e.token)
	l, err := svc.Instances.List(e.project, "sandbox-simulator-a").Do()
	if err != nil || len(l.Items) != 2 {
		t.Fatalf("instances after batch: %v %v", l, err)
	}
	// Not multipart.
	resp, _ = e.do(t, "POST", "/batch/compute/v1", e.token, "application/json", strings.NewReader("{}"))
	if resp.StatusCode != 400 {
		t.Fatalf("non-multipart batch: %d", resp.StatusCode)
	}
	// A batch without credentials answers 401 in every part.
	resp, out = e.do(t, "POST", "/batch/compute/v1", "", `multipart/mixed; boundary="BOUNDARY"`, strings.NewReader(part(0, "GET", p+"/zones", "")+"--BOUNDARY--\r\n"))
	if resp.StatusCode != 200 || !strings.Contains(string(out), "HTTP/1.1 401") {
		t.Fatalf("batch without token: %d %s", resp.StatusCode, out)
	}
}

func TestOAuthToken(t *testing.T) {
	e := newRealEnv(t)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {e.cs.APIKey}, "client_secret": {e.cs.SecretKey}}
	resp, out := e.do(t, "POST", "/oauth2/token", "", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if resp.StatusCode != 200 {
		t.Fatalf("token: %d %s", resp.StatusCode, out)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(out, &tok); err != nil || tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 || tok.AccessToken == "" {
		t.Fatalf("token body: %s %v", out, err)
	}
	if _, err := e.service(t, tok.AccessToken).Zones.List(e.project).Do(); err != nil {
		t.Fatalf("using the token: %v", err)
	}
	for name, f := range map[string]url.Values{
		"bad secret": {"grant_type": {"client_credentials"}, "client_id": {e.cs.APIKey}, "client_secret": {"wrong"}},
		"bad grant":  {"grant_type": {"password"}, "client_id": {e.cs.APIKey}, "client_secret": {e.cs.SecretKey}},
		"no client":  {"grant_type": {"client_credentials"}},
	} {
		resp, out := e.do(t, "POST", "/oauth2/token", "", "application/x-www-form-urlencoded", strings.NewReader(f.Encode()))
		if resp.StatusCode < 400 || !strings.Contains(string(out), `"error"`) {
			t.Errorf("%s: %d %s", name, resp.StatusCode, out)
		}
	}
}

// TestBadRequests: bad input gets the API's own error and changes nothing.
func TestBadRequests(t *testing.T) {
	e := newRealEnv(t)
	p := "/compute/v1/projects/" + e.project
	for _, tc := range []struct {
		method, path, body string
		code               int
		reason             string
	}{
		{"POST", p + "/zones/sandbox-simulator-a/instances", `{`, 400, "badRequest"},
		{"POST", p + "/zones/sandbox-simulator-a/instances", ``, 400, "invalid"},
		{"POST", p + "/zones/sandbox-simulator-a/instances", `{"name":"UPPER"}`, 400, "invalid"},
		{"POST", p + "/zones/sandbox-simulator-a/instances", `{"name":"x","machineType":"zones/sandbox-simulator-a/machineTypes/nope"}`, 400, "invalid"},
		{"POST", p + "/zones/sandbox-simulator-a/instances", `{"name":"x","machineType":"zones/sandbox-simulator-a/machineTypes/micro","disks":[{"boot":true,"initializeParams":{"sourceImage":"projects/debian-cloud/global/images/family/debian-99"}}]}`, 404, "notFound"},
		{"POST", p + "/zones/sandbox-simulator-a/instances", `{"name":"x","machineType":"zones/sandbox-simulator-a/machineTypes/micro","disks":[{"boot":true,"initializeParams":{"sourceImage":"projects/debian-cloud/global/images/debian-12"}}],"metadata":{"items":[{"key":"bad key!","value":"v"}]}}`, 400, "invalid"},
		{"POST", p + "/zones/sandbox-simulator-a/instances", `{"name":"x","labels":{"Bad":"v"},"machineType":"zones/sandbox-simulator-a/machineTypes/micro","disks":[{"boot":true,"initializeParams":{"sourceImage":"projects/debian-cloud/global/images/debian-12"}}]}`, 400, "invalid"},
		{"POST", p + "/zones/nowhere/instances", `{"name":"x"}`, 404, "notFound"},
		{"POST", p + "/global/firewalls", `{"name":"fw","denied":[{"IPProtocol":"tcp"}]}`, 400, "unsupported"},
		{"POST", p + "/global/firewalls", `{"name":"fw","allowed":[{"IPProtocol":"bogus"}]}`, 400, "invalid"},
		{"POST", p + "/global/firewalls", `{"name":"fw","allowed":[{"IPProtocol":"tcp"}],"sourceRanges":["10.0.0.300/8"]}`, 400, "invalid"},
		{"GET", p + "/zones/sandbox-simulator-a/instances?maxResults=1000", ``, 400, "invalid"},
		{"GET", p + "/zones/sandbox-simulator-a/instances?orderBy=cpus", ``, 400, "invalid"},
		{"GET", p + "/zones/sandbox-simulator-a/operations/operation-nope", ``, 404, "notFound"},
		{"DELETE", p + "/zones/sandbox-simulator-a/instances/nosuch", ``, 404, "notFound"},
		{"GET", p + "/nonsense", ``, 404, "notFound"},
		{"PUT", p + "/zones", ``, 404, "notFound"},
	} {
		resp, out := e.do(t, tc.method, tc.path, e.token, "application/json", strings.NewReader(tc.body))
		var eb errorBody
		if err := json.Unmarshal(out, &eb); err != nil || resp.StatusCode != tc.code || eb.Error.Code != tc.code ||
			len(eb.Error.Errors) != 1 || eb.Error.Errors[0].Reason != tc.reason || eb.Error.Errors[0].Domain != "global" {
			t.Errorf("%s %s %s: %d %s", tc.method, tc.path, tc.body, resp.StatusCode, out)
		}
	}
	svc := e.service(t, e.token)
	if l, err := svc.Instances.AggregatedList(e.project).Do(); err != nil || len(l.Items["zones/sandbox-simulator-a"].Instances) != 0 {
		t.Fatalf("bad requests changed something: %v %v", l, err)
	}
	if l, err := svc.Firewalls.List(e.project).Do(); err != nil || len(l.Items) != 1 {
		t.Fatalf("bad requests changed firewalls: %v", err)
	}
}

// FuzzInsertBody: any body to instances.insert and firewalls.insert gets
// an answer, never a panic or a 5xx.
func FuzzInsertBody(f *testing.F) {
	e := newRealEnv(f)
	p := "/compute/v1/projects/" + e.project
	for _, s := range []string{`{}`, `{"name":"a"}`, `{"name":"a","machineType":"micro","disks":[{"initializeParams":{"sourceImage":"global/images/x"}}]}`,
		`{"name":"f","allowed":[{"IPProtocol":"tcp","ports":["1-2"]}]}`, `[]`, `null`, `{"metadata":{"items":[{"key":"k"}]}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, path := range []string{p + "/zones/sandbox-simulator-a/instances", p + "/global/firewalls"} {
			resp, out := e.do(t, "POST", path, e.token, "application/json", strings.NewReader(body))
			if resp.StatusCode >= 500 {
				t.Fatalf("%s %q: %d %s", path, body, resp.StatusCode, out)
			}
		}
	})
}
