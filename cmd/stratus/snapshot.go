package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratus-cloud/stratus/internal/datadir"
)

// adminClient calls the admin API (/stratus/v1/) of the stratus running
// from a data dir, with the token it keeps there.
type adminClient struct {
	url, token string
	http       *http.Client
}

func newAdminClient(dataDir string) (*adminClient, error) {
	st, err := datadir.ReadState(dataDir)
	if err != nil {
		return nil, err
	}
	if st.AdminTokenFile == "" {
		return nil, fmt.Errorf("the stratus running from %s has no admin API (an older version)", dataDir)
	}
	tok, err := os.ReadFile(st.AdminTokenFile)
	if err != nil {
		return nil, fmt.Errorf("admin token: %w", err)
	}
	return &adminClient{url: st.HTTPURL + "/stratus/v1/", token: strings.TrimSpace(string(tok)), http: &http.Client{Timeout: 5 * time.Minute}}, nil
}

// do sends one request without a body and decodes a JSON answer into out
// (nil: none).
func (c *adminClient) do(ctx context.Context, method, path string, out any) error {
	return c.send(ctx, method, path, nil, out)
}

// restoreAnswer is what reset and restore answer.
type restoreAnswer struct {
	Objects  int    `json:"objects"`
	Revision int64  `json:"revision"`
	Took     string `json:"took"`
}

func newResetCmd() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Put the running stratus back to the state of a fresh data dir, without a restart",
		Long: `Put every API of the running stratus back to the state its data dir had when
it first came up (the seeded state): what clients created since is gone.
Kubernetes watches end with 410 Expired and informers relist, as after an
etcd restore. The same is POST /stratus/v1/reset with the bearer token in the
data dir's admin-token file.`,
		Example: `  stratus reset
  curl -X POST -H "Authorization: Bearer $(cat ~/.stratus/admin-token)" http://127.0.0.1:8080/stratus/v1/reset`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newAdminClient(dataDir)
			if err != nil {
				return err
			}
			var a restoreAnswer
			if err := c.do(cmd.Context(), http.MethodPost, "reset", &a); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "reset to the seeded state (%d objects) in %s\n", a.Objects, a.Took)
			return err
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", defaultDataDir(), "data directory of the running stratus")
	return cmd
}

func newSnapshotCmd() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "snapshot save|restore|list|rm",
		Short: "Save and restore the whole state of the running stratus (every API)",
		Long: `Save the whole state of the running stratus (the cloud, the Kubernetes
objects, the GCE gateway's records) under a name, kept in its data dir, and put
it back later without a restart. A restore ends Kubernetes watches with 410
Expired; informers relist. Over HTTP: PUT, POST …/restore, GET and DELETE on
/stratus/v1/snapshots[/NAME] with the bearer token in the data dir's
admin-token file.`,
		Example: `  stratus snapshot save before-test
  stratus snapshot restore before-test
  stratus snapshot list
  stratus snapshot rm before-test`,
	}
	cmd.PersistentFlags().StringVar(&dataDir, "data-dir", defaultDataDir(), "data directory of the running stratus")
	client := func() (*adminClient, error) { return newAdminClient(dataDir) }
	cmd.AddCommand(&cobra.Command{
		Use:   "save NAME",
		Short: "Save the whole state under NAME (replacing a snapshot of that name)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			var a struct {
				Objects int    `json:"objects"`
				Took    string `json:"took"`
			}
			if err := c.do(cmd.Context(), http.MethodPut, "snapshots/"+url.PathEscape(args[0]), &a); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "saved %s: %d objects in %s\n", args[0], a.Objects, a.Took)
			return err
		},
	}, &cobra.Command{
		Use:   "restore NAME",
		Short: "Put the whole state back to the snapshot NAME",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			var a restoreAnswer
			if err := c.do(cmd.Context(), http.MethodPost, "snapshots/"+url.PathEscape(args[0])+"/restore", &a); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "restored %s: %d objects in %s\n", args[0], a.Objects, a.Took)
			return err
		},
	}, &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the saved snapshots",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			var a struct {
				Snapshots []struct {
					Name    string    `json:"name"`
					Size    int64     `json:"size"`
					Created time.Time `json:"created"`
				} `json:"snapshots"`
			}
			if err := c.do(cmd.Context(), http.MethodGet, "snapshots", &a); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSIZE\tCREATED")
			for _, s := range a.Snapshots {
				fmt.Fprintf(tw, "%s\t%d\t%s\n", s.Name, s.Size, s.Created.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}, &cobra.Command{
		Use:     "rm NAME",
		Aliases: []string{"delete"},
		Short:   "Delete the snapshot NAME",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			return c.do(cmd.Context(), http.MethodDelete, "snapshots/"+url.PathEscape(args[0]), nil)
		},
	})
	return cmd
}
