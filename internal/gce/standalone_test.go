package gce

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	compute "google.golang.org/api/compute/v1"
	"google.golang.org/api/option"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
	"github.com/stratus-cloud/stratus/internal/store/memory"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestStandalone runs the gateway as `stratus gce` does, from a config
// file, in front of a separate CloudStack server reached over HTTP.
func TestStandalone(t *testing.T) {
	cs := cstest.Start(t, cstest.Options{})
	u, err := url.Parse(cs.URL)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Port = 0
	cfg.CloudStackHost, cfg.CloudStackPort, cfg.CloudStackPath = u.Hostname(), port, u.Path
	cfg.APIKey, cfg.SecretKey = cs.APIKey, cs.SecretKey
	cfg.DataDir = dir
	cfgPath := filepath.Join(dir, "gce.yaml")
	if err := SaveConfig(cfgPath, cfg); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(cfgPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config file mode: %v %v", fi.Mode(), err)
	}
	loaded, err := LoadConfig(cfgPath)
	if err != nil || loaded != cfg {
		t.Fatalf("config round trip: %+v %v", loaded, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	st := memory.New(memory.Options{})
	defer st.Close()
	ready := make(chan Serving, 1)
	done := make(chan error, 1)
	go func() {
		done <- RunStandalone(ctx, loaded, st, testenv.Logger(), func(s Serving) { ready <- s })
	}()
	var s Serving
	select {
	case s = <-ready:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("gateway did not start")
	}
	tok, err := os.ReadFile(s.TokenFile)
	if err != nil || string(tok) != s.Token {
		t.Fatalf("token file: %q %v", tok, err)
	}
	svc, err := compute.NewService(ctx, option.WithEndpoint(s.URL+"/compute/v1/"),
		option.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: s.Token})))
	if err != nil {
		t.Fatal(err)
	}
	op, err := svc.Instances.Insert(s.Project, "sandbox-simulator-basic-a", &compute.Instance{Name: "solo", MachineType: "zones/sandbox-simulator-basic-a/machineTypes/micro",
		Disks:             []*compute.AttachedDisk{{Boot: true, InitializeParams: &compute.AttachedDiskInitializeParams{SourceImage: "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts"}}},
		NetworkInterfaces: []*compute.NetworkInterface{{AccessConfigs: []*compute.AccessConfig{{Type: "ONE_TO_ONE_NAT"}}}}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	if op, err = svc.ZoneOperations.Wait(s.Project, "sandbox-simulator-basic-a", op.Name).Do(); err != nil || op.Status != "DONE" || op.Error != nil {
		t.Fatalf("wait: %+v %v", op, err)
	}
	inst, err := svc.Instances.Get(s.Project, "sandbox-simulator-basic-a", "solo").Do()
	if err != nil {
		t.Fatal(err)
	}
	if inst.Status != "RUNNING" || !strings.HasPrefix(inst.SelfLink, s.URL+"/compute/v1/") || inst.NetworkInterfaces[0].AccessConfigs[0].NatIP == "" {
		t.Fatalf("instance: %+v %+v", inst, inst.NetworkInterfaces[0])
	}
	// Like every stratus process, it answers health, readiness and metrics.
	for path, want := range map[string]string{"/healthz": "ok", "/readyz?verbose": "[+]gce ok", "/metrics": "stratus_http_requests_total"} {
		resp, err := http.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d %.300s", path, resp.StatusCode, body)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("gateway did not stop")
	}
}

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig()
	good.APIKey, good.SecretKey = "k", "s"
	for name, tc := range map[string]struct {
		mod  func(*Config)
		want string
	}{
		"ok":             {func(*Config) {}, ""},
		"bad bind":       {func(c *Config) { c.BindAddress = "nowhere" }, "bind-address"},
		"bad port":       {func(c *Config) { c.Port = 70000 }, "port"},
		"bad protocol":   {func(c *Config) { c.CloudStackProtocol = "ftp" }, "cloudstack-protocol"},
		"no host":        {func(c *Config) { c.CloudStackHost = "" }, "cloudstack-host"},
		"no keys":        {func(c *Config) { c.SecretKey = "" }, "secret-key"},
		"bad public url": {func(c *Config) { c.PublicURL = "ftp://x" }, "public-url"},
	} {
		t.Run(name, func(t *testing.T) {
			c := good
			tc.mod(&c)
			err := c.Validate()
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
	if got := good.CloudStackURL(); got != "http://localhost:8080/client/api" {
		t.Fatalf("CloudStackURL = %s", got)
	}
}
