package gce

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/testenv"
)

// gcloudCLI runs the real gcloud against a test gateway, with a config
// directory of its own and no way to reach Google.
type gcloudCLI struct {
	t    *testing.T
	bin  string
	env  []string
	dir  string
	runs int
}

func newGcloud(t *testing.T, e *testEnv, zone string) *gcloudCLI {
	bin := testenv.LookPath(t, "gcloud", "the Google Cloud SDK (https://cloud.google.com/sdk/docs/install)")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gcloud")
	if err := os.MkdirAll(cfg, 0o700); err != nil {
		t.Fatal(err)
	}
	// Tells gcloud it is not on a GCE VM, so it makes no metadata lookup.
	if err := os.WriteFile(filepath.Join(cfg, "gce"), []byte("False"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokFile, []byte(e.token), 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CLOUDSDK_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "GOOGLE_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"HOME="+dir,
		"CLOUDSDK_CONFIG="+cfg,
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE="+e.srv.URL+"/compute/v1/",
		"CLOUDSDK_AUTH_ACCESS_TOKEN_FILE="+tokFile,
		"CLOUDSDK_CORE_PROJECT="+e.project,
		"CLOUDSDK_COMPUTE_ZONE="+zone,
		"CLOUDSDK_CORE_DISABLE_PROMPTS=1",
		"CLOUDSDK_CORE_DISABLE_USAGE_REPORTING=true",
		"CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK=true",
	)
	return &gcloudCLI{t: t, bin: bin, env: env, dir: dir}
}

// run runs one gcloud command with a bounded time and returns its output.
func (g *gcloudCLI) run(args ...string) (stdout, stderr string, err error) {
	g.t.Helper()
	g.runs++
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, g.bin, args...)
	cmd.Env = g.env
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	t0 := time.Now()
	err = cmd.Run()
	g.t.Logf("gcloud %s: %v (%s)", strings.Join(args, " "), err, time.Since(t0).Round(10*time.Millisecond))
	return out.String(), errb.String(), err
}

// ok runs a command that must succeed.
func (g *gcloudCLI) ok(args ...string) string {
	g.t.Helper()
	out, stderr, err := g.run(args...)
	if err != nil {
		g.t.Fatalf("gcloud %s: %v\n%s\n%s", strings.Join(args, " "), err, out, stderr)
	}
	return out
}

// fails runs a command that must fail with wantErr in its stderr.
func (g *gcloudCLI) fails(wantErr string, args ...string) {
	g.t.Helper()
	out, stderr, err := g.run(args...)
	if err == nil || !strings.Contains(stderr, wantErr) {
		g.t.Fatalf("gcloud %s: want failure with %q, got %v\n%s\n%s", strings.Join(args, " "), wantErr, err, out, stderr)
	}
}

// okJSON runs a command with --format=json and decodes its output.
func (g *gcloudCLI) okJSON(v any, args ...string) {
	g.t.Helper()
	out := g.ok(append(args, "--format=json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		g.t.Fatalf("gcloud %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func mustContain(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Fatalf("%s: want %q in:\n%s", what, w, out)
		}
	}
}

// runGcloudScenario drives every gcloud command the gateway promises.
func runGcloudScenario(t *testing.T, e *testEnv, zone string) {
	g := newGcloud(t, e, zone)
	defer func() { t.Logf("%d gcloud invocations", g.runs) }()

	mustContain(t, "zones list", g.ok("compute", "zones", "list", "--format=value(name,status)"), zone, "UP")
	mustContain(t, "regions list", g.ok("compute", "regions", "list"), regionOf(zone), "CPUS")
	// A CloudStack zone is a region of one zone, named as GCE names them.
	if !strings.HasSuffix(zone, "-a") {
		t.Errorf("zone %q is not named <region>-a", zone)
	}
	mustContain(t, "zones describe", g.ok("compute", "zones", "describe", zone, "--format=value(region)"), "/regions/"+regionOf(zone))
	mustContain(t, "machine-types list", g.ok("compute", "machine-types", "list", "--zones", zone, "--format=value(name)"), "small", "medium", "n1-standard-1", "e2-medium")
	if _, stderr, err := g.run("compute", "machine-types", "list", "--zones", zone); err != nil || strings.Contains(stderr, "filter keys were not present") {
		t.Fatalf("machine-types list: %v, or it warns about its own filter:\n%s", err, stderr)
	}
	// gcloud's default machine type is as describable as the offerings.
	mustContain(t, "machine-types describe n1-standard-1", g.ok("compute", "machine-types", "describe", "n1-standard-1", "--format=value(name,guestCpus,memoryMb,description)"),
		"n1-standard-1\t1\t3840", "runs on the CloudStack offering")
	g.fails("was not found", "compute", "machine-types", "describe", "n9-nosuch-1")
	mustContain(t, "images list", g.ok("compute", "images", "list", "--format=value(name,family,selfLink)"), "debian-12", "debian-cloud", "ubuntu-os-cloud")

	// Firewall rules.
	g.ok("compute", "firewall-rules", "create", "ssh", "--allow", "tcp:22,tcp:8000-8100,icmp", "--source-ranges", "10.0.0.0/8", "--target-tags", "web")
	var fw map[string]any
	g.okJSON(&fw, "compute", "firewall-rules", "describe", "ssh")
	if fw["name"] != "ssh" || fw["direction"] != "INGRESS" || len(fw["allowed"].([]any)) != 2 {
		t.Fatalf("firewall describe: %v", fw)
	}
	mustContain(t, "firewall-rules list", g.ok("compute", "firewall-rules", "list", "--format=value(name,sourceRanges.list())"), "ssh", "10.0.0.0/8")
	g.ok("compute", "firewall-rules", "update", "ssh", "--source-ranges", "192.168.0.0/16")
	mustContain(t, "firewall after update", g.ok("compute", "firewall-rules", "describe", "ssh", "--format=value(sourceRanges.list())"), "192.168.0.0/16")
	g.fails("already exists", "compute", "firewall-rules", "create", "ssh", "--allow", "tcp:22")
	g.ok("compute", "firewall-rules", "delete", "ssh")

	// Instances: gcloud's defaults (debian-12 family, n1-standard-1), an
	// image family, several at once, and user data from a file.
	g.ok("compute", "instances", "create", "vm1")
	// vm1 keeps gcloud's default machine type, not the offering under it.
	mustContain(t, "vm1 machine type", g.ok("compute", "instances", "describe", "vm1", "--format=value(machineType.basename())"), "n1-standard-1")
	g.ok("compute", "instances", "create", "vm2", "vm3", "--image-family", "ubuntu-2204-lts", "--image-project", "ubuntu-os-cloud", "--machine-type", "small")
	ud := filepath.Join(g.dir, "user-data")
	if err := os.WriteFile(ud, []byte("#cloud-config\nruncmd:\n - echo hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g.ok("compute", "instances", "create", "vm4", "--image", "debian-12", "--metadata-from-file", "user-data="+ud, "--labels", "env=dev", "--tags", "web")
	g.fails("already exists", "compute", "instances", "create", "vm4")
	var insts []map[string]any
	g.okJSON(&insts, "compute", "instances", "list")
	if len(insts) != 4 {
		t.Fatalf("instances list: %d", len(insts))
	}
	var vm4 map[string]any
	g.okJSON(&vm4, "compute", "instances", "describe", "vm4")
	b, _ := json.Marshal(vm4["metadata"])
	mustContain(t, "vm4 metadata", string(b), "user-data", "echo hello")
	if vm4["status"] != "RUNNING" || vm4["labels"].(map[string]any)["env"] != "dev" {
		t.Fatalf("vm4: %v", vm4)
	}
	g.ok("compute", "instances", "stop", "vm1")
	mustContain(t, "vm1 stopped", g.ok("compute", "instances", "describe", "vm1", "--format=value(status)"), "TERMINATED")
	g.ok("compute", "instances", "start", "vm1")
	g.ok("compute", "instances", "reset", "vm1")
	g.ok("compute", "instances", "add-metadata", "vm1", "--metadata", "color=blue")
	mustContain(t, "vm1 metadata", g.ok("compute", "instances", "describe", "vm1", "--format=json(metadata,status)"), "color", "blue", "RUNNING")
	mustContain(t, "serial port", g.ok("compute", "instances", "get-serial-port-output", "vm1"), "vm1 login:")
	g.fails("was not found", "compute", "instances", "describe", "nosuch")

	// Operations and the project.
	var ops []map[string]any
	g.okJSON(&ops, "compute", "operations", "list")
	if len(ops) < 8 {
		t.Fatalf("operations list: %d", len(ops))
	}
	var zoneOp string
	for _, op := range ops {
		if z, _ := op["zone"].(string); strings.HasSuffix(z, "/"+zone) || z == zone {
			zoneOp = op["name"].(string)
		}
	}
	mustContain(t, "operations describe", g.ok("compute", "operations", "describe", zoneOp, "--zone", zone), "status: DONE")
	mustContain(t, "project-info describe", g.ok("compute", "project-info", "describe"), "name: "+e.project, "commonInstanceMetadata")

	g.ok("compute", "instances", "delete", "vm1", "vm2", "vm3", "vm4", "--quiet")
	g.okJSON(&insts, "compute", "instances", "list")
	if len(insts) != 0 {
		t.Fatalf("instances after delete: %d", len(insts))
	}
}

// TestGcloud drives the real gcloud against the gateway in front of the
// real CloudStack simulator.
func TestGcloud(t *testing.T) {
	if testing.Short() {
		t.Skip("the gcloud scenario takes a minute or more")
	}
	runGcloudScenario(t, newRealEnv(t), "sandbox-simulator-a")
}
