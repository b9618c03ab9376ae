package cloudstack_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// python returns Debian's python3 (/usr/bin/python3, where Debian's
// python3-* packages are; a python3 earlier on PATH may be another one) if
// it can import every module named, or skips (fails in CI) naming the
// package to install.
func python(t *testing.T, pkg string, modules ...string) string {
	t.Helper()
	bin := "/usr/bin/python3"
	if _, err := os.Stat(bin); err != nil {
		bin = testenv.LookPath(t, "python3", "apt-get install python3")
	}
	for _, m := range modules {
		err := exec.Command(bin, "-c", "import "+m).Run()
		testenv.Need(t, err == nil, "python module "+m+" missing (install: apt-get install "+pkg+")")
	}
	return bin
}

// runClient runs a client program against srv with the CloudStack
// endpoint and keys in its environment, and returns its output.
func runClient(t *testing.T, srv *cstest.Server, timeout time.Duration, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "CLOUDSTACK_ENDPOINT="+srv.URL,
		"CLOUDSTACK_KEY="+srv.APIKey, "CLOUDSTACK_SECRET="+srv.SecretKey, "CLOUDSTACK_API_KEY="+srv.APIKey,
		"CLOUDSTACK_API_URL="+srv.URL, "CLOUDSTACK_API_SECRET="+srv.SecretKey, "CLOUDSTACK_SECRET_KEY="+srv.SecretKey)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestLibcloudNetworking drives the networking family with Debian's
// python3-libcloud: list_nodes (which lists port and IP forwarding rules),
// wait_until_running, ex_get_node, and the driver's ex_ methods for public
// addresses, port and IP forwarding, firewall and egress rules, network
// offerings, networks and NICs (testdata/libcloud_network.py).
func TestLibcloudNetworking(t *testing.T) {
	py := python(t, "python3-libcloud", "libcloud")
	srv := cstest.Start(t, cstest.Options{})
	out, err := runClient(t, srv, 2*time.Minute, py, "testdata/libcloud_network.py")
	if err != nil || !strings.HasSuffix(strings.TrimSpace(out), "OK") {
		t.Fatalf("libcloud: %v\n%s", err, out)
	}
	t.Log(out)
}
