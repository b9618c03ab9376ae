package cloudstack_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestCloudstackCLI drives the Debian `cloudstack` CLI (package cs, the
// python exoscale/cs client) against the server.
func TestCloudstackCLI(t *testing.T) {
	bin := testenv.LookPath(t, "cloudstack", "apt-get install cs")
	srv := cstest.Start(t, cstest.Options{})
	home := t.TempDir()
	run := func(args ...string) (map[string]any, string, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), "HOME="+home, "CLOUDSTACK_ENDPOINT="+srv.URL,
			"CLOUDSTACK_KEY="+srv.APIKey, "CLOUDSTACK_SECRET="+srv.SecretKey)
		out, err := cmd.Output()
		var m map[string]any
		_ = json.Unmarshal(out, &m)
		if ee, ok := err.(*exec.ExitError); ok {
			out = append(out, ee.Stderr...)
		}
		return m, string(out), err
	}
	first := func(m map[string]any, key string) map[string]any {
		t.Helper()
		items, _ := m[key].([]any)
		if len(items) == 0 {
			t.Fatalf("no %s in %v", key, m)
		}
		return items[0].(map[string]any)
	}

	zones, out, err := run("listZones", "networktype=Basic")
	if err != nil || zones["count"] != float64(1) {
		t.Fatalf("listZones: %v %s", err, out)
	}
	zone := first(zones, "zone")["id"].(string)
	so, out, err := run("listServiceOfferings", "name=Micro")
	if err != nil {
		t.Fatalf("listServiceOfferings: %v %s", err, out)
	}
	tpl, out, err := run("listTemplates", "templatefilter=executable", "name=Debian 12", "zoneid="+zone)
	if err != nil {
		t.Fatalf("listTemplates: %v %s", err, out)
	}
	// one async call, waited for by the CLI (it polls every 2 s), sent as POST
	vm, out, err := run("--post", "deployVirtualMachine", "zoneid="+zone, "serviceofferingid="+first(so, "serviceoffering")["id"].(string),
		"templateid="+first(tpl, "template")["id"].(string), "name=cli-vm", "userdata=I2Nsb3VkLWNvbmZpZwo=")
	if err != nil {
		t.Fatalf("deployVirtualMachine: %v %s", err, out)
	}
	v, _ := vm["virtualmachine"].(map[string]any)
	if v == nil || v["state"] != "Running" || v["name"] != "cli-vm" {
		t.Fatalf("deployed: %s", out)
	}
	id := v["id"].(string)
	list, out, err := run("listVirtualMachines", "id="+id)
	if err != nil || first(list, "virtualmachine")["state"] != "Running" {
		t.Fatalf("listVirtualMachines: %v %s", err, out)
	}
	// async without waiting, then the job by hand
	job, out, err := run("--async", "destroyVirtualMachine", "id="+id, "expunge=true")
	if err != nil || job["jobid"] == nil {
		t.Fatalf("destroy --async: %v %s", err, out)
	}
	res, out, err := run("queryAsyncJobResult", "jobid="+job["jobid"].(string))
	if err != nil || res["jobstatus"] != float64(1) {
		t.Fatalf("queryAsyncJobResult: %v %s", err, out)
	}
	// an error: the CLI reports the HTTP status and CloudStack's text
	_, out, err = run("listTemplates")
	if err == nil || !strings.Contains(out, "431") || !strings.Contains(out, "missing parameter templatefilter") {
		t.Fatalf("listTemplates without filter: %v %s", err, out)
	}
}
