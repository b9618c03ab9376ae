package main

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stratus-cloud/stratus/internal/gce"
	"github.com/stratus-cloud/stratus/internal/store/backend"
)

func defaultGCEConfigPath() string {
	return filepath.Join(gce.DefaultConfig().DataDir, "gce.yaml")
}

// newGCECmd is `stratus gce`: the GCE gateway on its own, in front of any
// CloudStack, and `stratus gce configure`, which writes its config file.
func newGCECmd() *cobra.Command {
	var cfgPath string
	var lf logFlags
	cmd := &cobra.Command{
		Use:   "gce",
		Short: "Serve the Google Compute Engine API in front of any CloudStack",
		Long: `Serve the Google Compute Engine v1 API (/compute/v1/…, /batch/compute/v1,
/oauth2/token) in front of a CloudStack endpoint, as gstack did: gcloud and
Google's client libraries then drive that CloudStack. Run 'stratus gce configure'
first; this command serves from the file it writes, and prints the lines that
point gcloud at the gateway.`,
		Example: `  stratus gce configure --cloudstack-host cs.example.com --api-key KEY --secret-key SECRET --non-interactive
  stratus gce`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			log, err := lf.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			cfg, err := gce.LoadConfig(cfgPath)
			if err != nil {
				return fmt.Errorf("%w (run 'stratus gce configure' first)", err)
			}
			st, err := backend.Open(cmd.Context(), cfg.Store, filepath.Join(cfg.DataDir, "store"), log)
			if err != nil {
				return err
			}
			defer func() {
				if cerr := st.Close(); cerr != nil && err == nil {
					err = fmt.Errorf("close the store: %w", cerr)
				}
			}()
			out := cmd.OutOrStdout()
			return gce.RunStandalone(cmd.Context(), cfg, st, log.With("component", "gce"), func(s gce.Serving) {
				fmt.Fprintf(out, "GCE gateway on %s, in front of %s (project %s). Point gcloud at it with:\n", s.URL, cfg.CloudStackURL(), s.Project)
				exp := func(k, v string) { fmt.Fprintf(out, "  export %s=%s\n", k, shellQuote(v)) }
				exp("CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE", s.URL+"/compute/v1/")
				exp("CLOUDSDK_AUTH_ACCESS_TOKEN_FILE", s.TokenFile)
				exp("CLOUDSDK_CORE_PROJECT", s.Project)
				fmt.Fprintln(out, "Press Ctrl-C to stop.")
			})
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", defaultGCEConfigPath(), "config file written by 'stratus gce configure'")
	lf.register(cmd)
	cmd.AddCommand(newGCEConfigureCmd())
	return cmd
}

// question is one answer `configure` asks for.
type question struct {
	flag, prompt string
	get          func(*gce.Config) string
	set          func(*gce.Config, string) error
}

func intSetter(dst func(*gce.Config) *int) func(*gce.Config, string) error {
	return func(c *gce.Config, s string) error {
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		*dst(c) = n
		return nil
	}
}

func strSetter(dst func(*gce.Config) *string) func(*gce.Config, string) error {
	return func(c *gce.Config, s string) error { *dst(c) = s; return nil }
}

var gceQuestions = []question{
	{"bind-address", "Address to listen on", func(c *gce.Config) string { return c.BindAddress }, strSetter(func(c *gce.Config) *string { return &c.BindAddress })},
	{"port", "Port to listen on", func(c *gce.Config) string { return strconv.Itoa(c.Port) }, intSetter(func(c *gce.Config) *int { return &c.Port })},
	{"cloudstack-host", "CloudStack host", func(c *gce.Config) string { return c.CloudStackHost }, strSetter(func(c *gce.Config) *string { return &c.CloudStackHost })},
	{"cloudstack-port", "CloudStack port", func(c *gce.Config) string { return strconv.Itoa(c.CloudStackPort) }, intSetter(func(c *gce.Config) *int { return &c.CloudStackPort })},
	{"cloudstack-protocol", "CloudStack protocol (http or https)", func(c *gce.Config) string { return c.CloudStackProtocol }, strSetter(func(c *gce.Config) *string { return &c.CloudStackProtocol })},
	{"cloudstack-path", "CloudStack API path", func(c *gce.Config) string { return c.CloudStackPath }, strSetter(func(c *gce.Config) *string { return &c.CloudStackPath })},
	{"api-key", "CloudStack API key", func(c *gce.Config) string { return c.APIKey }, strSetter(func(c *gce.Config) *string { return &c.APIKey })},
	{"secret-key", "CloudStack secret key", func(c *gce.Config) string { return c.SecretKey }, strSetter(func(c *gce.Config) *string { return &c.SecretKey })},
	{"data-dir", "Data directory (store and token file)", func(c *gce.Config) string { return c.DataDir }, strSetter(func(c *gce.Config) *string { return &c.DataDir })},
	{"store", "Store (bolt, memory or etcd://host:port)", func(c *gce.Config) string { return c.Store }, strSetter(func(c *gce.Config) *string { return &c.Store })},
}

func newGCEConfigureCmd() *cobra.Command {
	var cfgPath string
	var nonInteractive bool
	answers := map[string]*string{}
	cmd := &cobra.Command{
		Use:   "configure",
		Short: "Write the standalone GCE gateway's config file",
		Long: `Ask for the gateway's bind address and port, the CloudStack endpoint (host,
port, protocol, path) and the CloudStack key pair, and write the config file
'stratus gce' serves from. Every answer has a flag; with --non-interactive (or
no terminal input) unanswered questions take their defaults, so it also runs
unattended. An existing file provides the defaults.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := gce.DefaultConfig()
			if old, err := gce.LoadConfig(cfgPath); err == nil {
				cfg = old
			}
			in := bufio.NewReader(cmd.InOrStdin())
			out := cmd.OutOrStdout()
			for _, q := range gceQuestions {
				if cmd.Flags().Changed(q.flag) {
					if err := q.set(&cfg, *answers[q.flag]); err != nil {
						return fmt.Errorf("--%s: %w", q.flag, err)
					}
					continue
				}
				if nonInteractive {
					continue
				}
				if err := ask(in, out, q, &cfg); err != nil {
					return err
				}
			}
			if err := gce.SaveConfig(cfgPath, cfg); err != nil {
				return err
			}
			fmt.Fprintf(out, "Wrote %s. Start the gateway with: stratus gce --config %s\n", cfgPath, shellQuote(cfgPath))
			return nil
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", defaultGCEConfigPath(), "config file to write")
	cmd.Flags().BoolVar(&nonInteractive, "non-interactive", false, "ask nothing: unanswered questions take their defaults")
	def := gce.DefaultConfig()
	for _, q := range gceQuestions {
		answers[q.flag] = new(string)
		cmd.Flags().StringVar(answers[q.flag], q.flag, q.get(&def), q.prompt)
	}
	return cmd
}

// ask asks one question on out and reads the answer from in; an empty
// answer (or the end of input) keeps the default.
func ask(in *bufio.Reader, out io.Writer, q question, cfg *gce.Config) error {
	for tries := 0; tries < 5; tries++ {
		def := q.get(cfg)
		shown := def
		if q.flag == "secret-key" && def != "" {
			shown = "********"
		}
		fmt.Fprintf(out, "%s [%s]: ", q.prompt, shown)
		line, err := in.ReadString('\n')
		line = strings.TrimSpace(line)
		if line == "" {
			if err != nil && err != io.EOF {
				return err
			}
			if err == io.EOF {
				fmt.Fprintln(out)
			}
			return nil
		}
		if serr := q.set(cfg, line); serr != nil {
			fmt.Fprintln(out, "  ", serr)
			if err != nil {
				return serr
			}
			continue
		}
		return nil
	}
	return fmt.Errorf("no valid answer for %s", q.flag)
}
