package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/stratus-cloud/stratus/internal/seed"
)

// seedFlag is `up --seed FILE`.
type seedFlag struct{ path string }

func (s *seedFlag) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&s.path, "seed", "", "a seed file (YAML: Kubernetes manifests and "+seed.APIVersion+
		" cloud documents) applied once up; on a fresh data dir 'stratus reset' goes back to the state after it")
}

// load reads and parses the seed file (nil without one), before anything
// starts, so a bad file is reported at once.
func (s *seedFlag) load() (*seed.File, error) {
	if s.path == "" {
		return nil, nil
	}
	b, err := readSeed(s.path)
	if err != nil {
		return nil, err
	}
	return seed.Parse(filepath.Base(s.path), b)
}

func readSeed(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(path)
}

func newApplyCmd() *cobra.Command {
	var dataDir, file string
	var resetPoint bool
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Apply a seed file to the running stratus: cloud objects and Kubernetes manifests",
		Long: `Apply a seed file to the running stratus. The file is YAML documents
separated by '---': Kubernetes manifests of any kind the API serves
(server-side applied), and cloud state of apiVersion ` + seed.APIVersion + `:

  Account         name, type (user|domain-admin|admin), username, password,
                  email, firstName, lastName, apiKey + secretKey (fixed keys)
  GCEProject      name, apiKey, secretKey: an account whose GCE project is name
  KeyPair         name, account, publicKey
  SecurityGroup   name, account, description, ingress [{protocol, startPort,
                  endPort, cidr}]
  Network         name, account, zone, offering, displayText, gateway, netmask
  VirtualMachine  name, account, zone, offering, template, networks,
                  securityGroups, keyPair, userData, state (Running|Stopped)

Applying a file again changes nothing: a cloud object that exists by name
is left as it is. Every document is checked first (fields, the names it uses,
a dry run of each manifest), and errors name the document, its line and the
field; when a write fails, the whole state is put back, so nothing is
applied. --reset-point makes the result what 'stratus reset' goes back to.
The same is POST /stratus/v1/apply with the file as the body.`,
		Example: `  stratus apply -f seed.yaml
  stratus apply -f seed.yaml --reset-point
  stratus up --ephemeral --seed seed.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := readSeed(file)
			if err != nil {
				return err
			}
			name := filepath.Base(file)
			// Checked here too, so a bad file needs no server to be reported.
			if _, err := seed.Parse(name, b); err != nil {
				return err
			}
			c, err := newAdminClient(dataDir)
			if err != nil {
				return err
			}
			var a struct {
				Lines []string `json:"lines"`
				Took  string   `json:"took"`
			}
			q := url.Values{"name": {name}}
			if resetPoint {
				q.Set("resetPoint", "true")
			}
			if err := c.send(cmd.Context(), http.MethodPost, "apply?"+q.Encode(), b, &a); err != nil {
				return err
			}
			for _, l := range a.Lines {
				fmt.Fprintln(cmd.OutOrStdout(), l)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "the seed file ('-': standard input)")
	_ = cmd.MarkFlagRequired("filename")
	cmd.Flags().BoolVar(&resetPoint, "reset-point", false, "make the state after it what 'stratus reset' goes back to")
	cmd.Flags().StringVar(&dataDir, "data-dir", defaultDataDir(), "data directory of the running stratus")
	return cmd
}

// send sends one request with body (YAML, or JSON, which is YAML too;
// nil: none) and decodes a JSON answer into out (nil: none).
func (c *adminClient) send(ctx context.Context, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/yaml")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s", e.Error)
		}
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	return json.Unmarshal(b, out)
}
