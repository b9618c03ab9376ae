package main

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestUpMarathonEnv: `stratus env marathon` points Debian's python3-marathon
// at the running binary; nothing is served without the credentials, and
// they stay the same across a restart.
func TestUpMarathonEnv(t *testing.T) {
	python := "/usr/bin/python3"
	testenv.Need(t, exec.Command(python, "-c", "import marathon").Run() == nil, "python3-marathon is not installed (apt-get install python3-marathon)")
	dir := filepath.Join(t.TempDir(), "data")
	home := t.TempDir()
	p := startUp(t, dir, "--runtime", "sim")
	p.waitReady(t, 60*time.Second)
	vars := env(t, dir, "marathon")
	if vars["MARATHON_URL"] == "" || vars["MARATHON_USERNAME"] == "" || len(vars["MARATHON_PASSWORD"]) < 16 {
		t.Fatalf("env marathon: %v", vars)
	}
	resp, err := http.Get(vars["MARATHON_URL"] + "/v2/apps")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without credentials: %d", resp.StatusCode)
	}
	script := `
import os
from marathon import MarathonClient, MarathonApp
c = MarathonClient(os.environ["MARATHON_URL"], username=os.environ["MARATHON_USERNAME"], password=os.environ["MARATHON_PASSWORD"])
c.create_app("/env/app", MarathonApp(cmd="sleep 100", instances=1, cpus=0.1, mem=16))
print(",".join(a.id for a in c.list_apps()))
`
	if out := run(t, vars, home, python, "-c", script); strings.TrimSpace(out) != "/env/app" {
		t.Fatalf("python3-marathon listed %q", out)
	}
	p.stop(t)
	p2 := startUp(t, dir, "--runtime", "sim")
	p2.waitReady(t, 60*time.Second)
	again := env(t, dir, "marathon")
	if again["MARATHON_PASSWORD"] != vars["MARATHON_PASSWORD"] {
		t.Fatal("the Marathon password changed across a restart")
	}
	if out := run(t, again, home, python, "-c", script[:strings.Index(script, "c.create_app")]+`print(",".join(a.id for a in c.list_apps()))`); strings.TrimSpace(out) != "/env/app" {
		t.Fatalf("after restart python3-marathon listed %q", out)
	}
	p2.stop(t)
}
