package instance

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/backend"
)

// openStore opens the backend named by spec, instrumented.
func openStore(ctx context.Context, spec, dataDir string, log *slog.Logger, reg prometheus.Registerer) (store.Store, error) {
	s, err := backend.Open(ctx, spec, dataDir, log)
	if err != nil {
		return nil, fmt.Errorf("--store %s: %w", spec, err)
	}
	return backend.Instrument(s, reg), nil
}
