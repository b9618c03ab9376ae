package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stratus-cloud/stratus/internal/datadir"
)

// scriptOptions are the flags of `up` and `server` for scripts and CI:
// throw-away instances side by side, and their addresses in a form a
// program reads.
type scriptOptions struct {
	ephemeral bool
	envFile   string
	output    string
	netSlot   string
	// changed tells whether the user set a flag (--ephemeral only fills
	// in what was not).
	changed func(name string) bool
}

func (s *scriptOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&s.ephemeral, "ephemeral", false, "a throw-away instance: memory store, a temporary data dir removed at exit, free ports (unless --data-dir, --store, --http-addr or --kube-addr say otherwise)")
	f.StringVar(&s.envFile, "env-file", "", "once up, write KEY=value lines for every client (and STRATUS_DATA_DIR) to this file, for 'set -a; . FILE', docker --env-file, $GITHUB_ENV or 'stratus env --env-file'")
	f.StringVarP(&s.output, "output", "o", "text", "what to print once up: text (a banner) or json (one line: addresses, credentials and their files)")
	f.StringVar(&s.netSlot, "net-slot", "auto", "this instance's share of loopback for cluster IPs, pod IPs and node ports: auto (the one its store recorded, else the lowest free), or a number 0-16")
	s.changed = func(name string) bool { return cmd.Flags().Changed(name) }
}

// applyEphemeral fills in --ephemeral's defaults and returns what to do at
// exit.
func (o *upOptions) applyEphemeral() (cleanup func(), err error) {
	cleanup = func() {}
	if o.script.output != "text" && o.script.output != "json" {
		return cleanup, fmt.Errorf("--output %q: want text or json", o.script.output)
	}
	if !o.script.ephemeral {
		return cleanup, nil
	}
	if !o.script.changed("store") {
		o.storeSpec = "memory"
	}
	if !o.script.changed("http-addr") {
		o.httpAddr = "127.0.0.1:0"
	}
	if !o.script.changed("kube-addr") {
		o.kubeAddr = "127.0.0.1:0"
	}
	if !o.script.changed("data-dir") {
		dir, err := os.MkdirTemp("", "stratus-ephemeral-")
		if err != nil {
			return cleanup, err
		}
		o.dataDir = dir
		cleanup = func() { _ = os.RemoveAll(dir) }
	}
	return cleanup, nil
}

// announce prints what is up (banner or JSON) and writes the env file.
func (o *upOptions) announce(w io.Writer, dir string, st datadir.State, banner func()) error {
	if o.script.envFile != "" {
		if err := writeEnvFile(o.script.envFile, dir, st); err != nil {
			return fmt.Errorf("--env-file: %w", err)
		}
	}
	if o.script.output != "json" {
		banner()
		return nil
	}
	return json.NewEncoder(w).Encode(newUpInfo(o, dir, st))
}

// upInfo is `up --output json`: one line a script reads.
type upInfo struct {
	PID        int                   `json:"pid"`
	DataDir    string                `json:"dataDir"`
	Store      string                `json:"store"`
	Ephemeral  bool                  `json:"ephemeral"`
	EnvFile    string                `json:"envFile,omitempty"`
	HTTPURL    string                `json:"httpURL"`
	Metrics    string                `json:"metricsURL"`
	Ready      string                `json:"readyURL"`
	Dashboard  string                `json:"dashboardURL,omitempty"`
	CloudStack *upCloudStack         `json:"cloudstack,omitempty"`
	GCE        *upGCE                `json:"gce,omitempty"`
	Kubernetes *upKube               `json:"kubernetes,omitempty"`
	Network    *datadir.NetworkState `json:"network,omitempty"`
}

type upCloudStack struct {
	URL       string `json:"url"`
	APIKey    string `json:"apiKey"`
	SecretKey string `json:"secretKey"`
}

type upGCE struct {
	Endpoint  string `json:"endpoint"`
	Project   string `json:"project"`
	Zone      string `json:"zone"`
	TokenFile string `json:"tokenFile"`
}

type upKube struct {
	URL        string `json:"url"`
	Kubeconfig string `json:"kubeconfig"`
	CAFile     string `json:"caFile,omitempty"`
	JoinToken  string `json:"joinToken,omitempty"`
}

func newUpInfo(o *upOptions, dir string, st datadir.State) upInfo {
	info := upInfo{PID: st.PID, DataDir: dir, Store: o.storeSpec, Ephemeral: o.script.ephemeral, EnvFile: o.script.envFile,
		HTTPURL: st.HTTPURL, Metrics: st.HTTPURL + "/metrics", Ready: st.HTTPURL + "/readyz", Network: st.Network}
	if st.Dashboard {
		info.Dashboard = st.HTTPURL + "/client/"
	}
	if st.CloudStack != nil {
		info.CloudStack = &upCloudStack{URL: st.HTTPURL + "/client/api", APIKey: st.CloudStack.APIKey, SecretKey: st.CloudStack.SecretKey}
	}
	if st.GCE != nil {
		info.GCE = &upGCE{Endpoint: st.HTTPURL + "/compute/v1/", Project: st.GCE.Project, Zone: st.GCE.Zone, TokenFile: st.GCE.TokenFile}
	}
	if st.Kubeconfig != "" {
		info.Kubernetes = &upKube{URL: st.KubeURL, Kubeconfig: st.Kubeconfig, JoinToken: st.JoinToken}
		if _, err := os.Stat(dir + "/kube/ca.crt"); err == nil {
			info.Kubernetes.CAFile = dir + "/kube/ca.crt"
		}
	}
	return info
}

// writeEnvFile writes every client's variables as KEY=value lines (no
// quotes: docker's --env-file and $GITHUB_ENV take values literally), and
// STRATUS_DATA_DIR first, which `stratus env` and every other stratus
// command read.
func writeEnvFile(path, dir string, st datadir.State) error {
	var b strings.Builder
	add := func(k, v string) error {
		if strings.ContainsAny(v, "\n\r") {
			return fmt.Errorf("%s holds a line break", k)
		}
		fmt.Fprintf(&b, "%s=%s\n", k, v)
		return nil
	}
	if err := add("STRATUS_DATA_DIR", dir); err != nil {
		return err
	}
	for _, client := range envClients {
		vars, err := envVars(client.name, dir, st)
		if err != nil {
			continue // this instance does not serve that API
		}
		for _, v := range vars {
			if err := add(v.name, v.value); err != nil {
				return err
			}
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// dataDirFromEnvFile reads STRATUS_DATA_DIR from an env file.
func dataDirFromEnvFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimPrefix(sc.Text(), "export "), "STRATUS_DATA_DIR="); ok {
			return strings.Trim(v, `'"`), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s has no STRATUS_DATA_DIR line", path)
}
