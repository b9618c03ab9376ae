package cloudstack_test

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloudstack"
	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
)

// login posts a login as the CloudStack UI does and returns the status and body.
func login(t *testing.T, srv *cstest.Server, user, password string) (int, string) {
	t.Helper()
	resp, err := http.PostForm(srv.URL, url.Values{"command": {"login"}, "username": {user}, "password": {password}, "domain": {"/"}, "response": {"json"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestLoginThrottled(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{Throttle: cloudstack.ThrottleOptions{Base: 200 * time.Millisecond, Max: 400 * time.Millisecond}})
	_, wrong := login(t, srv, "admin", "wrong")
	for i := range 100 {
		if status, body := login(t, srv, "admin", "wrong"); status != 401 || body != wrong {
			t.Fatalf("wrong password %d: %d %s", i, status, body)
		}
	}
	// The right password is refused while the back-off lasts, with the
	// same answer as a wrong one.
	if status, body := login(t, srv, "admin", "password"); status != 401 || body != wrong {
		t.Fatalf("right password during the back-off: %d %s", status, body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, body := login(t, srv, "admin", "password")
		if status == 200 {
			break
		}
		if time.Now().After(deadline) || body != wrong {
			t.Fatalf("right password after the back-off: %d %s", status, body)
		}
		time.Sleep(50 * time.Millisecond) // polling with a deadline
	}
}

// TestLoginTimingTellsNoNames: a login of an unknown user takes as long as
// one with a wrong password (within 10 %).
func TestLoginTimingTellsNoNames(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{Throttle: cloudstack.ThrottleOptions{Free: 1 << 30}})
	measure := func(user string) time.Duration {
		t0 := time.Now()
		if status, _ := login(t, srv, user, "wrong"); status != 401 {
			t.Fatalf("login %s: %d", user, status)
		}
		return time.Since(t0)
	}
	median := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2] }
	var diff float64
	for attempt := 0; attempt < 3; attempt++ { // a busy machine may disturb one round
		var known, unknown []time.Duration
		for range 21 {
			known = append(known, measure("admin"))
			unknown = append(unknown, measure("nobody-"+strings.Repeat("x", 5)))
		}
		k, u := median(known), median(unknown)
		diff = float64(max(k, u)-min(k, u)) / float64(max(k, u))
		t.Logf("median: wrong password %v, unknown user %v (%.1f %%)", k, u, diff*100)
		if diff <= 0.10 {
			return
		}
	}
	t.Fatalf("unknown users answer %.1f %% faster or slower than wrong passwords", diff*100)
}
