package instance

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/stratus-cloud/stratus/internal/runtime"
	"github.com/stratus-cloud/stratus/internal/runtime/docker"
	rtexec "github.com/stratus-cloud/stratus/internal/runtime/exec"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
)

const RuntimeFlagHelp = "pod runtime: auto (docker when an engine answers, else sim), sim, exec or docker"

// OpenRuntime returns the runtime named by --runtime and the name chosen.
// instance labels what the docker runtime creates; a later run with the
// same instance cleans up what a crashed one left.
func OpenRuntime(ctx context.Context, name, instance string, log *slog.Logger) (runtime.Runtime, string, error) {
	log = log.With("component", "runtime")
	if name == "auto" {
		name = "sim"
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		if docker.Available(pctx) {
			name = "docker"
		}
		cancel()
		log.Info("runtime chosen", "runtime", name)
	}
	switch name {
	case "sim":
		return sim.New(sim.Options{Ports: true, Log: log}), name, nil
	case "exec":
		return rtexec.New(rtexec.Options{Log: log}), name, nil
	case "docker":
		rt, err := docker.New(docker.Options{Instance: instance, Log: log})
		return rt, name, err
	}
	return nil, "", fmt.Errorf("--runtime %q: want auto, sim, exec or docker", name)
}
