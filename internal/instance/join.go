package instance

import (
	"context"
	"net/http"

	"k8s.io/client-go/kubernetes"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/app"
	"github.com/stratus-cloud/stratus/internal/cloud"
	"github.com/stratus-cloud/stratus/internal/cloudinit"
	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
	"github.com/stratus-cloud/stratus/internal/inproc"
	"github.com/stratus-cloud/stratus/internal/kube/apiserver"
	"github.com/stratus-cloud/stratus/internal/kube/cloudprovider"
	"github.com/stratus-cloud/stratus/internal/leader"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
)

// buildJoin adds the join of the two layers: the pool that runs the nodes
// of VMs whose user data joins this cluster (internal/cloudinit) and the
// cloud controller (internal/kube/cloudprovider: nodes and LoadBalancer
// Services). Both are clients of
// the CloudStack API, which they call in-process with the root admin's
// keys, as the GCE gateway does.
func (w *wiring) buildJoin(sm *cloud.Sim, dc *cloud.Datacenter, cs http.Handler, kc kubernetes.Interface, srv *apiserver.Server) {
	var group *app.Group
	// Servers sharing a store take turns, as with the controller manager:
	// one server's pool runs the joined nodes, one controller follows.
	w.second = append(w.second, leader.New(leader.Options{Client: kc, Name: "stratus-cloud-controller-manager", Identity: w.identity(), Log: w.log}, app.Func{
		N: "cloud-join",
		StartFn: func(ctx context.Context) error {
			key, secret, err := sm.AdminKeys(ctx)
			if err != nil {
				return err
			}
			csc := csclient.New("http://stratus.inproc/client/api", key, secret, inproc.Client(cs))
			pool, err := agent.NewSimPool(agent.SimPoolOptions{Client: kc, Runtime: w.simRuntime(sim.Options{Ports: w.claim != nil}),
				Prefix: "vm-", Certs: localCerts(srv), Log: w.log.With("component", "joined-nodes")})
			if err != nil {
				return err
			}
			f, err := cloudinit.New(cloudinit.Options{CloudStack: csc, Pool: pool, Console: sm, Changed: sm.Changed, Servers: []string{srv.URL()}, Token: srv.JoinToken(), Log: w.log, Metrics: w.reg})
			if err != nil {
				return err
			}
			nc, err := cloudprovider.NewNodes(cloudprovider.Options{Client: kc, CloudStack: csc, Log: w.log})
			if err != nil {
				return err
			}
			lb, err := cloudprovider.NewLoadBalancers(cloudprovider.Options{Client: kc, Log: w.log}, csc)
			if err != nil {
				return err
			}
			var groups []cloudprovider.NodeGroup // the data center file's
			for _, g := range dc.NodeGroups {
				groups = append(groups, cloudprovider.NodeGroup(g))
			}
			as, err := cloudprovider.NewAutoscaler(cloudprovider.Options{Client: kc, Log: w.log}, csc,
				"stratus agent --server "+srv.URL()+" --token "+srv.JoinToken(), 0, groups...)
			if err != nil {
				return err
			}
			g := &app.Group{Log: w.log}
			g.Add(pool, f, nc, lb, as)
			if err := g.Start(ctx); err != nil { // all or none
				return err
			}
			group = g
			return nil
		},
		StopFn: func(ctx context.Context) error {
			if group == nil {
				return nil
			}
			err := group.Stop(ctx)
			group = nil // a server elected again starts afresh
			return err
		},
	}))
}
