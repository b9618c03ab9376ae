package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/stratus-cloud/stratus/internal/instance"
	"github.com/stratus-cloud/stratus/internal/memtrim"
	"github.com/stratus-cloud/stratus/internal/startgc"
)

// upOptions are `stratus up`'s flags.
type upOptions struct {
	dataDir    string
	httpAddr   string
	kubeAddr   string
	ingress    string // --ingress-addr
	storeSpec  string
	runtime    string
	runtimeSet bool // --runtime was given (else the data dir's choice is kept)
	simNodes   int
	datacenter string
	tlsSANs    []string // extra names of the Kubernetes API's certificate
	token      string   // the cluster's join token ("": generated)
	trimMemory bool     // give start-up memory back once up
	log        logFlags
	expiry     expiryFlags
	seed       seedFlag
	// controlPlaneOnly: no node agent on this host (`stratus server`).
	controlPlaneOnly bool
	script           scriptOptions
}

func newUpCmd() *cobra.Command {
	var o upOptions
	var detach bool
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Bring the whole cloud up on this machine",
		Long: `Bring the whole cloud up on this machine: the simulated data center with the
CloudStack API, the GCE gateway, the Kubernetes API with its controllers and a
node agent, and the dashboard. Everything listens on loopback unless told
otherwise. Ctrl-C stops it cleanly; the next 'stratus up' with the same data
directory finds everything where it was left.`,
		Example: `  stratus up
  stratus up --detach && stratus status && stratus stop
  stratus up --data-dir /tmp/cloud --store memory --sim-nodes 100
  stratus up --store etcd://127.0.0.1:2379`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.runtimeSet = cmd.Flags().Changed("runtime")
			if detach {
				if o.script.ephemeral {
					// The data dir an ephemeral run makes is removed when it
					// exits, and stop and status find it by the data dir.
					return errors.New("--detach and --ephemeral do not go together: give a --data-dir (and --store memory) instead")
				}
				return runDetached(cmd.Context(), cmd.OutOrStdout(), o.dataDir, o.script.output == "json")
			}
			return runUp(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	registerServeFlags(cmd, &o)
	f := cmd.Flags()
	f.BoolVar(&detach, "detach", false, "run in the background: the log goes to stratus.log and the pid to stratus.pid in the data dir; 'stratus stop' stops it")
	f.StringVar(&o.runtime, "runtime", instance.DefaultRuntime, instance.RuntimeFlagHelp+"; a choice given here is kept in the data dir for the next runs")
	return cmd
}

// newServerCmd is `stratus up` without a node agent: the control plane of a
// cluster whose nodes join with `stratus agent`.
func newServerCmd() *cobra.Command {
	o := upOptions{controlPlaneOnly: true}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the control plane only; nodes join with 'stratus agent'",
		Long: `Run the control plane only: the CloudStack, GCE and Kubernetes APIs, the
controllers and the dashboard, without a node agent on this host. Several
servers share one etcd cluster (--store etcd://…) and answer the same APIs;
nodes join any of them with 'stratus agent --server URL --token T'.`,
		Example: `  stratus server --store etcd://10.0.0.1:2379,10.0.0.2:2379,10.0.0.3:2379 --http-addr 0.0.0.0:8080 --kube-addr 0.0.0.0:6443`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUp(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	registerServeFlags(cmd, &o)
	return cmd
}

// registerServeFlags adds the flags `up` and `server` share.
func registerServeFlags(cmd *cobra.Command, o *upOptions) {
	f := cmd.Flags()
	f.StringVar(&o.dataDir, "data-dir", defaultDataDir(), "data directory (store file, certificates, credentials)")
	f.StringVar(&o.httpAddr, "http-addr", "127.0.0.1:8080", "address of the HTTP APIs (CloudStack, GCE), the dashboard, /metrics, /healthz and /readyz")
	f.StringVar(&o.kubeAddr, "kube-addr", "127.0.0.1:6443", "address of the Kubernetes API (HTTPS)")
	f.StringVar(&o.ingress, "ingress-addr", "", "address where Ingresses of class stratus are served (HTTP; empty: none)")
	f.StringVar(&o.storeSpec, "store", "bolt", "store backend: bolt (a file in the data dir), memory, or etcd://host:port[,host:port…]")
	f.IntVar(&o.simNodes, "sim-nodes", 0, "number of extra simulated Kubernetes nodes")
	f.StringVar(&o.datacenter, "datacenter", "", "data center description (YAML); default: the built-in one ('stratus datacenter example')")
	f.StringSliceVar(&o.tlsSANs, "tls-san", nil, "extra host names or IPs of the Kubernetes API's certificate (comma-separated or repeated), for clients that reach it by those")
	f.StringVar(&o.token, "token", "", "the cluster's join token for 'stratus agent' (default: generated once and kept in the store); servers sharing a store must be given the same one")
	f.BoolVar(&o.trimMemory, "trim-memory", true, "once up, give back the memory only start-up needed (heap garbage; on Linux, program pages the kernel reads back on use)")
	o.log.register(cmd)
	o.script.register(cmd)
	o.expiry.register(cmd)
	o.seed.register(cmd)
}

// runUp runs stratus until ctx ends.
func runUp(ctx context.Context, o upOptions, stdout, stderr io.Writer) error {
	t0 := time.Now()
	log, err := o.log.logger(stderr)
	if err != nil {
		return err
	}
	// client-go's own log lines (leader election, event broadcasting) go
	// through the same slog handler as ours.
	klog.SetSlogLogger(instance.ClientGoLogger(log))
	seedFile, err := o.seed.load()
	if err != nil {
		return err
	}
	cleanup, err := o.applyEphemeral()
	defer cleanup()
	if err != nil {
		return err
	}
	// A detached run's pid file goes with it (it names this pid only then).
	defer removeOwnPIDFile(o.dataDir, os.Getpid())
	in, err := instance.Start(ctx, instance.Options{
		DataDir: o.dataDir, HTTPAddr: o.httpAddr, KubeAddr: o.kubeAddr, IngressAddr: o.ingress, Store: o.storeSpec,
		Runtime: o.runtime, RuntimeSet: o.runtimeSet,
		SimNodes: o.simNodes, Datacenter: o.datacenter, TLSSANs: o.tlsSANs, Token: o.token,
		ControlPlaneOnly: o.controlPlaneOnly, NetSlot: o.script.netSlot, Expiry: o.expiry.options(), Seed: seedFile, Log: log,
		EnvLine: func(client string) string { return evalLine(client, o.dataDir) },
	})
	if err != nil {
		return err
	}
	startgc.Done()
	if err := o.announce(stdout, in.DataDir(), in.State(), func() { printBanner(stdout, o, in, time.Since(t0)) }); err != nil {
		_ = in.Stop(ctx)
		return err
	}
	log.Info("stratus is up", "took", time.Since(t0), "http", in.HTTPURL())
	if o.trimMemory {
		go trimAfterStart(ctx, log)
	}

	<-ctx.Done()
	log.Info("stopping")
	return in.Stop(ctx)
}

func printBanner(w io.Writer, o upOptions, in *instance.Instance, took time.Duration) {
	dir, st := in.DataDir(), in.State()
	fmt.Fprintf(w, "stratus %s is up (%s)\n", version, took.Round(time.Millisecond))
	detail := "store: " + o.storeSpec
	if runtime, from := in.Runtime(); runtime != "" {
		detail += ", pod runtime: " + runtime
		if from != "" && from != "--runtime" {
			detail += " (" + from + "; --runtime docker|exec to change)"
		}
	}
	fmt.Fprintf(w, "  %-12s %s (%s)\n", "data dir", dir, detail)
	if st.CloudStack != nil {
		fmt.Fprintf(w, "  %-12s %s\n", "CloudStack", st.HTTPURL+"/client/api")
	}
	if st.GCE != nil {
		fmt.Fprintf(w, "  %-12s %s\n", "GCE", st.HTTPURL+"/compute/v1/")
	}
	if st.Kubeconfig != "" {
		fmt.Fprintf(w, "  %-12s %s\n", "Kubernetes", st.KubeURL)
	}
	if st.Marathon != nil {
		fmt.Fprintf(w, "  %-12s %s\n", "Marathon", st.Marathon.URL+"/v2/apps")
	}
	if st.Dashboard {
		fmt.Fprintf(w, "  %-12s %-40s log in as admin / password\n", "Dashboard", st.HTTPURL+"/client/")
	}
	fmt.Fprintf(w, "  %-12s %s\n", "Metrics", st.HTTPURL+"/metrics")
	if st.JoinToken != "" {
		fmt.Fprintf(w, "  %-12s %s agent --server %s --token %s\n", "Join a node", selfCommand(), st.KubeURL, st.JoinToken)
	}
	fmt.Fprintln(w, "Point the clients at it, in another shell:")
	if st.CloudStack != nil {
		fmt.Fprintf(w, "  %s; cloudstack listZones\n", evalLine("cloudstack", dir))
	}
	if st.Kubeconfig != "" {
		fmt.Fprintf(w, "  %s; kubectl get nodes\n", evalLine("kubectl", dir))
	}
	if st.GCE != nil {
		fmt.Fprintf(w, "  %s; gcloud compute zones list\n", evalLine("gcloud", dir))
	}
	if st.Marathon != nil {
		fmt.Fprintf(w, "  %s; curl -u \"$MARATHON_USERNAME:$MARATHON_PASSWORD\" \"$MARATHON_URL/v2/apps\"\n", evalLine("marathon", dir))
	}
	fmt.Fprintf(w, "What runs where: %s\n", subCommand("status", dir))
	fmt.Fprintln(w, "Press Ctrl-C to stop.")
}

// trimAfterStart gives back start-up memory once the first informer syncs
// and start-up garbage have settled.
func trimAfterStart(ctx context.Context, log *slog.Logger) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(time.Second):
	}
	r := memtrim.Trim()
	if r.Err != nil {
		log.Debug("releasing start-up memory failed", "programPagesAdvised", r.PagedOut, "err", r.Err)
		return
	}
	log.Debug("start-up memory released", "programPagesAdvised", r.PagedOut)
}
