package multihost

import (
	bootstraputil "k8s.io/cluster-bootstrap/token/util"

	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/testenv"
)

// cluster is one compose project of deploy/docker-compose.yml.
type cluster struct {
	t       *testing.T
	root    string // the repository
	file    string
	project string
	env     []string
	ids     map[string]string // service → container id (kept across stop, start and partitions)
}

// projectPrefix starts every project (and image tag) these tests make; the
// pid after it tells whether its run is still alive.
const projectPrefix = "stratusmh"

// repoRoot finds the repository from this file's directory.
func repoRoot(t *testing.T) string {
	_, file, _, ok := goruntime.Caller(0)
	if !ok {
		t.Fatal("cannot find the repository")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// need skips (fails under CI=true) without Docker and docker-compose, and
// under -short.
func need(t *testing.T) {
	t.Helper()
	if testing.Short() && !testenv.InCI() {
		t.Skip("multi-host tests are long; not with -short")
	}
	testenv.LookPath(t, "docker", "Docker Engine")
	testenv.LookPath(t, "docker-compose", "docker-compose (Debian: docker-compose)")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").Run()
	testenv.Need(t, err == nil, "no Docker engine reachable")
}

// newCluster builds the images this run uses (tagged with the run's name)
// and returns a project that the test's end takes down, images included,
// whatever the outcome. What earlier runs that were killed left behind is
// removed first.
func newCluster(t *testing.T) *cluster {
	need(t)
	root := repoRoot(t)
	reapDeadRuns(t)
	name := fmt.Sprintf("%s%d", projectPrefix, os.Getpid())
	c := &cluster{
		ids: map[string]string{},
		t:   t, root: root, file: filepath.Join(root, "deploy", "docker-compose.yml"), project: name,
		env: []string{
			"STRATUS_IMAGE=stratus-mh/stratus:" + name,
			"ETCD_IMAGE=stratus-mh/etcd:" + name,
			"STRATUS_TOKEN=" + joinToken(t),
		},
	}
	t.Cleanup(c.down)
	return c
}

// joinToken is a fresh bootstrap token for the run: the agents exchange it
// for their nodes' own certificates.
func joinToken(t *testing.T) string {
	tok, err := bootstraputil.GenerateBootstrapToken()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// build builds one image ("stratus" or "etcd") with deploy/build-images.
func (c *cluster) build(what string) error {
	t0 := time.Now()
	out, err := c.run(15*time.Minute, filepath.Join(c.root, "deploy", "build-images"), what)
	c.t.Logf("build-images %s: %v (%s)", what, time.Since(t0).Round(time.Millisecond), strings.TrimSpace(out))
	return err
}

// run runs a command with the cluster's environment in the repository.
func (c *cluster) run(timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = c.root
	cmd.Env = append(os.Environ(), c.env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String(), err
}

func (c *cluster) compose(timeout time.Duration, args ...string) (string, error) {
	return c.run(timeout, "docker-compose", append([]string{"-f", c.file, "-p", c.project}, args...)...)
}

// must fails the test on err.
func (c *cluster) must(out string, err error) string {
	c.t.Helper()
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

// up starts services (all of them if none are named).
func (c *cluster) up(services ...string) {
	c.t.Helper()
	t0 := time.Now()
	c.must(c.compose(5*time.Minute, append([]string{"up", "-d", "--no-build"}, services...)...))
	c.t.Logf("up %v: %v", services, time.Since(t0).Round(time.Millisecond))
}

// id returns a service's container id.
func (c *cluster) id(service string) string {
	c.t.Helper()
	if id, ok := c.ids[service]; ok {
		return id
	}
	id := strings.TrimSpace(c.must(c.compose(time.Minute, "ps", "-q", service)))
	if id == "" {
		c.t.Fatalf("service %s has no container", service)
	}
	c.ids[service] = id
	return id
}

// addr returns the loopback address a service's port is published on now
// (it changes when the container restarts or rejoins the network).
func (c *cluster) addr(service string, port int) string {
	c.t.Helper()
	out := c.must(c.run(time.Minute, "docker", "port", c.id(service), strconv.Itoa(port)))
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "127.0.0.1:") {
			return strings.TrimSpace(l)
		}
	}
	c.t.Fatalf("%s:%d is not published on 127.0.0.1: %q", service, port, out)
	return ""
}

// stop stops a service's container (SIGTERM, then SIGKILL after its grace).
func (c *cluster) stop(service string) {
	c.t.Helper()
	c.must(c.run(time.Minute, "docker", "stop", c.id(service)))
}

// kill kills a service's container with SIGKILL: a crash.
func (c *cluster) kill(service string) {
	c.t.Helper()
	c.must(c.run(time.Minute, "docker", "kill", c.id(service)))
}

func (c *cluster) start(service string) {
	c.t.Helper()
	c.must(c.run(time.Minute, "docker", "start", c.id(service)))
}

func (c *cluster) network() string { return c.project + "_stratus" }

// partition cuts a service's host off the cluster network.
func (c *cluster) partition(service string) {
	c.t.Helper()
	c.must(c.run(time.Minute, "docker", "network", "disconnect", c.network(), c.id(service)))
}

// heal connects it again under its service name.
func (c *cluster) heal(service string) {
	c.t.Helper()
	c.must(c.run(time.Minute, "docker", "network", "connect", "--alias", service, c.network(), c.id(service)))
}

// down removes the project (containers, network, volumes) and this run's
// images; on failure it first logs the last lines of every service.
func (c *cluster) down() {
	if c.t.Failed() {
		if out, err := c.compose(time.Minute, "logs", "--no-color", "--tail=40"); err == nil {
			c.t.Logf("cluster logs:\n%s", out)
		}
	}
	if _, err := c.compose(5*time.Minute, "down", "-v", "--remove-orphans", "-t", "2"); err != nil {
		c.t.Errorf("taking the cluster down: %v", err)
	}
	for _, e := range c.env[:2] {
		_, img, _ := strings.Cut(e, "=")
		if _, err := c.run(time.Minute, "docker", "image", "rm", "-f", img); err != nil && !strings.Contains(err.Error(), "No such image") {
			c.t.Errorf("removing %s: %v", img, err)
		}
	}
}

// reapDeadRuns takes down projects and images of earlier runs whose
// process is gone (killed by a test timeout before its cleanup ran).
func reapDeadRuns(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dead := func(name string) bool {
		pid, err := strconv.Atoi(strings.TrimPrefix(name, projectPrefix))
		if err != nil || !strings.HasPrefix(name, projectPrefix) {
			return false
		}
		_, err = os.Stat(fmt.Sprintf("/proc/%d", pid))
		return errors.Is(err, os.ErrNotExist)
	}
	// projects are found by their containers, networks and volumes: a run
	// killed during `compose down` may have left only some of them
	var projects []string
	for _, ls := range [][]string{{"ps", "-a"}, {"network", "ls"}, {"volume", "ls"}} {
		out, err := exec.CommandContext(ctx, "docker", append(ls, "--filter", "label=com.docker.compose.project", "--format", `{{.Label "com.docker.compose.project"}}`)...).Output()
		if err == nil {
			projects = append(projects, strings.Fields(string(out))...)
		}
	}
	seen := map[string]bool{}
	for _, p := range projects {
		if seen[p] || !dead(p) {
			continue
		}
		seen[p] = true
		t.Logf("removing project %s of a dead run", p)
		ids, _ := exec.CommandContext(ctx, "docker", "ps", "-aq", "--filter", "label=com.docker.compose.project="+p).Output()
		if f := strings.Fields(string(ids)); len(f) > 0 {
			_ = exec.CommandContext(ctx, "docker", append([]string{"rm", "-f", "-v"}, f...)...).Run()
		}
		// the project's network and named volumes (server1-data) go too
		for _, kind := range []string{"network", "volume"} {
			ids, _ := exec.CommandContext(ctx, "docker", kind, "ls", "-q", "--filter", "label=com.docker.compose.project="+p).Output()
			if f := strings.Fields(string(ids)); len(f) > 0 {
				_ = exec.CommandContext(ctx, "docker", append([]string{kind, "rm"}, f...)...).Run()
			}
		}
	}
	out, err := exec.CommandContext(ctx, "docker", "images", "--format", "{{.Repository}}:{{.Tag}}", "stratus-mh/*").Output()
	if err != nil {
		return
	}
	for _, img := range strings.Fields(string(out)) {
		if _, tag, _ := strings.Cut(img, ":"); dead(tag) {
			_ = exec.CommandContext(ctx, "docker", "image", "rm", "-f", img).Run()
		}
	}
}
