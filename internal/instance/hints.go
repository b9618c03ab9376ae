package instance

import (
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/stratus-cloud/stratus/internal/httpserver"
)

// checkPorts makes sure the addresses the instance will listen on are free
// before anything starts, and names the flag that changes a busy one.
func checkPorts(addrs ...[2]string) error {
	var errs []error
	for _, fa := range addrs {
		flag, addr := fa[0], fa[1]
		if addr == "" {
			continue // the part's own default
		}
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			ln.Close()
			continue
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			errs = append(errs, fmt.Errorf("%s %s: %w", flag, addr, err))
			continue
		}
		hint := ""
		if host, _, err := net.SplitHostPort(addr); err == nil {
			if free, err := net.Listen("tcp", net.JoinHostPort(host, "0")); err == nil {
				hint = fmt.Sprintf(" (%s is free now)", free.Addr())
				free.Close()
			}
		}
		errs = append(errs, fmt.Errorf("%s %s is already in use, by another stratus or another program; "+
			"'stratus status' shows what runs from a data dir; choose another address with %s%s", flag, addr, flag, hint))
	}
	return errors.Join(errs...)
}

// mountKubeHint answers Kubernetes clients that reached the HTTP front
// (kubectl with no kubeconfig tries localhost:8080) with where the
// Kubernetes API is and the line that points kubectl at it.
func (w *wiring) mountKubeHint() {
	h := httpserver.KubeHint(func() string {
		where := "this stratus does not serve the Kubernetes API"
		if w.kube != nil {
			where = "the Kubernetes API is at " + w.kube.URL()
		}
		return "this is stratus's HTTP front (CloudStack, GCE, dashboard), not the Kubernetes API; " + where +
			`; point kubectl at it with: ` + w.o.EnvLine("kubectl")
	})
	for _, p := range httpserver.KubeHintPatterns {
		w.http.Handle(p, "kube-hint", h)
	}
}

// runtimeName is the pod runtime of this host's node agent, once chosen.
func (w *wiring) runtimeName() string {
	if w.host == nil {
		return ""
	}
	select {
	case <-w.host.opened:
		return w.host.name
	default:
		return w.o.Runtime
	}
}
