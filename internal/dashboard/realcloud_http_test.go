package dashboard

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// firstOption returns the first option value of a select in the page.
func firstOption(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no select %s", id)
	}
	rest := body[i:]
	j := strings.Index(rest, `<option value="`)
	if j < 0 {
		t.Fatalf("select %s has no options", id)
	}
	rest = rest[j+len(`<option value="`):]
	return rest[:strings.IndexByte(rest, '"')]
}

func TestRealCloudStack(t *testing.T) {
	st := newStore(t)
	cs := newRealCloud(t, st, nil)
	createUser(t, cs, "bob", "builder-pw")
	site := newSite(t, cs, nil)

	admin := site.browser(t)
	admin.login("admin", "password")
	_, body := admin.get("/client/")
	for _, want := range []string{`id="hosts"`, "Sandbox-simulator", `class="bar-ok"`} {
		if !strings.Contains(body, want) {
			t.Errorf("admin overview lacks %s:\n%s", want, body)
		}
	}

	bob := site.browser(t)
	csrf := bob.login("bob", "builder-pw")
	_, body = bob.get("/client/vms")
	form := url.Values{
		"csrf": {csrf}, "name": {"bobs-vm"}, "zoneid": {firstOption(t, body, "deploy-zone")},
		"serviceofferingid": {firstOption(t, body, "deploy-offering")}, "templateid": {firstOption(t, body, "deploy-template")},
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", site.srv.URL+"/client/live?view=vms", nil)
	resp, err := bob.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ev := &sseReader{t: t, sc: bufio.NewScanner(resp.Body)}
	ev.sc.Buffer(nil, 1<<20)
	ev.next()

	req, _ = http.NewRequest("POST", site.srv.URL+"/client/vms", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(fetchHeader, "1")
	dr, err := bob.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		OK      bool   `json:"ok"`
		Message string `json:"message"`
	}
	_ = json.NewDecoder(dr.Body).Decode(&answer)
	dr.Body.Close()
	if !answer.OK || !strings.HasPrefix(answer.Message, "Deploying bobs-vm") {
		t.Fatalf("deploy answered %d %+v", dr.StatusCode, answer)
	}
	for {
		_, data := ev.next()
		if strings.Contains(data, "bobs-vm") && strings.Contains(data, ">Running<") {
			break
		}
	}
	// The admin sees bob's VM; bob sees no hosts.
	if _, body := admin.get("/client/vms"); !strings.Contains(body, "bobs-vm") {
		t.Error("admin does not see bob's VM")
	}
	if _, body := bob.get("/client/"); strings.Contains(body, `id="hosts"`) {
		t.Error("bob sees the hosts")
	}
	for _, page := range []string{"/client/network", "/client/jobs", "/client/faults"} {
		if r, body := bob.get(page); r.StatusCode != http.StatusOK || strings.Contains(body, `class="error"`) {
			t.Errorf("%s: %d\n%s", page, r.StatusCode, body)
		}
	}
}
