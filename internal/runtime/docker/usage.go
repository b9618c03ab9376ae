package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

// Usage implements runtime.Runtime from the engine's one-shot stats: CPU
// time used and memory use less the page cache, as the kubelet's working
// set is.
func (r *Runtime) Usage(ctx context.Context, id string) (runtime.Usage, error) {
	if _, err := r.get(id); err != nil {
		return runtime.Usage{}, err
	}
	resp, err := r.cli.ContainerStatsOneShot(ctx, id)
	if err != nil {
		return runtime.Usage{}, fmt.Errorf("docker runtime: stats %s: %w", shortID(id), err)
	}
	defer resp.Body.Close()
	var st container.StatsResponse
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return runtime.Usage{}, fmt.Errorf("docker runtime: stats %s: %w", shortID(id), err)
	}
	mem := int64(st.MemoryStats.Usage)
	if cache, ok := st.MemoryStats.Stats["inactive_file"]; ok && int64(cache) < mem {
		mem -= int64(cache)
	}
	return runtime.Usage{CPU: time.Duration(st.CPUStats.CPUUsage.TotalUsage), Memory: mem}, nil
}
