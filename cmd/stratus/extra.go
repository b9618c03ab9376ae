package main

import "github.com/spf13/cobra"

// extraCommands are the subcommands each part contributes.
func extraCommands() []*cobra.Command {
	return []*cobra.Command{newDatacenterCmd(), newGCECmd(), newAgentCmd(), newJoinCommandCmd(), newComposeCmd(), newResetCmd(), newSnapshotCmd(), newCompactCmd(), newApplyCmd(), newFaultCmd()}
}
