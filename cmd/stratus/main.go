// Command stratus brings a whole cloud up on one machine: a simulated data
// center behind the Apache CloudStack API, a Google Compute Engine v1
// gateway onto it, a Kubernetes-compatible API with controllers and node
// agents, and a dashboard. This package only wires the parts in internal/
// together; see docs/architecture.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "stratus:", err)
		stop()
		os.Exit(1)
	}
}
