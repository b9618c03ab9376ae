package compose

import (
	"context"
	"os/exec"
	"testing"

	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestSameVerdictAsDockerCompose: the real docker-compose (1.29) accepts
// and rejects the test files as we do, where compose's reading is the
// question (not what stratus cannot run, like build:).
func TestSameVerdictAsDockerCompose(t *testing.T) {
	dc := testenv.LookPath(t, "docker-compose", "apt-get install docker-compose")
	cases := []struct {
		file string
		ok   bool
	}{
		{"testdata/mesos/docker-compose.yml", true},
		{"testdata/kubernetes/docker-compose.yml", true},
		{"testdata/wordpress/compose.yaml", true},
		{"testdata/bad/syntax.yml", false},
		{"testdata/bad/unknown-key.yml", false},
		{"testdata/bad/legacy-unknown-key.yml", false},
		{"testdata/bad/no-image-no-build.yml", false},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel() // docker-compose takes seconds to start
			cmd := exec.Command(dc, "-f", tc.file, "config", "-q")
			cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "MARATHON_PORT=8080"}
			out, err := cmd.CombinedOutput()
			if theirs := err == nil; theirs != tc.ok {
				t.Fatalf("docker-compose config: ok=%v, the test says %v:\n%s", theirs, tc.ok, out)
			}
			_, err = Load(context.Background(), LoadOptions{Files: []string{tc.file}, Env: []string{"MARATHON_PORT=8080"}})
			if ours := err == nil; ours != tc.ok {
				t.Errorf("stratus: ok=%v (%v), docker-compose: ok=%v", ours, err, tc.ok)
			}
		})
	}
}
