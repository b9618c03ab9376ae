package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratus-cloud/stratus/internal/fault"
	"github.com/stratus-cloud/stratus/internal/instance"
)

func newFaultCmd() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "fault add|list|rm",
		Short: "Inject faults into the running stratus's APIs and simulated cloud",
		Long: `Inject faults into the running stratus, and list and remove them. Kinds:

  kube-api          Kubernetes API requests matched by --verb, --resource,
                    --namespace, --name (and --user-agent) get --status (with
                    --retry-after), --latency, or (watches) --disconnect-after
  gce-api           GCE API requests matched by --method, --path and
                    --account (its project) get --status or --latency
  cloudstack        the simulator's agent --command answers --value
                    ("result:fail", "result:fault", "wait:500"), at a --host,
                    --vm, --zone or --account's VMs (configureSimulator's rules)
  host-down         --host stops answering pings and goes Down
  vm-start-failure  starting --vm (or any VM in --zone, of --account, or any
                    VM) fails
  node-down         the simulated nodes --name or --selector stop (heartbeats,
                    containers) and turn Ready Unknown; removing the fault
                    restarts them
  node-gone         as node-down, then the Node objects are deleted (as when
                    the machine is gone) and the pod GC deletes their pods
  node-pressure     the nodes report --condition (MemoryPressure,
                    DiskPressure, PIDPressure) True and get the node
                    lifecycle controller's node.kubernetes.io/*-pressure taint
  pod-crash         containers of pods matched by --namespace, --name (a
                    pod's name or the start of its generated name) and
                    --selector (labels) exit at once with --exit-code
                    (default 1): a CrashLoopBackOff
  pod-slow-start    containers of matching pods take --latency to start
  pod-image-pull    starting them fails as a failed image pull (ErrImagePull)
                    (pod faults act on the sim runtime's pods)

--count, --probability and --duration limit the HTTP kinds (cloud and pod
kinds take --count: container starts for pods). The same is POST/GET/DELETE
/stratus/v1/faults[/ID] with the bearer token in the data dir's admin-token
file. Faults are kept in the store: a restart keeps them, a reset removes
them all.`,
		Example: `  stratus fault add kube-api --verb list --resource pods --status 429 --retry-after 1 --count 3
  stratus fault add kube-api --verb watch --resource configmaps --disconnect-after 5s
  stratus fault add gce-api --method POST --path /instances --status 503 --duration 1m
  stratus fault add host-down --host c0-h0
  stratus fault add vm-start-failure --zone Sandbox-simulator
  stratus fault add node-down --name sim-node-0
  stratus fault add node-pressure --selector pool=a --condition MemoryPressure
  stratus fault add vm-start-failure --account alice
  stratus fault add pod-crash --namespace default --name web --exit-code 2
  stratus fault list
  stratus fault rm kube-api-1a2b3c4d`,
	}
	cmd.PersistentFlags().StringVar(&dataDir, "data-dir", defaultDataDir(), "data directory of the running stratus")

	var f instance.Fault
	var latency, disconnect, duration time.Duration
	add := &cobra.Command{
		Use:   "add KIND",
		Short: "Add a fault (kinds: " + strings.Join(instance.FaultKinds(), ", ") + ")",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAdminClient(dataDir)
			if err != nil {
				return err
			}
			f.Kind = args[0]
			f.Latency, f.DisconnectAfter, f.Duration = fault.Duration(latency), fault.Duration(disconnect), fault.Duration(duration)
			body, err := json.Marshal(f)
			if err != nil {
				return err
			}
			var out instance.Fault
			if err := c.send(cmd.Context(), http.MethodPost, "faults", body, &out); err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), out.ID)
			return err
		},
	}
	fl := add.Flags()
	fl.StringVar(&f.Verb, "verb", "", "kube-api: get, list, watch, create, update, patch, delete, deletecollection (default any)")
	fl.StringVar(&f.Resource, "resource", "", "kube-api: resource, e.g. pods or pods/status (default any)")
	fl.StringVar(&f.Namespace, "namespace", "", "kube-api and pod kinds: namespace (default any)")
	fl.StringVar(&f.Name, "name", "", "kube-api: object name (default any); node kinds: the node; pod kinds: a pod's name or the start of its generated name")
	fl.StringVarP(&f.Selector, "selector", "l", "", "pod and node kinds: a label selector (app=web,tier!=db)")
	fl.StringVar(&f.Account, "account", "", "cloud kinds: only the account's VMs; gce-api: only requests about its project (name or id)")
	fl.StringSliceVar(&f.Conditions, "condition", nil, "node-pressure: MemoryPressure, DiskPressure or PIDPressure (repeat or comma-separate)")
	fl.IntVar(&f.ExitCode, "exit-code", 0, "pod-crash: the containers' exit code (default 1)")
	fl.StringVar(&f.UserAgent, "user-agent", "", "HTTP kinds: only clients whose User-Agent contains this")
	fl.StringVar(&f.Method, "method", "", "gce-api: HTTP method (default any)")
	fl.StringVar(&f.Path, "path", "", "gce-api: a part of the request path (default any)")
	fl.IntVar(&f.Status, "status", 0, "HTTP kinds: answer this error status (429, 500, 409, 503, …)")
	fl.IntVar(&f.RetryAfter, "retry-after", 0, "HTTP kinds: Retry-After seconds with --status")
	fl.DurationVar(&latency, "latency", 0, "HTTP kinds: delay each matching request; pod-slow-start: the start delay")
	fl.DurationVar(&disconnect, "disconnect-after", 0, "kube-api: end matching watches after this long")
	fl.IntVar(&f.Count, "count", 0, "hit this many requests (or agent commands), then stop (default: no limit)")
	fl.Float64Var(&f.Probability, "probability", 0, "HTTP kinds: chance to hit a matching request (default 1)")
	fl.DurationVar(&duration, "duration", 0, "HTTP kinds: remove the fault after this long (default: until removed)")
	fl.StringVar(&f.Command, "command", "", "cloudstack: agent command (StartCommand, StopCommand, RebootCommand, MigrateCommand, PingCommand, …)")
	fl.StringVar(&f.Value, "value", "", `cloudstack: what it answers, e.g. "result:fail" or "result:fault;wait:500"`)
	fl.StringVar(&f.Host, "host", "", "cloud kinds: host name or id")
	fl.StringVar(&f.VM, "vm", "", "cloud kinds: VM name or id")
	fl.StringVar(&f.Zone, "zone", "", "cloud kinds: zone name or id")

	var all bool
	rm := &cobra.Command{
		Use:     "rm ID…|--all",
		Aliases: []string{"delete"},
		Short:   "Remove faults (a host taken down comes back up)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return fmt.Errorf("give fault ids or --all")
			}
			c, err := newAdminClient(dataDir)
			if err != nil {
				return err
			}
			if all {
				return c.do(cmd.Context(), http.MethodDelete, "faults", nil)
			}
			for _, id := range args {
				if err := c.do(cmd.Context(), http.MethodDelete, "faults/"+url.PathEscape(id), nil); err != nil {
					return err
				}
			}
			return nil
		},
	}
	rm.Flags().BoolVar(&all, "all", false, "remove every fault")

	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the faults",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newAdminClient(dataDir)
			if err != nil {
				return err
			}
			var a struct {
				Faults []instance.Fault `json:"faults"`
			}
			if err := c.do(cmd.Context(), http.MethodGet, "faults", &a); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tKIND\tMATCH\tEFFECT\tHITS")
			for _, f := range a.Faults {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", f.ID, f.Kind, describeMatch(f), describeEffect(f), f.Hits)
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(add, list, rm)
	return cmd
}

func describeMatch(f instance.Fault) string {
	var p []string
	for _, kv := range [][2]string{{"verb", f.Verb}, {"resource", f.Resource}, {"namespace", f.Namespace}, {"name", f.Name},
		{"method", f.Method}, {"path", f.Path}, {"user-agent", f.UserAgent}, {"command", f.Command}, {"host", f.Host}, {"vm", f.VM}, {"zone", f.Zone},
		{"account", f.Account}, {"project", f.Project}, {"selector", f.Selector}, {"nodes", strings.Join(f.Nodes, " ")}} {
		if kv[1] != "" {
			p = append(p, kv[0]+"="+kv[1])
		}
	}
	if len(p) == 0 {
		return "*"
	}
	return strings.Join(p, ",")
}

func describeEffect(f instance.Fault) string {
	var p []string
	if f.Status != 0 {
		p = append(p, fmt.Sprint("status ", f.Status))
	}
	if f.RetryAfter != 0 {
		p = append(p, fmt.Sprintf("retry-after %ds", f.RetryAfter))
	}
	if f.Latency != 0 {
		p = append(p, "latency "+time.Duration(f.Latency).String())
	}
	if f.DisconnectAfter != 0 {
		p = append(p, "disconnect after "+time.Duration(f.DisconnectAfter).String())
	}
	if f.ExitCode != 0 {
		p = append(p, fmt.Sprint("exit code ", f.ExitCode))
	}
	switch f.Kind {
	case instance.FaultPodImagePull:
		p = append(p, "ErrImagePull")
	case instance.FaultNodeDown:
		p = append(p, "Ready Unknown")
	case instance.FaultNodeGone:
		p = append(p, "deleted")
	case instance.FaultNodePressure:
		p = append(p, strings.Join(f.Conditions, " "))
	}
	if f.Value != "" {
		p = append(p, f.Value)
	}
	if f.Count != 0 {
		p = append(p, fmt.Sprint("count ", f.Count))
	}
	if f.Remaining != 0 {
		p = append(p, fmt.Sprint(f.Remaining, " left"))
	}
	if f.Probability != 0 {
		p = append(p, fmt.Sprint("p ", f.Probability))
	}
	if f.Duration != 0 {
		p = append(p, "for "+time.Duration(f.Duration).String())
	}
	return strings.Join(p, ", ")
}
