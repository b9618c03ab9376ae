package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/stratus-cloud/stratus/internal/datadir"
	"github.com/stratus-cloud/stratus/internal/store/backend"
	"github.com/stratus-cloud/stratus/internal/store/bolt"
)

// newCompactCmd is `stratus compact`: an offline defragment of a data
// dir's store file.
func newCompactCmd() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "compact",
		Short: "Give back the free space of a stopped stratus's store file",
		Long: `Rewrite the bolt store file of a data directory without its free pages.

The store file never shrinks by itself: space freed by deletes is reused by
later writes, so it stays at the size of its busiest moment. 'stratus compact'
gives that space back. stratus must not be running on the data directory (the
command takes its lock). 'stratus up' does the same by itself at start when more
than half of a file of 8 MiB or more is free.`,
		Example: `  stratus compact
  stratus compact --data-dir /tmp/cloud`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := datadir.Open(dataDir)
			if err != nil {
				return err
			}
			defer dir.Close()
			path := filepath.Join(dir.Path(), backend.FileName)
			before, after, err := bolt.Compact(path, 0)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d bytes -> %d bytes\n", path, before, after)
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", defaultDataDir(), "data directory whose store file to compact")
	return cmd
}
