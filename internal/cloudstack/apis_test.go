package cloudstack_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/cloudstack-go/v2/cloudstack"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

type apiMeta struct {
	Name    string `json:"name"`
	IsAsync bool   `json:"isasync"`
	Params  []struct {
		Name     string `json:"name"`
		Type     string `json:"type"`
		Required bool   `json:"required"`
	} `json:"params"`
}

// realAPIs reads CloudStack 4.22's listApis answer that the cloudstack-go
// module ships (generate/listApis.json), from the module cache.
func realAPIs(t *testing.T) map[string]apiMeta {
	t.Helper()
	goBin := testenv.LookPath(t, "go", "the Go toolchain")
	out, err := exec.Command(goBin, "list", "-m", "-f", "{{.Dir}}", "github.com/apache/cloudstack-go/v2").Output()
	testenv.Need(t, err == nil, "cloudstack-go module not in the module cache")
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "generate", "listApis.json"))
	testenv.Need(t, err == nil, "generate/listApis.json not found in the cloudstack-go module")
	var doc struct {
		API []apiMeta `json:"api"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	m := map[string]apiMeta{}
	for _, a := range doc.API {
		m[a.Name] = a
	}
	return m
}

// simulatorOnly are commands of the simulator plugin, absent from a
// production server's listApis.
var simulatorOnly = map[string]bool{"configureSimulator": true, "querySimulatorMock": true, "cleanupSimulatorMock": true, "listSimulatorMocks": true,
	"getVirtualMachineConsoleOutput": true}

// TestListApisMatchesCloudStack checks every implemented command's metadata
// against CloudStack 4.22's: same async flag, and every parameter we
// declare exists there with the same type and required flag.
func TestListApisMatchesCloudStack(t *testing.T) {
	real := realAPIs(t)
	srv := cstest.Start(t, cstest.Options{})
	cs := cloudstack.NewClient(srv.URL, srv.APIKey, srv.SecretKey, false)
	p := cs.APIDiscovery.NewListApisParams()
	ours, err := cs.APIDiscovery.ListApis(p)
	if err != nil {
		t.Fatalf("listApis: %v", err)
	}
	if ours.Count < 70 {
		t.Fatalf("only %d APIs", ours.Count)
	}
	for _, a := range ours.Apis {
		if a.Description == "" || a.Params == nil || a.Response == nil {
			t.Errorf("%s: cmk needs name, description, params and response", a.Name)
		}
		if simulatorOnly[a.Name] {
			continue
		}
		r, ok := real[a.Name]
		if !ok {
			t.Errorf("%s: not a CloudStack 4.22 API", a.Name)
			continue
		}
		if a.Isasync != r.IsAsync {
			t.Errorf("%s: isasync %v, CloudStack says %v", a.Name, a.Isasync, r.IsAsync)
		}
		for _, prm := range a.Params {
			found := false
			for _, rp := range r.Params {
				if strings.EqualFold(rp.Name, prm.Name) {
					found = true
					if rp.Type != prm.Type || rp.Required != prm.Required {
						t.Errorf("%s %s: %s required=%v, CloudStack says %s required=%v", a.Name, prm.Name, prm.Type, prm.Required, rp.Type, rp.Required)
					}
				}
			}
			if !found {
				t.Errorf("%s: parameter %s is not CloudStack's", a.Name, prm.Name)
			}
		}
		for _, rp := range r.Params {
			if !rp.Required {
				continue
			}
			found := false
			for _, prm := range a.Params {
				found = found || strings.EqualFold(rp.Name, prm.Name)
			}
			if !found {
				t.Errorf("%s: required parameter %s is not declared", a.Name, rp.Name)
			}
		}
	}
}
