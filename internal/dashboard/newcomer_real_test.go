package dashboard

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestFailedStopAndSpentFaultRealCloudStack: on the real simulator, a stop
// whose job a one-shot fault fails is answered in red with the failure
// (not a green "Stop requested"), the failure is an ERROR event, the spent
// fault shows 0 remaining (not "unlimited"), and the next stop works. The
// deploy form lists each template once and the count says "1 virtual
// machine".
func TestFailedStopAndSpentFaultRealCloudStack(t *testing.T) {
	st := newStore(t)
	cs := newRealCloud(t, st, nil)
	s := adminAPI(t, cs)
	ctx := context.Background()
	site := newSite(t, cs, nil)
	admin := site.browser(t)
	csrf := admin.login("admin", "password")

	_, body := admin.get("/client/vms")
	sel := body[strings.Index(body, `id="deploy-template"`):]
	sel = sel[:strings.Index(sel, "</select>")]
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`<option value="([^"]+)"`).FindAllStringSubmatch(sel, -1) {
		if seen[m[1]] {
			t.Errorf("template %s listed twice in the deploy form", m[1])
		}
		seen[m[1]] = true
	}
	if _, err := s.Raw(ctx, "deployVirtualMachine", url.Values{"name": {"victim"}, "zoneid": {firstOption(t, body, "deploy-zone")},
		"serviceofferingid": {firstOption(t, body, "deploy-offering")}, "templateid": {firstOption(t, body, "deploy-template")}}); err != nil {
		t.Fatal(err)
	}
	var vm struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	deadline := time.Now().Add(20 * time.Second)
	for vm.State != "Running" {
		raw, err := s.Raw(ctx, "listVirtualMachines", url.Values{"name": {"victim"}})
		if err != nil {
			t.Fatal(err)
		}
		var l struct {
			VM []struct {
				ID    string `json:"id"`
				State string `json:"state"`
			} `json:"virtualmachine"`
		}
		_ = json.Unmarshal(raw, &l)
		if len(l.VM) == 1 {
			vm.ID, vm.State = l.VM[0].ID, l.VM[0].State
		}
		if time.Now().After(deadline) {
			t.Fatalf("victim not Running: %+v", vm)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, body := admin.get("/client/vms"); !strings.Contains(body, "1 virtual machine,") {
		t.Errorf("count line is not singular:\n%s", body[strings.Index(body, `id="vm-count"`):][:120])
	}

	if _, err := s.Raw(ctx, "configureSimulator", url.Values{"name": {"StopCommand"}, "value": {"result:fail"}, "count": {"1"}}); err != nil {
		t.Fatal(err)
	}
	admin.post("/client/vms/"+vm.ID+"/stop", url.Values{"csrf": {csrf}, "back": {"/client/vms"}})
	if f := admin.flashOf("/client/vms"); !strings.HasPrefix(f, "error Stop failed: ") {
		t.Errorf("flash after a failed stop: %q", f)
	}
	raw, err := s.Raw(ctx, "listEvents", url.Values{"type": {"VM.STOP"}})
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Event []struct {
			Level, State, Description string
		} `json:"event"`
	}
	_ = json.Unmarshal(raw, &ev)
	if len(ev.Event) != 1 || ev.Event[0].Level != "ERROR" || !strings.Contains(ev.Event[0].Description, "Error while stopping") {
		t.Errorf("events of the failed stop: %+v", ev.Event)
	}
	if _, body := admin.get("/client/faults"); !strings.Contains(body, "0 (used up)") || strings.Contains(body, "unlimited") {
		t.Errorf("faults page after the one-shot fault fired:\n%s", body[strings.Index(body, `id="faults"`):])
	}

	admin.post("/client/vms/"+vm.ID+"/stop", url.Values{"csrf": {csrf}, "back": {"/client/vms"}})
	if f := admin.flashOf("/client/vms"); !strings.HasPrefix(f, "Stop done") {
		t.Errorf("flash after the second stop: %q", f)
	}
}
