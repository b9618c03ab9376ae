package cloudstack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stratus-cloud/stratus/internal/cloud"
	"github.com/stratus-cloud/stratus/internal/store/memory"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

func FuzzParseParams(f *testing.F) {
	f.Add("command=listZones&response=json", "name=a%20b&tags%5B0%5D.key=k")
	f.Add("a=%zz", "")
	f.Add("&&=&x==y", "tags[1].value=v&tags[0].key=k")
	f.Fuzz(func(t *testing.T, query, body string) {
		r := httptest.NewRequest(http.MethodPost, "/client/api?"+url.PathEscape(query), strings.NewReader(body))
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		p, err := parseParams(r)
		if err != nil {
			return
		}
		for k := range p {
			if k == "" {
				t.Fatal("empty parameter name")
			}
		}
		_ = p.List("ids")
		for _, m := range p.Map("tags") {
			_ = m["key"]
		}
	})
}

func FuzzSignature(f *testing.F) {
	f.Add("listZones", "key~one", "my vm*1", "TESTSECRET")
	f.Add("deployVirtualMachine", "I2Nsb3VkLWNvbmZpZwo=", "ünïcödé & =+", "s")
	f.Fuzz(func(t *testing.T, cmd, v1, v2, secret string) {
		p := Params{"command": cmd, "apiKey": "K", "name": v1, "userdata": v2}
		sig := Sign(p, secret)
		p["signature"] = sig
		if !verifySignature(p, secret) {
			t.Fatal("own signature rejected")
		}
		// Java's encoding is Go's QueryEscape with "+"→"%20", "*" kept, "~" escaped
		want := strings.NewReplacer("+", "%20", "%2A", "*", "~", "%7E").Replace(url.QueryEscape(v1))
		if got := string(javaEncode(nil, v1, false)); got != want {
			t.Fatalf("javaEncode(%q) = %q, want %q", v1, got, want)
		}
		p["name"] = v1 + "x"
		if verifySignature(p, secret) {
			t.Fatal("signature of changed parameters accepted")
		}
		p["name"] = v1
		if secret != secret+"x" && verifySignature(p, secret+"x") {
			t.Fatal("signature accepted with another secret")
		}
	})
}

// FuzzHandler sends arbitrary parameters to real commands as the root admin
// and checks the answer is CloudStack's and that a failed sync command
// changed nothing.
func FuzzHandler(f *testing.F) {
	st := memory.New(memory.Options{})
	dc, err := cloud.LoadDatacenter("")
	if err != nil {
		f.Fatal(err)
	}
	sim, err := cloud.New(context.Background(), cloud.Options{Store: st, Datacenter: dc, Log: testenv.Logger()})
	if err != nil {
		f.Fatal(err)
	}
	if err := sim.Start(context.Background()); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = sim.Stop(context.Background()) })
	h := NewHandler(Options{Cloud: sim, Log: testenv.Logger()})
	key, secret, _ := sim.AdminKeys(context.Background())
	f.Add(uint8(0), "id=abc&name=x")
	f.Add(uint8(5), "templatefilter=featured&page=2&pagesize=1")
	f.Add(uint8(9), "zoneid=&serviceofferingid=1&templateid=2&userdata=%%%")
	f.Add(uint8(30), "name=&tags[0].key=&tags[x].value=1")
	f.Fuzz(func(t *testing.T, ci uint8, raw string) {
		cmd := h.order[int(ci)%len(h.order)]
		if cmd.Name == "login" || cmd.Name == "logout" {
			return
		}
		p := Params{}
		if err := p.addEncoded(raw); err != nil {
			return
		}
		for k := range p {
			if strings.EqualFold(k, "apikey") || strings.EqualFold(k, "signature") || strings.EqualFold(k, "signatureversion") ||
				strings.EqualFold(k, "expires") || strings.EqualFold(k, "sessionkey") {
				delete(p, k)
			}
		}
		p["command"], p["response"], p["apiKey"] = cmd.Name, "json", key
		p["signature"] = Sign(p, secret)
		q := url.Values{}
		for k, v := range p {
			q.Set(k, v)
		}
		before, _ := st.Rev(context.Background())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/client/api?"+q.Encode(), nil))
		var env map[string]json.RawMessage
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || len(env) != 1 {
			t.Fatalf("%s: not one JSON envelope: %s", cmd.Name, rec.Body.String())
		}
		if rec.Code == http.StatusOK {
			return
		}
		var e errorBody
		for _, v := range env {
			_ = json.Unmarshal(v, &e)
		}
		if e.ErrorCode != rec.Code || e.ErrorText == "" || rec.Code < 400 {
			t.Fatalf("%s: status %d, body %s", cmd.Name, rec.Code, rec.Body.String())
		}
		if !cmd.Async {
			if after, _ := st.Rev(context.Background()); after != before {
				t.Fatalf("%s failed with %d but changed the store (%d -> %d): %s", cmd.Name, rec.Code, before, after, rec.Body.String())
			}
		}
	})
}
