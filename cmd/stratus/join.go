package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/stratus-cloud/stratus/internal/datadir"
)

// newJoinCommandCmd is `stratus join-command`: the one line that joins a
// node to the running stratus, as `kubeadm token create
// --print-join-command` prints kubeadm's.
func newJoinCommandCmd() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "join-command",
		Short: "Print the command that joins a node to the running stratus",
		Long: `Print the 'stratus agent --server URL --token T' line that joins a host to
the cluster of the stratus running from the data directory. Put it in a VM's
user data (a shell script or a #cloud-config runcmd) and the VM becomes a node
when it reaches Running:

  stratus join-command
  printf '#!/bin/sh\n%s\n' "$(stratus join-command)" > join.sh`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := datadir.ReadState(dataDir)
			if err != nil {
				return err
			}
			return printJoinCommand(cmd.OutOrStdout(), st)
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", defaultDataDir(), "data directory of the running stratus")
	return cmd
}

func printJoinCommand(w io.Writer, st datadir.State) error {
	if st.KubeURL == "" || st.JoinToken == "" {
		return errors.New("the running stratus does not serve the Kubernetes API")
	}
	_, err := fmt.Fprintf(w, "stratus agent --server %s --token %s\n", shellQuote(st.KubeURL), shellQuote(st.JoinToken))
	return err
}
