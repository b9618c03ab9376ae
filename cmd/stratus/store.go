package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/memory"
)

// openStore opens the backend named by spec.
func openStore(ctx context.Context, spec, dataDir string, log *slog.Logger, reg prometheus.Registerer) (store.Store, error) {
	switch spec {
	case "memory":
		return memory.New(memory.Options{}), nil
	}
	return nil, fmt.Errorf("--store %q: not available yet", spec)
}
