package marathon_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stratus-cloud/stratus/internal/marathon/marathontest"
	rtexec "github.com/stratus-cloud/stratus/internal/runtime/exec"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// runPython runs a python3-marathon scenario of testdata (which share
// testdata/scenario.py) against c, with env added to its environment.
func runPython(t *testing.T, c *marathontest.Cluster, script string, env ...string) {
	t.Helper()
	cmd := exec.Command(python, "testdata/"+script)
	cmd.Env = append(append(os.Environ(), "MARATHON_URL="+c.URL, "MARATHON_USERNAME="+c.Username, "MARATHON_PASSWORD="+c.Password), env...)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("python scenario %s: %v", script, err)
	}
}

const python = "/usr/bin/python3"

// needPython skips (fails under CI) without python3-marathon.
func needPython(t *testing.T) {
	err := exec.Command(python, "-c", "import marathon").Run()
	testenv.Need(t, err == nil, "python3-marathon is not installed (apt-get install python3-marathon)")
}

// TestPythonMarathon runs testdata/python_marathon.py, a scenario written
// with Debian's python3-marathon 0.13, against a cluster.
func TestPythonMarathon(t *testing.T) {
	needPython(t)
	runPython(t, marathontest.Start(t, marathontest.Options{Nodes: 3}), "python_marathon.py")
}

// TestPythonMarathonHealth runs testdata/python_health.py: apps whose
// tasks are processes (the exec runtime), their HTTP and TCP health
// checks run by the node agent and the server, read through
// python3-marathon.
func TestPythonMarathonHealth(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	c := marathontest.Start(t, marathontest.Options{Nodes: 1, Runtime: rtexec.New(rtexec.Options{Dir: dir})})
	runPython(t, c, "python_health.py", "STATUS_FILE="+filepath.Join(dir, "status"), "SERVER="+healthServer)
}

// TestPythonMarathonBackoff runs testdata/python_backoff.py: a task
// that keeps failing (a process that exits 3, under the exec runtime) is
// relaunched after a delay growing by backoffFactor, which the queue
// shows and DELETE /v2/queue/{app}/delay resets.
func TestPythonMarathonBackoff(t *testing.T) {
	needPython(t)
	runPython(t, marathontest.Start(t, marathontest.Options{Nodes: 1, Runtime: rtexec.New(rtexec.Options{Dir: t.TempDir()})}), "python_backoff.py")
}

// TestPythonMarathonPorts runs testdata/python_ports.py: two tasks of one
// app on one node (processes, the exec runtime) each get their own host
// port of the node's range and answer on it, bound to every address.
func TestPythonMarathonPorts(t *testing.T) {
	needPython(t)
	runPython(t, marathontest.Start(t, marathontest.Options{Nodes: 1, Runtime: rtexec.New(rtexec.Options{Dir: t.TempDir()})}), "python_ports.py")
}

// healthServer answers GETs on $HOST:$PORT0 with the status code in the
// file $STATUS_FILE.
const healthServer = `
import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(int(open(os.environ["STATUS_FILE"]).read()))
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer((os.environ["HOST"], int(os.environ["PORT0"])), H).serve_forever()
`
