package instance

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/stratus-cloud/stratus/internal/datadir"
	"github.com/stratus-cloud/stratus/internal/runtime"
	"github.com/stratus-cloud/stratus/internal/runtime/docker"
	rtexec "github.com/stratus-cloud/stratus/internal/runtime/exec"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
)

// RuntimeFlagHelp describes `up --runtime`.
const RuntimeFlagHelp = "pod runtime of this host's node: sim (simulated, needs no images or registry), exec (host processes), docker (real containers; images must be present locally or pullable) or auto (docker when an engine answers, else sim)"

// DefaultRuntime runs every seed scenario with no registry and no daemon.
const DefaultRuntime = "sim"

// chooseRuntime returns the runtime to use: the flag when given (and it is
// then kept in the data dir), else the one kept there, else flag (the
// flag's default, or a library caller's choice), else the default.
// from says where the choice came from, for the banner.
func chooseRuntime(dir *datadir.Dir, flag string, flagSet bool) (name, from string, err error) {
	s, err := dir.Settings()
	if err != nil {
		return "", "", err
	}
	switch {
	case flagSet:
		if err := validRuntime(flag); err != nil {
			return "", "", err
		}
		if s.Runtime != flag {
			s.Runtime = flag
			if err := dir.WriteSettings(s); err != nil {
				return "", "", fmt.Errorf("keep --runtime in %s: %w", dir.Path(), err)
			}
		}
		return flag, "--runtime", nil
	case s.Runtime != "":
		if err := validRuntime(s.Runtime); err != nil {
			return "", "", fmt.Errorf("%s: %w", dir.File("settings.json"), err)
		}
		return s.Runtime, "kept in the data dir", nil
	case flag != "":
		return flag, "default", validRuntime(flag)
	}
	return DefaultRuntime, "default", nil
}

func validRuntime(name string) error {
	switch name {
	case "auto", "sim", "exec", "docker":
		return nil
	}
	return fmt.Errorf("--runtime %q: want sim, exec, docker or auto", name)
}

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
