package csclient_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
)

// TestClientAgainstTheRealHandler: both ways to authenticate (a key pair,
// a login session) call the real CloudStack handler, decode its answers
// and its errors, and wait for async jobs until they end or the context
// does.
func TestClientAgainstTheRealHandler(t *testing.T) {
	cs := cstest.Start(t, cstest.Options{})
	ctx := context.Background()
	keys := csclient.New(cs.URL, cs.APIKey, cs.SecretKey, nil)
	sess, who, err := csclient.Login(ctx, cs.URL, nil, "admin", "password", "/")
	if err != nil {
		t.Fatal(err)
	}
	if who.Username != "admin" || who.Type != 1 || who.Timeout <= 0 {
		t.Errorf("login answered %+v", who)
	}
	for name, c := range map[string]*csclient.Client{"keys": keys, "session": sess} {
		t.Run(name, func(t *testing.T) {
			zones, err := c.ListZones(ctx)
			if err != nil || len(zones) == 0 {
				t.Fatalf("listZones: %v %v", zones, err)
			}
			offers, err := c.ListServiceOfferings(ctx)
			if err != nil || len(offers) == 0 {
				t.Fatalf("listServiceOfferings: %v %v", offers, err)
			}
			tpls, err := c.ListTemplates(ctx, "executable")
			if err != nil || len(tpls) == 0 {
				t.Fatalf("listTemplates: %v %v", tpls, err)
			}
			p := csclient.Params("zoneid", zones[0].ID, "serviceofferingid", offers[0].ID, "templateid", tpls[0].ID, "name", "vm-"+name)
			r, err := c.Async(ctx, "deployVirtualMachine", p)
			if err != nil {
				t.Fatal(err)
			}
			j, err := c.Wait(ctx, "deployVirtualMachine", r.JobID)
			if err != nil || j.JobStatus != csclient.JobSucceeded {
				t.Fatalf("deploy job %+v: %v", j, err)
			}
			vms, err := c.ListVirtualMachines(ctx, csclient.Params("id", r.ID))
			if err != nil || len(vms) != 1 || vms[0].State != "Running" {
				t.Fatalf("the deployed VM: %+v %v", vms, err)
			}

			// A refused call is an *Error with CloudStack's codes and text.
			err = c.Do(ctx, "stopVirtualMachine", csclient.Params("id", "no-such-vm"), nil)
			var ce *csclient.Error
			if !errors.As(err, &ce) || ce.ErrorCode != 431 || ce.CSErrorCode != 4350 || !csclient.IsNotFound(err) {
				t.Errorf("stop of an unknown VM: %#v", err)
			}
			if errors.Is(err, csclient.ErrSessionExpired) {
				t.Error("a 431 reads as an expired session")
			}

			// A failed job is an *Error with the job's text.
			if err := c.Do(ctx, "configureSimulator", csclient.Params("name", "StopCommand", "value", "result:fail", "count", "1"), nil); err != nil {
				t.Fatal(err)
			}
			r2, err := c.Async(ctx, "stopVirtualMachine", csclient.Params("id", r.ID))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Wait(ctx, "stopVirtualMachine", r2.JobID); !errors.As(err, &ce) || ce.Text == "" {
				t.Errorf("a failed stop job: %v", err)
			}

			// The wait ends with its context.
			wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			if err := c.Do(ctx, "configureSimulator", csclient.Params("name", "StopCommand", "value", "wait:5000", "count", "1"), nil); err != nil {
				t.Fatal(err)
			}
			r3, err := c.Async(ctx, "stopVirtualMachine", csclient.Params("id", r.ID))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Wait(wctx, "stopVirtualMachine", r3.JobID); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("a wait past its context: %v", err)
			}
		})
	}

	// After logout, the session's calls say the session expired.
	if err := sess.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sess.ListZones(ctx); !errors.Is(err, csclient.ErrSessionExpired) {
		t.Errorf("a call after logout: %v", err)
	}
	// A wrong password is CloudStack's 401, not a session.
	if _, _, err := csclient.Login(ctx, cs.URL, nil, "admin", "wrong", "/"); csclient.Code(err) != 401 || errors.Is(err, csclient.ErrSessionExpired) {
		t.Errorf("a wrong password: %v", err)
	}
}

// FuzzAnswer: whatever a server answers is one decoded object or an
// error, never a panic, and never success with a non-200 status.
func FuzzAnswer(f *testing.F) {
	f.Add(200, `{"listzonesresponse":{"count":1,"zone":[{"id":"z"}]}}`)
	f.Add(431, `{"x":{"errorcode":431,"cserrorcode":"4350","errortext":"bad"}}`)
	f.Add(200, `{}`)
	f.Add(500, `not json`)
	f.Add(401, `{"loginresponse":{"errorcode":401,"errortext":"unable to verify user credentials"}}`)
	f.Fuzz(func(t *testing.T, status int, body string) {
		if status < 200 || status > 599 {
			return
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}))
		defer srv.Close()
		c := csclient.New(srv.URL, "k", "s", srv.Client())
		var out struct {
			Zone []csclient.Zone `json:"zone"`
		}
		err := c.Do(context.Background(), "listZones", url.Values{}, &out)
		if err == nil && status != 200 {
			t.Fatalf("status %d body %q decoded without error", status, body)
		}
		if err != nil && len(err.Error()) > 1000 {
			t.Fatalf("an unbounded error text: %d bytes", len(err.Error()))
		}
	})
}

// TestListAnswers: a list page is decoded from the command's envelope in
// one pass, with count as a number or a string, and from any other
// "…response" envelope as before; pages are walked until count.
func TestListAnswers(t *testing.T) {
	page := func(key string, ids ...string) string {
		s := ""
		for i, id := range ids {
			if i > 0 {
				s += ","
			}
			s += `{"id":"` + id + `","name":"n-` + id + `"}`
		}
		return `{"` + key + `":{"count":` + `COUNT` + `,"zone":[` + s + `]}}`
	}
	tests := []struct {
		name   string
		answer string
		want   int
	}{
		{"envelope of the command", page("listzonesresponse", "a", "b"), 2},
		{"another response key", page("somethingresponse", "a", "b", "c"), 3},
		{"no items", `{"listzonesresponse":{}}`, 0},
	}
	for _, tc := range tests {
		for _, count := range []string{"COUNT", `"COUNT"`} {
			t.Run(tc.name+" "+count, func(t *testing.T) {
				body := tc.answer
				if count != "COUNT" {
					body = strings.ReplaceAll(body, `:COUNT`, `:"COUNT"`)
				}
				body = strings.ReplaceAll(body, "COUNT", strconv.Itoa(tc.want))
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(body)) }))
				defer srv.Close()
				zones, err := csclient.New(srv.URL, "k", "s", srv.Client()).ListZones(context.Background())
				if err != nil || len(zones) != tc.want || tc.want > 0 && zones[0].ID != "a" {
					t.Fatalf("%s: %+v %v", body, zones, err)
				}
			})
		}
	}
}
