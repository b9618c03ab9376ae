package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// commit with -ldflags "-X main.commit=…" (the Makefile does, for builds
// where Go records no VCS information, e.g. with GOFLAGS=-buildvcs=false).
var (
	version = "dev"
	commit  = ""
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the stratus version and the commit it was built from",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), versionLine())
			return nil
		},
	}
}

// versionLine is "stratus VERSION (commit C[, modified], TIME; GO, OS/ARCH)"
// with the version from -ldflags or the module, and the commit from the
// VCS stamp go build records.
func versionLine() string {
	v := version
	bi, ok := debug.ReadBuildInfo()
	if ok && v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	var rev, when string
	modified := false
	if ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if rev == "" {
		rev = commit
	}
	build := "commit unknown (built without VCS information)"
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		build = "commit " + rev
		if modified {
			build += " with local changes"
		}
		if when != "" {
			build += ", " + when
		}
	}
	return fmt.Sprintf("stratus %s (%s; %s, %s/%s)", v, build, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
