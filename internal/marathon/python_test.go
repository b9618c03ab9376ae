package marathon_test

import (
	"os"
	"os/exec"
	"testing"

	"github.com/stratus-cloud/stratus/internal/marathon/marathontest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestPythonMarathon runs testdata/python_marathon.py, a scenario written
// with Debian's python3-marathon 0.13, against a cluster.
func TestPythonMarathon(t *testing.T) {
	python := "/usr/bin/python3"
	err := exec.Command(python, "-c", "import marathon").Run()
	testenv.Need(t, err == nil, "python3-marathon is not installed (apt-get install python3-marathon)")
	c := marathontest.Start(t, marathontest.Options{Nodes: 3})
	cmd := exec.Command(python, "testdata/python_marathon.py")
	cmd.Env = append(os.Environ(), "MARATHON_URL="+c.URL, "MARATHON_USERNAME="+c.Username, "MARATHON_PASSWORD="+c.Password)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("python scenario: %v", err)
	}
}
