package cloudprovider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stratus-cloud/stratus/internal/app"
	"github.com/stratus-cloud/stratus/internal/cloudinit"
	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// lbDescription marks the CloudStack load balancer rules this controller
// owns; the namespace/name of the Service follows it.
const lbDescription = "stratus: Kubernetes Service "

// LoadBalancers gives each Service of type LoadBalancer a CloudStack public
// address in its nodes' network, a load balancer rule per port (public
// port → node port) over the nodes' VMs and the firewall rule that opens
// the port, and sets status.loadBalancer.ingress; the rules' members follow
// the nodes, and a deleted Service's rules and address are released. It is
// an app.Component.
type LoadBalancers struct {
	o    Options
	cs   *csclient.Client
	log  *slog.Logger
	loop *app.Loop
}

var _ app.Component = (*LoadBalancers)(nil)

// NewLoadBalancers returns the controller; it calls CloudStack through
// cs, which is also o.CloudStack if that is unset.
func NewLoadBalancers(o Options, cs *csclient.Client) (*LoadBalancers, error) {
	if cs == nil {
		return nil, errors.New("cloudprovider: a CloudStack client is required")
	}
	if o.CloudStack == nil {
		o.CloudStack = cs
	}
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &LoadBalancers{o: o, cs: cs, log: o.Log.With("component", "cloud-lb-controller")}
	c.loop = &app.Loop{N: "cloud-lb-controller", Interval: o.Interval, Fn: c.Sync, Log: c.log}
	return c, nil
}

// Name implements app.Component.
func (c *LoadBalancers) Name() string { return "cloud-lb-controller" }

// Start begins the passes.
func (c *LoadBalancers) Start(ctx context.Context) error {
	return c.loop.Start(ctx)
}

// Stop ends them.
func (c *LoadBalancers) Stop(ctx context.Context) error {
	return c.loop.Stop(ctx)
}

// lbName is the name Kubernetes' cloud providers give a Service's load
// balancer: "a" and its UID without dashes, at most 32 characters.
func lbName(svc *corev1.Service) string {
	n := "a" + strings.ReplaceAll(string(svc.UID), "-", "")
	if len(n) > 32 {
		n = n[:32]
	}
	return n
}

// ruleName names the rule of one port: <lbName>-<protocol>-<port>.
func ruleName(svc *corev1.Service, p corev1.ServicePort) string {
	return fmt.Sprintf("%s-%s-%d", lbName(svc), strings.ToLower(string(p.Protocol)), p.Port)
}

// Sync makes one pass over the Services, nodes and rules.
func (c *LoadBalancers) Sync(ctx context.Context) error {
	svcs, err := c.o.Client.CoreV1().Services("").List(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return err
	}
	rules, err := c.cs.ListLoadBalancerRules(ctx, csclient.Params("listall", "true"))
	if err != nil {
		return err
	}
	byLB := map[string][]csclient.LoadBalancerRule{}
	for _, r := range rules {
		if strings.HasPrefix(r.Description, lbDescription) {
			lb, _, _ := strings.Cut(r.Name, "-")
			byLB[lb] = append(byLB[lb], r)
		}
	}
	var lbs []*corev1.Service
	for i := range svcs.Items {
		if s := &svcs.Items[i]; s.Spec.Type == corev1.ServiceTypeLoadBalancer && s.DeletionTimestamp == nil {
			lbs = append(lbs, s)
		}
	}
	var errs []error
	live := map[string]bool{}
	if len(lbs) > 0 {
		vms, netID, err := c.nodeVMs(ctx)
		if err != nil {
			return err
		}
		for _, s := range lbs {
			live[lbName(s)] = true
			if err := c.ensure(ctx, s, byLB[lbName(s)], vms, netID); err != nil {
				errs = append(errs, fmt.Errorf("service %s/%s: %w", s.Namespace, s.Name, err))
			}
		}
	}
	for lb, rs := range byLB {
		if !live[lb] {
			if err := c.release(ctx, rs); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// nodeVMs returns the VM ids of the CloudStack nodes that can take traffic
// (not shut down) and the network of the first.
func (c *LoadBalancers) nodeVMs(ctx context.Context) ([]string, string, error) {
	nodes, err := c.o.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return nil, "", err
	}
	var provs []string
	for i := range nodes.Items {
		n := &nodes.Items[i]
		if cloudinit.IsProviderID(n.Spec.ProviderID) && taintIndex(n) < 0 {
			provs = append(provs, n.Spec.ProviderID)
		}
	}
	if len(provs) == 0 {
		return nil, "", nil
	}
	vms, err := c.cs.ListVirtualMachines(ctx, csclient.Params("listall", "true"))
	if err != nil {
		return nil, "", err
	}
	byProvider := make(map[string]*csclient.VirtualMachine, len(vms))
	for i := range vms {
		byProvider[cloudinit.ProviderID(&vms[i])] = &vms[i]
	}
	var ids []string
	netID := ""
	for _, p := range provs {
		if vm := byProvider[p]; vm != nil {
			ids = append(ids, vm.ID)
		}
	}
	sort.Strings(ids)
	for _, id := range ids[:min(len(ids), 1)] {
		for _, vm := range vms {
			if vm.ID == id && len(vm.Nic) > 0 {
				netID = vm.Nic[0].NetworkID
			}
		}
	}
	return ids, netID, nil
}

// ensure brings one Service's address, rules, members and status in line.
func (c *LoadBalancers) ensure(ctx context.Context, svc *corev1.Service, have []csclient.LoadBalancerRule, vms []string, netID string) (err error) {
	cs := c.cs
	ipID, ip := "", ""
	if len(have) > 0 {
		ipID, ip = have[0].PublicIPID, have[0].PublicIP
	}
	if ipID == "" {
		if netID == "" {
			return nil // no CloudStack nodes yet: wait for some
		}
		var addr csclient.PublicIPAddress
		if err := cs.AsyncWait(ctx, "associateIpAddress", csclient.Params("networkid", netID), "ipaddress", &addr); err != nil {
			return err
		}
		ipID, ip = addr.ID, addr.IPAddress
		c.log.Info("public address acquired", "service", svc.Namespace+"/"+svc.Name, "ip", ip)
		// rules are how the next pass finds the address: one that got none
		// goes back at once rather than leak
		defer func() {
			if err != nil && !c.hasRules(ctx, ipID) {
				_ = cs.AsyncWait(context.WithoutCancel(ctx), "disassociateIpAddress", csclient.Params("id", ipID), "", nil)
			}
		}()
	}
	byName := map[string]csclient.LoadBalancerRule{}
	for _, r := range have {
		byName[r.Name] = r
	}
	want := map[string]bool{}
	for _, p := range svc.Spec.Ports {
		if p.NodePort == 0 {
			continue
		}
		name := ruleName(svc, p)
		want[name] = true
		r, ok := byName[name]
		if ok && int32(r.PrivatePort) != p.NodePort {
			if err := c.deleteRule(ctx, r); err != nil {
				return err
			}
			ok = false
		}
		if !ok {
			proto := strings.ToLower(string(p.Protocol))
			port := strconv.Itoa(int(p.Port))
			err = cs.AsyncWait(ctx, "createLoadBalancerRule", csclient.Params("name", name, "algorithm", "roundrobin",
				"publicipid", ipID, "publicport", port, "privateport", strconv.Itoa(int(p.NodePort)), "protocol", proto,
				"openfirewall", "false", "description", lbDescription+svc.Namespace+"/"+svc.Name), "loadbalancer", &r)
			if err != nil {
				return err
			}
			if err := cs.AsyncWait(ctx, "createFirewallRule", csclient.Params("ipaddressid", ipID, "protocol", proto,
				"startport", port, "endport", port, "cidrlist", "0.0.0.0/0"), "", nil); err != nil {
				return err
			}
		}
		if err := c.members(ctx, r.ID, vms); err != nil {
			return err
		}
	}
	for _, r := range have {
		if !want[r.Name] {
			if err := c.deleteRule(ctx, r); err != nil {
				return err
			}
		}
	}
	ing := []corev1.LoadBalancerIngress{{IP: ip}}
	if len(svc.Status.LoadBalancer.Ingress) == 1 && svc.Status.LoadBalancer.Ingress[0].IP == ip {
		return nil
	}
	upd := svc.DeepCopy()
	upd.Status.LoadBalancer.Ingress = ing
	_, err = c.o.Client.CoreV1().Services(svc.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{})
	return err
}

// members makes the rule's VMs the given ones.
func (c *LoadBalancers) members(ctx context.Context, ruleID string, vms []string) error {
	cur, err := c.cs.ListLoadBalancerRuleInstances(ctx, csclient.Params("id", ruleID, "listall", "true"))
	if err != nil {
		return err
	}
	has := map[string]bool{}
	for _, vm := range cur {
		has[vm.ID] = true
	}
	want := map[string]bool{}
	var add, remove []string
	for _, id := range vms {
		want[id] = true
		if !has[id] {
			add = append(add, id)
		}
	}
	for id := range has {
		if !want[id] {
			remove = append(remove, id)
		}
	}
	if len(add) > 0 {
		if err := c.cs.AsyncWait(ctx, "assignToLoadBalancerRule", csclient.Params("id", ruleID, "virtualmachineids", strings.Join(add, ",")), "", nil); err != nil {
			return err
		}
	}
	if len(remove) > 0 {
		return c.cs.AsyncWait(ctx, "removeFromLoadBalancerRule", csclient.Params("id", ruleID, "virtualmachineids", strings.Join(remove, ",")), "", nil)
	}
	return nil
}

// deleteRule deletes a rule and the firewall rule opening its port.
func (c *LoadBalancers) deleteRule(ctx context.Context, r csclient.LoadBalancerRule) error {
	if err := c.cs.AsyncWait(ctx, "deleteLoadBalancerRule", csclient.Params("id", r.ID), "", nil); err != nil && !csclient.IsNotFound(err) {
		return err
	}
	var fw struct {
		Rules []struct {
			ID        string       `json:"id"`
			StartPort csclient.Int `json:"startport"`
			Protocol  string       `json:"protocol"`
		} `json:"firewallrule"`
	}
	if err := c.cs.Do(ctx, "listFirewallRules", csclient.Params("ipaddressid", r.PublicIPID, "listall", "true"), &fw); err != nil {
		return err
	}
	for _, f := range fw.Rules {
		if f.StartPort == r.PublicPort && strings.EqualFold(f.Protocol, r.Protocol) {
			if err := c.cs.AsyncWait(ctx, "deleteFirewallRule", csclient.Params("id", f.ID), "", nil); err != nil && !csclient.IsNotFound(err) {
				return err
			}
		}
	}
	return nil
}

// release deletes a gone Service's rules and gives its address back.
func (c *LoadBalancers) release(ctx context.Context, rs []csclient.LoadBalancerRule) error {
	for _, r := range rs {
		if err := c.deleteRule(ctx, r); err != nil {
			return err
		}
	}
	err := c.cs.AsyncWait(ctx, "disassociateIpAddress", csclient.Params("id", rs[0].PublicIPID), "", nil)
	if err != nil && !csclient.IsNotFound(err) {
		return err
	}
	c.log.Info("public address released", "ip", rs[0].PublicIP, "service", strings.TrimPrefix(rs[0].Description, lbDescription))
	return nil
}

// hasRules reports whether an address has load balancer rules (true when
// it cannot tell, so that nothing is released by mistake).
func (c *LoadBalancers) hasRules(ctx context.Context, ipID string) bool {
	rs, err := c.cs.ListLoadBalancerRules(context.WithoutCancel(ctx), csclient.Params("publicipid", ipID, "listall", "true"))
	return err != nil || len(rs) > 0
}
