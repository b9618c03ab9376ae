package docker_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/runtime"
	"github.com/stratus-cloud/stratus/internal/runtime/docker"
)

// TestContainerIP: a container's ports answer at the address
// ContainerIP gives (where a node's probes dial), and a port nothing
// listens on there is refused, while the pod IP's forwarder accepts
// every declared port before the container does.
func TestContainerIP(t *testing.T) {
	rt := newRuntime(t, docker.Options{})
	ctx := context.Background()
	server := spec("addr", "server", "serve", "8080")
	server.PodIP = "127.128.250.7"
	server.Ports = []runtime.Port{{Port: 8080}, {Port: 8081}}
	st, err := rt.Start(ctx, server, nil)
	if err != nil {
		t.Fatal(err)
	}
	ip := rt.ContainerIP(st.ID)
	if net.ParseIP(ip) == nil {
		t.Fatalf("ContainerIP %q", ip)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, "8080"), time.Second)
		if err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server at %s: %v", ip, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, "8081"), time.Second); err == nil {
		_ = c.Close()
		t.Fatal("a port nothing listens on accepted at the container's address")
	}
	if rt.ContainerIP("no-such-container") != "" {
		t.Fatal("an unknown container has an address")
	}
}
