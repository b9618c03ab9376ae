package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
	"k8s.io/klog/v2"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/agent/failover"
	"github.com/stratus-cloud/stratus/internal/app"
	"github.com/stratus-cloud/stratus/internal/instance"
	"github.com/stratus-cloud/stratus/internal/kube/nodeauth"
	"github.com/stratus-cloud/stratus/internal/proxy"
)

// newAgentCmd is `stratus agent`: a node agent that joins the cluster of a
// stratus server from another process or host.
func newAgentCmd() *cobra.Command {
	var lf logFlags
	var o struct {
		servers                                        []string
		token, name, runtime, caFile, addr, internalIP string
		proxy                                          bool
		certLifetime                                   time.Duration
		certDir                                        string
	}
	cmd := &cobra.Command{
		Use:   "agent --server URL[,URL…] --token T",
		Short: "Join this host to a stratus cluster as a node",
		Long: `Run a node agent that registers this host as a node of the stratus cluster
at --server, with the join token 'stratus up' prints. Given several servers
of one cluster (--server repeated or comma-separated), the agent uses one at a
time and moves on to the next when it stops answering. Pods bound to the node
run in the chosen runtime (sim: simulated; exec: host processes; docker: containers). The agent
serves container logs to the API server on --addr, which must be reachable
from the server (the default, loopback, suits an agent on the same host).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(o.servers) == 0 {
				return errors.New("--server is required, and --token the first time (stratus up prints both)")
			}
			if o.name == "" {
				h, err := os.Hostname()
				if err != nil || h == "" {
					return errors.New("no --name given and the host name is unknown")
				}
				o.name = strings.ToLower(h)
			}
			if o.certDir == "" {
				home, err := os.UserHomeDir()
				if err != nil {
					return fmt.Errorf("no --cert-dir given and no home directory: %w", err)
				}
				o.certDir = filepath.Join(home, ".stratus", "agents", o.name, "pki")
			}
			if o.certLifetime != 0 && o.certLifetime < 10*time.Minute {
				return fmt.Errorf("--client-certificate-lifetime %v: at least 10m (the least a certificate signing request may ask for)", o.certLifetime)
			}
			log, err := lf.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			klog.SetSlogLogger(instance.ClientGoLogger(log))
			servers, err := failover.New(o.servers, log)
			if err != nil {
				return fmt.Errorf("--server: %w", err)
			}
			if o.caFile == "" {
				if home, err := os.UserHomeDir(); err == nil {
					if p := filepath.Join(home, ".stratus", "kube", "ca.crt"); agentFileExists(p) && allLoopback(servers.URLs()) {
						o.caFile = p // same host as the default data dir
					}
				}
			}
			cfg := servers.Config(&rest.Config{BearerToken: o.token, UserAgent: "stratus-agent/" + o.name, QPS: 50, Burst: 100,
				TLSClientConfig: rest.TLSClientConfig{CAFile: o.caFile}})
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			// Reachable is any answer: the bootstrap token may be gone
			// by now, and is not needed when the node has its certificate.
			anonCfg := rest.CopyConfig(cfg) // servers' failover kept
			anonCfg.BearerToken = ""
			anon, err := kubernetes.NewForConfig(anonCfg)
			if err != nil {
				return fmt.Errorf("agent: %w", err)
			}
			if _, err := anon.Discovery().ServerVersion(); err != nil && !apierrors.IsUnauthorized(err) && !apierrors.IsForbidden(err) {
				return fmt.Errorf("agent: cannot reach %s (with --ca-file %q): %w", strings.Join(servers.URLs(), ", "), o.caFile, err)
			}
			var rotation *nodeauth.Rotation
			cs, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				return fmt.Errorf("agent: %w", err)
			}
			if o.token == "" || bootstraputil.IsValidBootstrapToken(o.token) {
				// As a kubelet: the node's client certificate from
				// --cert-dir, else a bootstrap token (good only for
				// joining) exchanged for one, kept there; renewed before
				// it expires, each renewal kept there too.
				jctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
				var joined bool
				rotation, joined, err = nodeauth.Open(jctx, cfg, o.name, o.certDir, o.certLifetime)
				cancel()
				if err != nil {
					return fmt.Errorf("agent: join: %w", err)
				}
				if cs, err = kubernetes.NewForConfig(rotation.Config()); err != nil {
					return fmt.Errorf("agent: %w", err)
				}
				if _, err := cs.Discovery().ServerVersion(); err != nil {
					return fmt.Errorf("agent: the server refuses the node certificate in %s (issued by another cluster? remove it and join with a token): %w", o.certDir, err)
				}
				how := "kept certificate"
				if joined {
					how = "bootstrap token"
				}
				log.Info("node identity", "user", "system:node:"+o.name, "from", how, "dir", o.certDir, "certificate expires", rotation.Expiry())
			} else if _, err := cs.Discovery().ServerVersion(); err != nil {
				return fmt.Errorf("agent: cannot reach %s (with --ca-file %q): %w", strings.Join(servers.URLs(), ", "), o.caFile, err)
			}
			rt, rtName, err := instance.OpenRuntime(ctx, o.runtime, "stratus-agent-"+o.name, log)
			if err != nil {
				return err
			}
			ag, err := agent.New(agent.Options{Client: cs, NodeName: o.name, Runtime: rt, Certs: &agent.RemoteCerts{Client: cs},
				Addr: o.addr, InternalIP: o.internalIP, Log: log})
			if err != nil {
				return err
			}
			g := &app.Group{Log: log}
			if rotation != nil {
				g.Add(rotation)
			}
			g.Add(ag)
			if o.proxy {
				g.Add(proxy.New(proxy.Options{Client: cs, Log: log}))
			}
			return g.Run(ctx, func() {
				fmt.Fprintf(cmd.OutOrStdout(), "node %s joined %s (runtime %s); Ctrl-C to stop\n", o.name, servers.Current(), rtName)
			})
		},
	}
	lf.register(cmd)
	f := cmd.Flags()
	f.StringSliceVar(&o.servers, "server", nil, "URL of a stratus Kubernetes API (https://host:6443); several servers of one cluster: repeat it or separate them with commas")
	f.StringVar(&o.token, "token", "", "join token printed by 'stratus up' (a bootstrap token is needed only until the node's certificate is in --cert-dir)")
	f.StringVar(&o.certDir, "cert-dir", "", "directory of the node's client certificate and key, kept across restarts as the kubelet's (default: ~/.stratus/agents/NAME/pki)")
	f.StringVar(&o.name, "name", "", "node name (default: this host's name)")
	f.StringVar(&o.runtime, "runtime", "auto", instance.RuntimeFlagHelp)
	f.StringVar(&o.caFile, "ca-file", "", "CA certificate of the server (default: ~/.stratus/kube/ca.crt for a server on this host)")
	f.StringVar(&o.addr, "addr", "127.0.0.1:0", "listen address of the agent's log server")
	f.StringVar(&o.internalIP, "internal-ip", "", "node address the API server reaches the agent at (default: the log server's host)")
	f.BoolVar(&o.proxy, "proxy", false, "also run the service proxy (cluster IPs and node ports) on this host")
	f.DurationVar(&o.certLifetime, "client-certificate-lifetime", 0, "lifetime to ask for the node's client certificate, renewed at 70-90 % of it (at least 10m; default: the signer's, a year)")
	return cmd
}

// allLoopback reports whether every server is on this host's loopback.
func allLoopback(urls []string) bool {
	for _, u := range urls {
		if !strings.HasPrefix(u, "https://127.") && !strings.HasPrefix(u, "https://localhost") {
			return false
		}
	}
	return true
}

func agentFileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
