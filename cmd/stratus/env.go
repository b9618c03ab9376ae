package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stratus-cloud/stratus/internal/datadir"
)

// envClients are the clients 'stratus env' points at stratus (and 'up
// --env-file' writes the variables of), with what each covers.
var envClients = [...]struct{ name, what string }{
	{"cloudstack", "the cloudstack CLI (Debian package cs) and the CloudStack SDKs"},
	{"gcloud", "gcloud compute, in a configuration of its own"},
	{"kubectl", "kubectl and other Kubernetes clients (KUBECONFIG)"},
	{"marathon", "Marathon clients (MARATHON_URL, MARATHON_USERNAME, MARATHON_PASSWORD)"},
}

// envClientArgs are envClients as cobra's ValidArgs: "name<TAB>what".
func envClientArgs() []string {
	out := make([]string, 0, len(envClients))
	for _, c := range envClients {
		out = append(out, c.name+"\t"+c.what)
	}
	return out
}

func newEnvCmd() *cobra.Command {
	var dataDir, envFile string
	var merge, unmerge bool
	cmd := &cobra.Command{
		Use:   "env cloudstack|gcloud|kubectl|marathon",
		Short: "Print export lines that point a real client at the running stratus",
		Long: `Print shell export lines that point a real client at the stratus running
from the data directory. For example:

  eval "$(stratus env kubectl)";    kubectl get nodes
  eval "$(stratus env cloudstack)"; cloudstack listZones
  eval "$(stratus env gcloud)";     gcloud compute zones list
  eval "$(stratus env marathon)";   curl -u "$MARATHON_USERNAME:$MARATHON_PASSWORD" "$MARATHON_URL/v2/apps"

With no argument it lists what it can print. 'stratus env kubectl --merge'
adds a context to your kubeconfig instead ($KUBECONFIG, else ~/.kube/config),
as kind does; '--unmerge' removes it.`,
		Args: cobra.MaximumNArgs(1),
		// "name<TAB>what": cobra shows the part after the tab in shell
		// completion, and the listing without an argument shows it too.
		ValidArgs: envClientArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if envFile != "" {
				d, err := dataDirFromEnvFile(envFile)
				if err != nil {
					return err
				}
				dataDir = d
			}
			if len(args) == 0 {
				return listEnvClients(cmd.OutOrStdout(), cmd.ValidArgs, dataDir)
			}
			if !slices.ContainsFunc(cmd.ValidArgs, func(v string) bool { return strings.HasPrefix(v, args[0]+"\t") }) {
				return fmt.Errorf("unknown client %q: 'stratus env' with no argument lists the clients", args[0])
			}
			if merge || unmerge {
				if args[0] != "kubectl" || merge && unmerge {
					return fmt.Errorf("--merge and --unmerge go with 'env kubectl', one at a time")
				}
				if unmerge {
					return unmergeKubeconfig(cmd.OutOrStdout(), kubeContextName(dataDir))
				}
			}
			st, err := datadir.ReadState(dataDir)
			if err != nil {
				return err
			}
			if merge {
				if st.Kubeconfig == "" {
					return fmt.Errorf("the running stratus does not serve the Kubernetes API")
				}
				return mergeKubeconfig(cmd.OutOrStdout(), kubeContextName(dataDir), st.Kubeconfig)
			}
			return printEnv(cmd.OutOrStdout(), args[0], dataDir, st)
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", defaultDataDir(), "data directory of the running stratus")
	cmd.Flags().StringVar(&envFile, "env-file", "", "the env file 'stratus up --env-file' wrote (instead of --data-dir)")
	cmd.Flags().BoolVar(&merge, "merge", false, "with kubectl: add a context for this stratus to your kubeconfig and make it current, instead of printing KUBECONFIG")
	cmd.Flags().BoolVar(&unmerge, "unmerge", false, "with kubectl: remove the context --merge added")
	return cmd
}

// listEnvClients prints what `stratus env` can print, and how to use it.
func listEnvClients(w io.Writer, clients []string, dataDir string) error {
	fmt.Fprintln(w, "stratus env CLIENT prints export lines that point CLIENT at the running stratus. CLIENT is one of:")
	for _, c := range clients {
		name, what, _ := strings.Cut(c, "\t")
		fmt.Fprintf(w, "  %-12s %s\n", name, what)
	}
	fmt.Fprintf(w, "For example: %s; kubectl get nodes\n", evalLine("kubectl", dataDir))
	return nil
}

// shellQuote quotes s for POSIX shells.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@,+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func printEnv(w io.Writer, client, dataDir string, st datadir.State) error {
	vars, err := envVars(client, dataDir, st)
	if err != nil {
		return err
	}
	for _, v := range vars {
		if _, err := fmt.Fprintf(w, "export %s=%s\n", v.name, shellQuote(v.value)); err != nil {
			return err
		}
	}
	return nil
}

// envVar is one environment variable a client reads.
type envVar struct{ name, value string }

// envVars are the variables that point client at the stratus running from
// dataDir.
func envVars(client, dataDir string, st datadir.State) ([]envVar, error) {
	var vars []envVar
	exp := func(k, v string) { vars = append(vars, envVar{k, v}) }
	switch client {
	case "cloudstack":
		if st.CloudStack == nil {
			return nil, fmt.Errorf("the running stratus does not serve the CloudStack API")
		}
		api := st.HTTPURL + "/client/api"
		// The Go SDK's tests and the terraform provider read these...
		exp("CLOUDSTACK_API_URL", api)
		exp("CLOUDSTACK_API_KEY", st.CloudStack.APIKey)
		exp("CLOUDSTACK_SECRET_KEY", st.CloudStack.SecretKey)
		// ...and the cloudstack (cs) CLI these.
		exp("CLOUDSTACK_ENDPOINT", api)
		exp("CLOUDSTACK_KEY", st.CloudStack.APIKey)
		exp("CLOUDSTACK_SECRET", st.CloudStack.SecretKey)
	case "kubectl":
		if st.Kubeconfig == "" {
			return nil, fmt.Errorf("the running stratus does not serve the Kubernetes API")
		}
		exp("KUBECONFIG", st.Kubeconfig)
	case "gcloud":
		if st.GCE == nil {
			return nil, fmt.Errorf("the running stratus does not serve the GCE API")
		}
		// gcloud gets a configuration directory of its own, so the user's
		// real credentials are never sent to stratus; the "gce" file tells
		// gcloud it is not on a GCE VM, which spares a DNS lookup.
		abs, err := filepath.Abs(dataDir)
		if err != nil {
			return nil, err
		}
		cfg := filepath.Join(abs, "gcloud")
		if err := os.MkdirAll(cfg, 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(cfg, "gce"), []byte("False"), 0o600); err != nil {
			return nil, err
		}
		exp("CLOUDSDK_CONFIG", cfg)
		exp("CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE", st.HTTPURL+"/compute/v1/")
		exp("CLOUDSDK_AUTH_ACCESS_TOKEN_FILE", st.GCE.TokenFile)
		exp("CLOUDSDK_CORE_PROJECT", st.GCE.Project)
		exp("CLOUDSDK_COMPUTE_ZONE", st.GCE.Zone)
		exp("CLOUDSDK_CORE_DISABLE_PROMPTS", "1")
	case "marathon":
		if st.Marathon == nil {
			return nil, fmt.Errorf("the running stratus does not serve the Marathon API")
		}
		exp("MARATHON_URL", st.Marathon.URL)
		exp("MARATHON_USERNAME", st.Marathon.Username)
		exp("MARATHON_PASSWORD", st.Marathon.Password)
	default:
		return nil, fmt.Errorf("unknown client %q: want cloudstack, gcloud, kubectl or marathon", client)
	}
	return vars, nil
}
