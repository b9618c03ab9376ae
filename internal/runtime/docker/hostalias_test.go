package docker_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stratus-cloud/stratus/internal/runtime"
	"github.com/stratus-cloud/stratus/internal/runtime/docker"
)

// TestHostAliases: a pod's host aliases are in its containers' /etc/hosts;
// one at a host loopback address (a Service's cluster IP) names the
// sandbox of the pod behind it, which the container then reaches by that
// name, on a port the pod does not even declare.
func TestHostAliases(t *testing.T) {
	rt := newRuntime(t, docker.Options{})
	ctx := context.Background()
	server := spec("aliased-server", "server", "serve", "9090")
	server.PodIP = "127.128.250.9"
	server.Env = []runtime.EnvVar{{Name: "POD_NAME", Value: "aliased-server"}}
	if _, err := rt.Start(ctx, server, nil); err != nil {
		t.Fatal(err)
	}
	aliases := []runtime.HostAlias{
		{IP: "10.11.12.13", Hostnames: []string{"outside", "outside.example"}},
		{IP: "127.100.250.1", Hostnames: []string{"backend"}, Backends: []string{"127.128.250.99", server.PodIP}},
		{IP: "127.100.250.2", Hostnames: []string{"nobody"}},
	}
	hosts := spec("aliased-client", "hosts", "cat", "/etc/hosts")
	hosts.HostAliases = aliases
	end, out := runToExit(t, rt, hosts)
	if end.ExitCode != 0 {
		t.Fatalf("cat /etc/hosts: exit %d %q", end.ExitCode, out)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 2 {
			for _, h := range f[1:] {
				lines[h] = f[0]
			}
		}
	}
	srvIP := lines["backend"]
	if lines["outside"] != "10.11.12.13" || lines["outside.example"] != "10.11.12.13" || lines["nobody"] != "127.100.250.2" ||
		srvIP == "" || strings.HasPrefix(srvIP, "127.") {
		t.Fatalf("/etc/hosts:\n%s", out)
	}
	// A second container of the pod shares the file, and reaches the
	// server by its alias.
	get := spec("aliased-client", "get", "get", "http://backend:9090/", "20")
	get.HostAliases = aliases
	end, out = runToExit(t, rt, get)
	if end.ExitCode != 0 || out != "hello from aliased-server aliased-server\n" {
		t.Fatalf("get http://backend:9090/: exit %d, output %q", end.ExitCode, out)
	}
}
