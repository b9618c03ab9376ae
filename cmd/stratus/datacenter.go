package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// newDatacenterCmd is `stratus datacenter`: tools for the simulated data
// center's description.
func newDatacenterCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "datacenter",
		Short: "Work with the simulated data center's description (YAML)",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "example",
		Short: "Print the built-in data center description, to edit and pass to 'stratus up --datacenter FILE'",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write(cloud.DefaultDatacenterYAML())
			return err
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "check FILE",
		Short: "Check a data center description",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dc, err := cloud.LoadDatacenter(args[0])
			if err != nil {
				return err
			}
			hosts := 0
			for _, z := range dc.Zones {
				for _, p := range z.Pods {
					for _, c := range p.Clusters {
						for _, h := range c.Hosts {
							hosts += max(h.Count, 1)
						}
					}
				}
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s: %d zones, %d hosts, %d service offerings, %d templates: ok\n",
				args[0], len(dc.Zones), hosts, len(dc.ServiceOfferings), len(dc.Templates))
			return err
		},
	})
	return cmd
}
