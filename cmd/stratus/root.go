package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "stratus",
		Short: "A whole cloud on one machine: CloudStack, GCE, Kubernetes and Marathon APIs in one binary",
		Long: `stratus brings a whole cloud up on one machine with one command.

'stratus up' starts, in well under a second:
  - a simulated data center (zones, pods, clusters, hosts, IP ranges, VMs with a
    real life cycle and failures on demand) behind the Apache CloudStack API;
  - a Google Compute Engine v1 API that translates GCE calls into CloudStack calls;
  - a Kubernetes-compatible API with a scheduler, controllers and node agents;
  - the Marathon v2 API (and the Mesos master's state) on that scheduler;
  - a dashboard in the browser.
'stratus compose' runs compose files on the cluster.

Point the real clients at it with 'stratus env cloudstack|gcloud|kubectl|marathon'.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Parents parse their own flags (compose -f FILE logs -f).
		TraverseChildren: true,
	}
	root.AddCommand(newUpCmd(), newServerCmd(), newEnvCmd(), newVersionCmd())
	root.AddCommand(extraCommands()...)
	root.AddCommand(newStatusCmd(), newStopCmd())
	return root
}

func defaultDataDir() string {
	if d := os.Getenv("STRATUS_DATA_DIR"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".stratus"
	}
	return filepath.Join(home, ".stratus")
}

// logFlags are the logging flags every long-running command takes.
type logFlags struct {
	level  string
	format string
}

func (f *logFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.level, "log-level", "info", "log level: debug, info, warn or error")
	cmd.Flags().StringVar(&f.format, "log-format", "text", "log format: text or json")
}

func (f *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", f.level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(f.format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", f.format)
}
