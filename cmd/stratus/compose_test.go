package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/stratus-cloud/stratus/internal/runtime/docker/dockertest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// composeRun runs `stratus compose` as a user would and returns its
// output; wantErr says whether it must fail.
func composeRun(t *testing.T, dataDir string, env []string, wantErr bool, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, stratusBinary(t), append([]string{"compose", "--data-dir", dataDir}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if (err != nil) != wantErr {
		t.Fatalf("stratus compose %s: err=%v, want error %v\n%s", strings.Join(args, " "), err, wantErr, out)
	}
	return string(out)
}

func hostPort(t *testing.T) string {
	t.Helper()
	_, port, err := net.SplitHostPort(freeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// TestComposeWithKubectl runs the seed's Mesos file (legacy v1) through
// the built binary and reads what it made with the real kubectl.
func TestComposeWithKubectl(t *testing.T) {
	testenv.Need(t, fileExists(kubectl133), kubectl133+" not found (the Google Cloud SDK ships it)")
	dir := filepath.Join(t.TempDir(), "data")
	home := t.TempDir()
	p := startUp(t, dir, "--runtime", "sim", "--store", "memory")
	p.waitReady(t, 60*time.Second)
	kEnv := env(t, dir, "kubectl")
	file := filepath.Join("..", "..", "internal", "compose", "testdata", "mesos", "docker-compose.yml")
	port := hostPort(t)
	penv := []string{"MARATHON_PORT=" + port}

	// Broken files create nothing.
	for _, bad := range []string{"syntax.yml", "unknown-key.yml", "no-image.yml"} {
		out := composeRun(t, dir, nil, true, "-f", filepath.Join("..", "..", "internal", "compose", "testdata", "bad", bad), "up", "-d")
		if !strings.Contains(out, bad+":") {
			t.Errorf("%s: error does not name the file:\n%s", bad, out)
		}
	}
	if out := run(t, kEnv, home, kubectl133, "get", "namespaces", "-o", "name"); strings.Contains(out, "namespace/bad") {
		t.Fatalf("a broken file created a namespace:\n%s", out)
	}

	composeRun(t, dir, penv, false, "-f", file, "up", "-d", "--wait")
	deps := run(t, kEnv, home, kubectl133, "get", "deployments", "-n", "mesos", "-o", "jsonpath={range .items[*]}{.metadata.name}={.status.readyReplicas} {end}")
	for _, want := range []string{"zookeeper=1", "master=1", "marathon=1", "slave=1"} {
		if !strings.Contains(deps, want) {
			t.Errorf("deployments %q lack %q", deps, want)
		}
	}
	if sel := run(t, kEnv, home, kubectl133, "get", "service", "zk", "-n", "mesos", "-o", "jsonpath={.spec.selector.com\\.docker\\.compose\\.service}"); sel != "zookeeper" {
		t.Errorf("link alias zk selects %q", sel)
	}
	if ep := run(t, kEnv, home, kubectl133, "get", "deployment", "slave", "-n", "mesos", "-o", "jsonpath={.spec.template.spec.containers[0].command[0]} {.spec.template.spec.containers[0].env[?(@.name==\"MESOS_MASTER\")].value}"); ep != "mesos-slave zk://zk:2181/mesos" {
		t.Errorf("slave entrypoint and env: %q", ep)
	}
	ps := composeRun(t, dir, penv, false, "-f", file, "ps")
	if lines := strings.Split(strings.TrimSpace(ps), "\n"); len(lines) != 5 || !strings.HasPrefix(lines[0], "NAME") || !strings.Contains(ps, "127.0.0.1:"+port+"->8080/tcp") {
		t.Errorf("ps:\n%s", ps)
	}
	var body string
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		if body, err = httpGetBody("http://127.0.0.1:" + port + "/"); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(body, "mesos/marathon-") {
		t.Errorf("published port answered %q", body)
	}
	composeRun(t, dir, penv, false, "-f", file, "scale", "slave=2")
	if out := run(t, kEnv, home, kubectl133, "get", "deployment", "slave", "-n", "mesos", "-o", "jsonpath={.spec.replicas}"); out != "2" {
		t.Errorf("scale: replicas %q", out)
	}
	if logs := composeRun(t, dir, penv, false, "-f", file, "logs", "zookeeper"); !strings.HasPrefix(logs, "zookeeper-1 | ") {
		t.Errorf("logs:\n%s", logs)
	}
	// Only -p is needed once the project exists.
	composeRun(t, dir, nil, false, "-p", "mesos", "down", "-v")
	if out := run(t, kEnv, home, kubectl133, "get", "all", "-A", "-l", "com.docker.compose.project=mesos", "-o", "name"); strings.TrimSpace(out) != "" {
		t.Errorf("down left:\n%s", out)
	}
	p.stop(t)
}

// TestComposeDockerRuntime runs a linked pair with a published port as
// real containers (an image built from the test's own program, no
// registry): the host reaches api on its published port, and api answers
// with what it got from web through the link alias "backend", from inside
// its container (the alias names web's container, since a container
// cannot reach the cluster IPs on the host's loopback); web's
// healthcheck, run in its container, gates api's start.
func TestComposeDockerRuntime(t *testing.T) {
	testenv.LookPath(t, "docker", "the Docker engine")
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx := context.Background()
	if _, err := cli.Ping(ctx); err != nil {
		testenv.Need(t, false, "no Docker engine answers: "+err.Error())
	}
	const image = "stratus-test/compose-testbox:1"
	if err := dockertest.BuildTestbox(ctx, cli, image); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dockertest.RemoveImage(context.Background(), cli, image) })

	dir := filepath.Join(t.TempDir(), "data")
	p := startUp(t, dir, "--runtime", "docker", "--store", "memory")
	p.waitReady(t, 90*time.Second)
	port := hostPort(t)
	file := filepath.Join(t.TempDir(), "compose.yaml")
	if err := os.WriteFile(file, []byte(`name: pair
services:
  api:
    image: `+image+`
    command: [relay, "8080", "http://backend:9090/"]
    ports: ["`+port+`:8080"]
    links: ["web:backend"]
    depends_on:
      web:
        condition: service_healthy
  web:
    image: `+image+`
    command: [serve, "9090"]
    expose: ["9090"]
    healthcheck:
      test: ["CMD", "/testbox", "get", "http://127.0.0.1:9090/", "1"]
      interval: 1s
`), 0o644); err != nil {
		t.Fatal(err)
	}
	composeRun(t, dir, nil, false, "-f", file, "up", "-d", "--wait")
	var body string
	deadline := time.Now().Add(30 * time.Second)
	for {
		var err error
		if body, err = httpGetBody("http://127.0.0.1:" + port + "/"); (err == nil && strings.Contains(body, "hello from")) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// "relayed by api-…: hello from web-…": api's container reached web's
	// by the alias.
	if !strings.HasPrefix(body, "relayed by api-") || !strings.Contains(body, ": hello from web-") {
		t.Fatalf("published port %s answered %q", port, body)
	}
	// The healthcheck ran in the container (docker exec) and passed: api,
	// which waits on it, started, and ps says healthy.
	if ps := composeRun(t, dir, nil, false, "-f", file, "ps"); !strings.Contains(ps, "127.0.0.1:"+port+"->8080/tcp") || strings.Count(ps, "Up ") != 2 ||
		!strings.Contains(ps, "(healthy)") {
		t.Errorf("ps:\n%s", ps)
	}
	if logs := composeRun(t, dir, nil, false, "-f", file, "logs", "api"); !strings.Contains(logs, "api-1 | serving on 8080") {
		t.Errorf("logs:\n%s", logs)
	}
	composeRun(t, dir, nil, false, "-f", file, "down")
	p.stop(t)
}

func httpGetBody(url string) (string, error) {
	cl := &http.Client{Timeout: 2 * time.Second}
	resp, err := cl.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
