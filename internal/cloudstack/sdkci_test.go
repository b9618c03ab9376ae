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

// TestSDKOwnCISuite runs cloudstack-go's own CI suite
// (github.com/apache/cloudstack-go/v2/ci) against the server.
func TestSDKOwnCISuite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs another module's tests")
	}
	goBin := testenv.LookPath(t, "go", "the Go toolchain")
	srv := cstest.Start(t, cstest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "test", "-count=1", "-v", "github.com/apache/cloudstack-go/v2/ci")
	cmd.Env = append(os.Environ(),
		"CLOUDSTACK_API_URL="+srv.URL, "CLOUDSTACK_API_KEY="+srv.APIKey, "CLOUDSTACK_SECRET_KEY="+srv.SecretKey)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cloudstack-go ci suite failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestCloudstackAPI") {
		t.Fatalf("suite did not pass:\n%s", out)
	}
	t.Logf("%s", out)
}
