package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/stratus-cloud/stratus/internal/datadir"
	"github.com/stratus-cloud/stratus/internal/instance"
	"github.com/stratus-cloud/stratus/internal/memtrim"
	"github.com/stratus-cloud/stratus/internal/startgc"
)

// upOptions are `stratus up`'s flags.
type upOptions struct {
	dataDir    string
	httpAddr   string
	kubeAddr   string
	storeSpec  string
	runtime    string
	simNodes   int
	datacenter string
	tlsSANs    []string // extra names of the Kubernetes API's certificate
	token      string   // the cluster's join token ("": generated)
	trimMemory bool     // give start-up memory back once up
	log        logFlags
	expiry     expiryFlags
	// controlPlaneOnly: no node agent on this host (`stratus server`).
	controlPlaneOnly bool
	script           scriptOptions
}

func newUpCmd() *cobra.Command {
	var o upOptions
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Bring the whole cloud up on this machine",
		Long: `Bring the whole cloud up on this machine: the simulated data center with the
CloudStack API, the GCE gateway, the Kubernetes API with its controllers and a
node agent, and the dashboard. Everything listens on loopback unless told
otherwise. Ctrl-C stops it cleanly; the next 'stratus up' with the same data
directory finds everything where it was left.`,
		Example: `  stratus up
  stratus up --data-dir /tmp/cloud --store memory --sim-nodes 100
  stratus up --store etcd://127.0.0.1:2379`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUp(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	registerServeFlags(cmd, &o)
	f := cmd.Flags()
	f.StringVar(&o.runtime, "runtime", "auto", instance.RuntimeFlagHelp)
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
	f.StringVar(&o.storeSpec, "store", "bolt", "store backend: bolt (a file in the data dir), memory, or etcd://host:port[,host:port…]")
	f.IntVar(&o.simNodes, "sim-nodes", 0, "number of extra simulated Kubernetes nodes")
	f.StringVar(&o.datacenter, "datacenter", "", "data center description (YAML); default: the built-in one ('stratus datacenter example')")
	f.StringSliceVar(&o.tlsSANs, "tls-san", nil, "extra host names or IPs of the Kubernetes API's certificate (comma-separated or repeated), for clients that reach it by those")
	f.StringVar(&o.token, "token", "", "the cluster's join token for 'stratus agent' (default: generated once and kept in the store); servers sharing a store must be given the same one")
	f.BoolVar(&o.trimMemory, "trim-memory", true, "once up, give back the memory only start-up needed (heap garbage; on Linux, program pages the kernel reads back on use)")
	o.log.register(cmd)
	o.script.register(cmd)
	o.expiry.register(cmd)
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
	klog.SetSlogLogger(log.With("component", "client-go"))
	cleanup, err := o.applyEphemeral()
	defer cleanup()
	if err != nil {
		return err
	}
	in, err := instance.Start(ctx, instance.Options{
		DataDir: o.dataDir, HTTPAddr: o.httpAddr, KubeAddr: o.kubeAddr, Store: o.storeSpec, Runtime: o.runtime,
		SimNodes: o.simNodes, Datacenter: o.datacenter, TLSSANs: o.tlsSANs, Token: o.token,
		ControlPlaneOnly: o.controlPlaneOnly, NetSlot: o.script.netSlot, Expiry: o.expiry.options(), Log: log,
	})
	if err != nil {
		return err
	}
	startgc.Done()
	if err := o.announce(stdout, in.DataDir(), in.State(), func() { printBanner(stdout, o, in.DataDir(), in.State(), time.Since(t0)) }); err != nil {
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

func printBanner(w io.Writer, o upOptions, dir string, st datadir.State, took time.Duration) {
	fmt.Fprintf(w, "stratus %s is up (%s)\n", version, took.Round(time.Millisecond))
	fmt.Fprintf(w, "  %-12s %s (store: %s)\n", "data dir", dir, o.storeSpec)
	if st.CloudStack != nil {
		fmt.Fprintf(w, "  %-12s %-40s eval \"$(stratus env cloudstack)\"\n", "CloudStack", st.HTTPURL+"/client/api")
	}
	if st.GCE != nil {
		fmt.Fprintf(w, "  %-12s %-40s eval \"$(stratus env gcloud)\"\n", "GCE", st.HTTPURL+"/compute/v1/")
	}
	if st.Kubeconfig != "" {
		fmt.Fprintf(w, "  %-12s %-40s eval \"$(stratus env kubectl)\"\n", "Kubernetes", st.KubeURL)
	}
	if st.Marathon != nil {
		fmt.Fprintf(w, "  %-12s %-40s eval \"$(stratus env marathon)\"\n", "Marathon", st.Marathon.URL+"/v2/apps")
	}
	if st.Dashboard {
		fmt.Fprintf(w, "  %-12s %-40s log in as admin / password\n", "Dashboard", st.HTTPURL+"/client/")
	}
	fmt.Fprintf(w, "  %-12s %s\n", "Metrics", st.HTTPURL+"/metrics")
	if st.JoinToken != "" {
		fmt.Fprintf(w, "  %-12s stratus agent --server %s --token %s\n", "Join a node", st.KubeURL, st.JoinToken)
	}
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
	log.Debug("start-up memory released", "programPagesAdvised", r.PagedOut, "err", r.Err)
}
