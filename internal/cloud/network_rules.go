package cloud

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// RulePurpose is what a network rule does. CloudStack keeps port
// forwarding, static NAT (IP forwarding), load balancing and firewall rules
// in one table with a purpose, and so does the simulator: the port ranges
// of one public address are checked against each other whatever they do.
type RulePurpose string

// Rule purposes.
const (
	PurposeFirewall       RulePurpose = "Firewall"
	PurposePortForwarding RulePurpose = "PortForwarding"
	PurposeStaticNAT      RulePurpose = "StaticNat"
	PurposeLoadBalancing  RulePurpose = "LoadBalancing"
)

// Traffic directions of firewall rules.
const (
	TrafficIngress = "Ingress"
	TrafficEgress  = "Egress"
)

// NetRule is a network rule on a public address (ingress firewall, port
// forwarding, IP forwarding, load balancing) or on a guest network (egress
// firewall).
type NetRule struct {
	ID      string      `json:"id"`
	Seq     int64       `json:"seq"`
	Purpose RulePurpose `json:"purpose"`
	Traffic string      `json:"traffic"`
	// PublicIPID is the address of an ingress rule; NetworkID the guest
	// network the rule belongs to.
	PublicIPID string `json:"publicIpId,omitempty"`
	NetworkID  string `json:"networkId,omitempty"`
	// Protocol is lower case: tcp, udp, icmp, all, tcp-proxy, ssl.
	Protocol string `json:"protocol"`
	// StartPort and EndPort are the public port range (0: all ports).
	StartPort int `json:"startPort,omitempty"`
	EndPort   int `json:"endPort,omitempty"`
	// PrivatePort and PrivateEndPort are where port forwarding and load
	// balancing send the traffic.
	PrivatePort    int  `json:"privatePort,omitempty"`
	PrivateEndPort int  `json:"privateEndPort,omitempty"`
	ICMPType       *int `json:"icmpType,omitempty"`
	ICMPCode       *int `json:"icmpCode,omitempty"`
	// CIDRs are the sources allowed (egress: the guest addresses), DestCIDRs
	// an egress rule's destinations.
	CIDRs     []string `json:"cidrs,omitempty"`
	DestCIDRs []string `json:"destCidrs,omitempty"`
	// VMID and VMIP are a port forwarding rule's target (or, for IP
	// forwarding, the static NAT's VM).
	VMID    string `json:"vmId,omitempty"`
	VMIP    string `json:"vmIp,omitempty"`
	State   string `json:"state"`
	Display bool   `json:"display"`
	// RelatedID is the rule a firewall rule was opened for (openfirewall);
	// it goes when that rule goes.
	RelatedID string `json:"relatedId,omitempty"`
	// Load balancer rules: a name, an algorithm, members and policies.
	Name         string     `json:"name,omitempty"`
	Description  string     `json:"description,omitempty"`
	Algorithm    string     `json:"algorithm,omitempty"`
	Members      []LBMember `json:"members,omitempty"`
	Stickiness   []LBPolicy `json:"stickiness,omitempty"`
	HealthChecks []LBPolicy `json:"healthChecks,omitempty"`
	Created      time.Time  `json:"created"`
	Owner
}

// HasPorts reports whether the rule names a port range (tcp, udp and the
// load balancer protocols do; icmp and all do not).
func (r *NetRule) HasPorts() bool { return r.StartPort > 0 }

// LBMember is a VM (and the address of its NIC) behind a load balancer.
type LBMember struct {
	VMID string `json:"vmId"`
	IP   string `json:"ip"`
}

// LBPolicy is a load balancer's stickiness or health check policy.
type LBPolicy struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	// Method and Params are a stickiness policy's (LbCookie, AppCookie,
	// SourceBased).
	Method  string            `json:"method,omitempty"`
	Params  map[string]string `json:"params,omitempty"`
	Display bool              `json:"display"`
	// Health checks: the ping path and timings.
	PingPath           string `json:"pingPath,omitempty"`
	ResponseTime       int    `json:"responseTime,omitempty"`
	Interval           int    `json:"interval,omitempty"`
	HealthyThreshold   int    `json:"healthyThreshold,omitempty"`
	UnhealthyThreshold int    `json:"unhealthyThreshold,omitempty"`
	State              string `json:"state"`
}

// ruleIndex keeps the derived lookups of network rules in step with the
// rules table: rules by public address and by VM, and load balancer
// policies by id. Maintained in the table's onChange (under mu).
type ruleIndex struct {
	byIP     map[string]map[string]*NetRule
	byVM     map[string]map[string]*NetRule
	policies map[string]string // policy id → rule id
	// staticNAT maps a VM to the public address static NAT gives it.
	staticNAT map[string]string
}

func newRuleIndex() *ruleIndex {
	return &ruleIndex{byIP: map[string]map[string]*NetRule{}, byVM: map[string]map[string]*NetRule{},
		policies: map[string]string{}, staticNAT: map[string]string{}}
}

func addTo(m map[string]map[string]*NetRule, k string, r *NetRule) {
	if k == "" {
		return
	}
	g := m[k]
	if g == nil {
		g = map[string]*NetRule{}
		m[k] = g
	}
	g[r.ID] = r
}

func dropFrom(m map[string]map[string]*NetRule, k, id string) {
	if g := m[k]; g != nil {
		delete(g, id)
		if len(g) == 0 {
			delete(m, k)
		}
	}
}

func (ri *ruleIndex) ruleChanged(old, n *NetRule) {
	if old != nil {
		dropFrom(ri.byIP, old.PublicIPID, old.ID)
		dropFrom(ri.byVM, old.VMID, old.ID)
		for _, m := range old.Members {
			dropFrom(ri.byVM, m.VMID, old.ID)
		}
		for _, p := range append(slices.Clip(old.Stickiness), old.HealthChecks...) {
			delete(ri.policies, p.ID)
		}
	}
	if n != nil {
		addTo(ri.byIP, n.PublicIPID, n)
		addTo(ri.byVM, n.VMID, n)
		for _, m := range n.Members {
			addTo(ri.byVM, m.VMID, n)
		}
		for _, p := range append(slices.Clip(n.Stickiness), n.HealthChecks...) {
			ri.policies[p.ID] = n.ID
		}
	}
}

func (ri *ruleIndex) ipChanged(old, n *PublicIP) {
	if old != nil && old.VMID != "" && ri.staticNAT[old.VMID] == old.ID {
		delete(ri.staticNAT, old.VMID)
	}
	if n != nil && n.StaticNAT && n.VMID != "" {
		ri.staticNAT[n.VMID] = n.ID
	}
}

// sortedRules returns a group's rules in creation order.
func sortedRules(g map[string]*NetRule) []*NetRule {
	out := make([]*NetRule, 0, len(g))
	for _, r := range g {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *NetRule) int {
		if a.Seq != b.Seq {
			return int(a.Seq - b.Seq)
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// NetRuleSpec asks for a network rule.
type NetRuleSpec struct {
	Purpose RulePurpose
	// Traffic is Ingress (default) or Egress (firewall rules only).
	Traffic string
	// PublicIPID names the address of an ingress rule; NetworkID the guest
	// network (required for egress rules; for ingress rules it associates
	// an address that has no network yet).
	PublicIPID string
	NetworkID  string
	// VMID and VMIP are a port forwarding rule's target (VMIP defaults to
	// the VM's address on the network).
	VMID, VMIP string
	Protocol   string
	// StartPort/EndPort are the public range (EndPort defaults to
	// StartPort); PrivatePort/PrivateEndPort the private one.
	StartPort, EndPort          int
	PrivatePort, PrivateEndPort int
	ICMPType, ICMPCode          *int
	CIDRs, DestCIDRs            []string
	// OpenFirewall also opens the public port range in the address's
	// firewall (port forwarding, IP forwarding, load balancing).
	OpenFirewall bool
	// Display defaults to true.
	Display *bool
	// Name, Description and Algorithm are a load balancer rule's.
	Name, Description, Algorithm string
	// Cmd names the API command class for the job.
	Cmd string
}

// ruleNoun is how CloudStack's messages name a rule of a purpose.
func ruleNoun(p RulePurpose) string {
	switch p {
	case PurposePortForwarding:
		return "port forwarding rule"
	case PurposeStaticNAT:
		return "static nat rule"
	case PurposeLoadBalancing:
		return "load balancer rule"
	}
	return "firewall rule"
}

// validPort reports whether n is a TCP/UDP port.
func validPort(n int) bool { return n >= 1 && n <= 65535 }

// normCIDRs checks a CIDR list; empty means def.
func normCIDRs(in []string, def string) ([]string, error) {
	if len(in) == 0 {
		if def == "" {
			return nil, nil
		}
		return []string{def}, nil
	}
	out := make([]string, 0, len(in))
	for _, c := range in {
		c = strings.TrimSpace(c)
		p, err := netip.ParsePrefix(c)
		if err != nil || !p.Addr().Is4() {
			return nil, Invalid("Invalid cidr %s", c)
		}
		out = append(out, c)
	}
	return out, nil
}

// CreateRule creates a network rule. Like CloudStack's create commands it
// answers with the rule and a job that is already complete: the rule
// exists (Active) once the call returns.
func (s *Sim) CreateRule(ctx context.Context, c Caller, spec NetRuleSpec) (*NetRule, *Job, error) {
	var out *NetRule
	var job *Job
	err := s.write(func(ix *index) error {
		b := &batch{}
		r, err := ix.newRule(b, s, c, spec)
		if err != nil {
			return err
		}
		out = r
		job = s.newJobVal(c, r.Owner, JobSpec{Cmd: spec.Cmd, InstanceType: KindFirewallRule, InstanceID: r.ID})
		job.complete(s.clock.Now().UTC(), KindFirewallRule, r)
		put(b, ix.jobs, job)
		return s.commit(ctx, b)
	})
	return out, job, err
}

// newRule validates spec and adds the rule (and the firewall rule it
// opens) to b.
func (ix *index) newRule(b *batch, s *Sim, c Caller, spec NetRuleSpec) (*NetRule, error) {
	r := &NetRule{ID: newID(), Purpose: spec.Purpose, Traffic: orDefault(spec.Traffic, TrafficIngress),
		Protocol: strings.ToLower(strings.TrimSpace(spec.Protocol)), StartPort: spec.StartPort, EndPort: spec.EndPort,
		PrivatePort: spec.PrivatePort, PrivateEndPort: spec.PrivateEndPort, ICMPType: spec.ICMPType, ICMPCode: spec.ICMPCode,
		State: "Active", Display: spec.Display == nil || *spec.Display, Name: spec.Name, Description: spec.Description,
		Algorithm: strings.ToLower(spec.Algorithm), Created: s.clock.Now().UTC()}
	noun := ruleNoun(spec.Purpose)
	if err := r.checkProtocol(); err != nil {
		return nil, err
	}
	var err error
	if r.Traffic == TrafficEgress {
		if r.Purpose != PurposeFirewall {
			return nil, Invalid("Egress rules can only be firewall rules")
		}
		n, ok := ix.networks.get(spec.NetworkID)
		if !ok || n.System || n.Shared || !ix.canAccess(c, n.Owner) {
			return nil, notFound(KindNetwork, spec.NetworkID)
		}
		if n.Type != "Isolated" {
			return nil, Invalid("Egress firewall rules are not supported on the %s network %s", n.Type, n.Name)
		}
		r.NetworkID, r.Owner = n.ID, n.Owner
		if r.CIDRs, err = normCIDRs(spec.CIDRs, n.CIDR); err != nil {
			return nil, err
		}
		if r.DestCIDRs, err = normCIDRs(spec.DestCIDRs, ""); err != nil {
			return nil, err
		}
		for _, x := range ix.rules.all() {
			if x.Traffic == TrafficEgress && x.NetworkID == n.ID && r.conflicts(x) && slices.Equal(x.CIDRs, r.CIDRs) && slices.Equal(x.DestCIDRs, r.DestCIDRs) {
				return nil, conflictError(r, x)
			}
		}
	} else {
		ip, err := ix.publicIPFor(c, spec.PublicIPID)
		if err != nil {
			return nil, err
		}
		r.PublicIPID, r.Owner = ip.ID, ip.Owner
		if err := ix.ruleNetwork(b, c, r, ip, spec.NetworkID, noun); err != nil {
			return nil, err
		}
		switch {
		case r.Purpose == PurposeStaticNAT && !ip.StaticNAT:
			return nil, Errorf(CodeNetworkRuleConflict, CSCloudRuntime, "Can't do static nat on ip address: %s", ip.Address)
		case ip.StaticNAT && (r.Purpose == PurposePortForwarding || r.Purpose == PurposeLoadBalancing):
			return nil, Errorf(CodeNetworkRuleConflict, CSCloudRuntime, "Unable to create %s; ip id=%s has static nat enabled", noun, ip.ID)
		}
		if r.CIDRs, err = normCIDRs(spec.CIDRs, ""); err != nil {
			return nil, err
		}
		if r.Purpose == PurposeFirewall && len(r.CIDRs) == 0 {
			r.CIDRs = []string{"0.0.0.0/0"}
		}
		if r.Purpose == PurposeStaticNAT {
			r.VMID, r.VMIP = ip.VMID, ip.VMIP
		}
		if r.Purpose == PurposePortForwarding {
			if err := ix.ruleTarget(c, r, spec.VMID, spec.VMIP, ip); err != nil {
				return nil, err
			}
		}
		for _, x := range sortedRules(ix.ruleIdx.byIP[ip.ID]) {
			if r.conflictsOnIP(x) {
				return nil, conflictError(r, x)
			}
		}
	}
	if r.Purpose == PurposeLoadBalancing {
		if r.Name == "" {
			return nil, Invalid("Unable to execute API command createloadbalancerrule due to missing parameter name")
		}
		switch r.Algorithm {
		case "source", "roundrobin", "leastconn":
		default:
			return nil, Invalid("Invalid algorithm: %s", spec.Algorithm)
		}
		for _, x := range ix.ruleIdx.byIP[r.PublicIPID] {
			if x.Purpose == PurposeLoadBalancing && strings.EqualFold(x.Name, r.Name) {
				return nil, Invalid("Load balancer rule with name %s already exists for the ip address", r.Name)
			}
		}
	}
	r.Seq = ix.nextSeq()
	put(b, ix.rules, r)
	ix.event(b, s, r.Owner, c, ruleEvent(r.Purpose, r.Traffic, "ADD"), "Created "+noun+" "+r.ID, r.ID, KindFirewallRule)
	if spec.OpenFirewall && r.Purpose != PurposeFirewall {
		fw := &NetRule{ID: newID(), Seq: ix.nextSeq(), Purpose: PurposeFirewall, Traffic: TrafficIngress, PublicIPID: r.PublicIPID,
			NetworkID: r.NetworkID, Protocol: r.Protocol, StartPort: r.StartPort, EndPort: r.EndPort, CIDRs: r.CIDRs,
			State: "Active", Display: true, RelatedID: r.ID, Created: r.Created, Owner: r.Owner}
		if fw.Protocol == "tcp-proxy" || fw.Protocol == "ssl" {
			fw.Protocol = "tcp"
		}
		if len(fw.CIDRs) == 0 {
			fw.CIDRs = []string{"0.0.0.0/0"}
		}
		put(b, ix.rules, fw)
	}
	return r, nil
}

// checkProtocol checks the protocol and port/ICMP fields against the
// rule's purpose, and fills in the defaults (end ports).
func (r *NetRule) checkProtocol() error {
	switch r.Purpose {
	case PurposePortForwarding, PurposeStaticNAT:
		if r.Protocol != "tcp" && r.Protocol != "udp" {
			return Invalid("Invalid protocol %s for %s; valid values are TCP and UDP", r.Protocol, ruleNoun(r.Purpose))
		}
	case PurposeLoadBalancing:
		switch r.Protocol {
		case "":
			r.Protocol = "tcp"
		case "tcp", "udp", "tcp-proxy", "ssl":
		default:
			return Invalid("Invalid protocol %s for load balancer rule; valid values are tcp, udp, tcp-proxy and ssl", r.Protocol)
		}
	default:
		switch r.Protocol {
		case "tcp", "udp", "icmp", "all":
		default:
			return Invalid("Invalid protocol %s", r.Protocol)
		}
	}
	if r.Protocol == "icmp" {
		if r.StartPort != 0 || r.EndPort != 0 {
			return Invalid("Can't specify start/end port when protocol is ICMP")
		}
		return nil
	}
	if r.ICMPType != nil || r.ICMPCode != nil {
		return Invalid("Can specify icmpCode and icmpType for ICMP protocol only")
	}
	if r.Protocol == "all" {
		if r.StartPort != 0 || r.EndPort != 0 {
			return Invalid("Can specify start/end port only for TCP and UDP protocols")
		}
		return nil
	}
	if r.StartPort == 0 && r.EndPort == 0 && r.Purpose == PurposeFirewall {
		return nil // every port
	}
	if r.EndPort == 0 {
		r.EndPort = r.StartPort
	}
	if !validPort(r.StartPort) || !validPort(r.EndPort) || r.StartPort > r.EndPort {
		return Invalid("Invalid port range %d-%d", r.StartPort, r.EndPort)
	}
	if r.Purpose == PurposePortForwarding || r.Purpose == PurposeLoadBalancing {
		if r.PrivateEndPort == 0 {
			r.PrivateEndPort = r.PrivatePort + (r.EndPort - r.StartPort)
		}
		if !validPort(r.PrivatePort) || !validPort(r.PrivateEndPort) || r.PrivatePort > r.PrivateEndPort {
			return Invalid("Invalid private port range %d-%d", r.PrivatePort, r.PrivateEndPort)
		}
		if r.PrivateEndPort-r.PrivatePort != r.EndPort-r.StartPort {
			return Invalid("Private port range and public port range must be of the same size: %d-%d, %d-%d",
				r.StartPort, r.EndPort, r.PrivatePort, r.PrivateEndPort)
		}
	}
	return nil
}

// ruleNetwork puts an ingress rule in the address's guest network,
// associating the address with networkID first when it has none.
func (ix *index) ruleNetwork(b *batch, c Caller, r *NetRule, ip *PublicIP, networkID, noun string) error {
	if ip.NetworkID != "" {
		if networkID != "" && networkID != ip.NetworkID {
			return Invalid("Unable to create %s; ip id=%s is associated with network id=%s", noun, ip.ID, ip.NetworkID)
		}
		r.NetworkID = ip.NetworkID
		return nil
	}
	if networkID == "" {
		if r.Purpose == PurposeFirewall || r.Purpose == PurposeStaticNAT {
			return nil
		}
		return Invalid("Unable to create %s; ip id=%s is not associated with any network", noun, ip.ID)
	}
	n, ok := ix.networks.get(networkID)
	if !ok || n.System || !ix.canAccess(c, n.Owner) {
		return notFound(KindNetwork, networkID)
	}
	if n.ZoneID != ip.ZoneID {
		return Invalid("Network id=%s is not in the zone of ip address %s", n.ID, ip.Address)
	}
	ni := *ip
	ni.NetworkID = n.ID
	put(b, ix.publicIPs, &ni)
	r.NetworkID = n.ID
	return nil
}

// ruleTarget resolves a port forwarding rule's VM and its address on the
// rule's network.
func (ix *index) ruleTarget(c Caller, r *NetRule, vmID, vmIP string, ip *PublicIP) error {
	vm, ok := ix.vms.get(vmID)
	if !ok || !ix.canAccess(c, vm.Owner) || vm.State == VMDestroyed || vm.State == VMExpunging {
		return Invalid("Unable to create port forwarding rule on address %s, invalid virtual machine id specified (%s).", ip.Address, vmID)
	}
	for _, nic := range vm.NICs {
		if nic.NetworkID != r.NetworkID {
			continue
		}
		r.VMID, r.VMIP = vm.ID, nic.IP
		if vmIP == "" || vmIP == nic.IP {
			return nil
		}
		for _, sec := range ix.secondaryIPs.byGroup(nic.ID) {
			if sec.IP == vmIP {
				r.VMIP = vmIP
				return nil
			}
		}
		return Invalid("Vm ip %s is not associated with the nic of vm %s", vmIP, vm.Name)
	}
	return Invalid("Unable to create port forwarding rule: VM %s has no NIC in the network of ip address %s", vm.Name, ip.Address)
}

// overlaps reports whether two rules' public port ranges meet (a rule with
// no ports covers every port).
func (r *NetRule) overlaps(x *NetRule) bool {
	if !r.HasPorts() || !x.HasPorts() {
		return true
	}
	return r.StartPort <= x.EndPort && x.StartPort <= r.EndPort
}

// conflicts reports whether two firewall rules of one address or network
// cover the same traffic.
func (r *NetRule) conflicts(x *NetRule) bool {
	if x.Purpose != PurposeFirewall || x.Traffic != r.Traffic || x.RelatedID != "" {
		return false
	}
	if r.Protocol != x.Protocol {
		return false
	}
	if r.Protocol == "icmp" {
		return intPtrEq(r.ICMPType, x.ICMPType) && intPtrEq(r.ICMPCode, x.ICMPCode)
	}
	return r.overlaps(x)
}

// conflictsOnIP is FirewallManager.detectRulesConflict for a new rule on
// an address: the public ranges of forwarding and balancing rules must not
// overlap (for the same protocol), and firewall rules must not repeat.
func (r *NetRule) conflictsOnIP(x *NetRule) bool {
	if r.Purpose == PurposeFirewall {
		return r.conflicts(x) && slices.Equal(r.CIDRs, x.CIDRs)
	}
	if x.Purpose == PurposeFirewall {
		return false
	}
	return baseProto(r.Protocol) == baseProto(x.Protocol) && r.overlaps(x)
}

// baseProto folds the load balancer's TCP flavours into tcp.
func baseProto(p string) string {
	if p == "tcp-proxy" || p == "ssl" {
		return "tcp"
	}
	return p
}

func intPtrEq(a, b *int) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

func conflictError(r, x *NetRule) error {
	if r.Purpose == PurposeFirewall {
		return Errorf(CodeNetworkRuleConflict, CSCloudRuntime, "There is already a firewall rule specified with protocol = %s and port range %d-%d: rule id=%s",
			x.Protocol, x.StartPort, x.EndPort, x.ID)
	}
	return Errorf(CodeNetworkRuleConflict, CSCloudRuntime, "The range specified, %d-%d, conflicts with rule %s which has %d-%d",
		r.StartPort, r.EndPort, x.ID, x.StartPort, x.EndPort)
}

// ruleEvent is the event type of a change to a rule.
func ruleEvent(p RulePurpose, traffic, verb string) string {
	switch p {
	case PurposePortForwarding:
		return "NET.RULE" + verb
	case PurposeStaticNAT:
		return "STATICNAT.RULE." + map[string]string{"ADD": "CREATE", "DELETE": "DELETE", "MODIFY": "MODIFY"}[verb]
	case PurposeLoadBalancing:
		return "LB." + map[string]string{"ADD": "CREATE", "DELETE": "DELETE", "MODIFY": "UPDATE"}[verb]
	}
	if traffic == TrafficEgress {
		return "FIREWALL.EGRESS." + map[string]string{"ADD": "OPEN", "DELETE": "CLOSE", "MODIFY": "UPDATE"}[verb]
	}
	return "FIREWALL." + map[string]string{"ADD": "OPEN", "DELETE": "CLOSE", "MODIFY": "UPDATE"}[verb]
}

// ruleFor returns a rule of the purpose (and traffic direction, when set)
// that c may change.
func (ix *index) ruleFor(c Caller, id string, p RulePurpose, traffic string) (*NetRule, error) {
	r, ok := ix.rules.get(id)
	if !ok || !ix.canAccess(c, r.Owner) || r.Purpose != p || traffic != "" && r.Traffic != traffic {
		return nil, notFound(KindFirewallRule, id)
	}
	return r, nil
}

// dropRule adds the removal of a rule and of the firewall rules opened for
// it to b.
func (ix *index) dropRule(b *batch, r *NetRule) {
	del(b, ix.rules, r.ID)
	for _, x := range ix.ruleIdx.byIP[r.PublicIPID] {
		if x.RelatedID == r.ID {
			del(b, ix.rules, x.ID)
		}
	}
	for _, t := range ix.tags.byGroup(r.ID) {
		del(b, ix.tags, t.ID)
	}
}

// DeleteRule deletes a rule of the given purpose (and direction) in an
// async job.
func (s *Sim) DeleteRule(ctx context.Context, c Caller, id string, p RulePurpose, traffic, cmd string) (*Job, error) {
	var err error
	s.read(func(ix *index) { _, err = ix.ruleFor(c, id, p, traffic) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindFirewallRule, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			r, ok := ix.rules.get(id)
			if !ok {
				return notFound(KindFirewallRule, id)
			}
			b := &batch{}
			ix.dropRule(b, r)
			ix.event(b, s, r.Owner, jc.caller(ix), ruleEvent(r.Purpose, r.Traffic, "DELETE"), "Deleted "+ruleNoun(r.Purpose)+" "+r.ID, r.ID, KindFirewallRule)
			jc.complete(b, "", nil)
			return s.commit(ctx, b)
		})
	})
}

// RuleUpdate changes a rule; nil fields stay as they are.
type RuleUpdate struct {
	PrivatePort, PrivateEndPort *int
	VMID, VMIP                  *string
	CIDRs                       []string
	Display                     *bool
	Name, Description           *string
	Algorithm, Protocol         *string
	Cmd                         string
}

// UpdateRule changes a port forwarding or load balancer rule in an async
// job whose result is the rule.
func (s *Sim) UpdateRule(ctx context.Context, c Caller, id string, p RulePurpose, u RuleUpdate) (*Job, error) {
	var err error
	s.read(func(ix *index) {
		var r *NetRule
		if r, err = ix.ruleFor(c, id, p, ""); err == nil {
			_, err = ix.updated(c, r, u)
		}
	})
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: u.Cmd, InstanceType: KindFirewallRule, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			r, ok := ix.rules.get(id)
			if !ok {
				return notFound(KindFirewallRule, id)
			}
			n, err := ix.updated(jc.caller(ix), r, u)
			if err != nil {
				return err
			}
			b := &batch{}
			put(b, ix.rules, n)
			ix.event(b, s, r.Owner, jc.caller(ix), ruleEvent(r.Purpose, r.Traffic, "MODIFY"), "Updated "+ruleNoun(r.Purpose)+" "+r.ID, r.ID, KindFirewallRule)
			jc.complete(b, KindFirewallRule, n)
			return s.commit(ctx, b)
		})
	})
}

// updated returns r with u applied, checked.
func (ix *index) updated(c Caller, r *NetRule, u RuleUpdate) (*NetRule, error) {
	n := *r
	if u.PrivatePort != nil {
		n.PrivatePort = *u.PrivatePort
		if u.PrivateEndPort == nil {
			n.PrivateEndPort = n.PrivatePort + (r.PrivateEndPort - r.PrivatePort)
		}
	}
	if u.PrivateEndPort != nil {
		n.PrivateEndPort = *u.PrivateEndPort
	}
	if u.Display != nil {
		n.Display = *u.Display
	}
	if u.CIDRs != nil {
		cidrs, err := normCIDRs(u.CIDRs, "")
		if err != nil {
			return nil, err
		}
		n.CIDRs = cidrs
	}
	if u.Name != nil && *u.Name != "" {
		n.Name = *u.Name
	}
	if u.Description != nil {
		n.Description = *u.Description
	}
	if u.Algorithm != nil && *u.Algorithm != "" {
		n.Algorithm = strings.ToLower(*u.Algorithm)
		switch n.Algorithm {
		case "source", "roundrobin", "leastconn":
		default:
			return nil, Invalid("Invalid algorithm: %s", *u.Algorithm)
		}
	}
	if u.Protocol != nil && *u.Protocol != "" {
		n.Protocol = strings.ToLower(*u.Protocol)
	}
	if err := n.checkProtocol(); err != nil {
		return nil, err
	}
	if u.VMID != nil || u.VMIP != nil {
		ip, ok := ix.publicIPs.get(r.PublicIPID)
		if !ok {
			return nil, notFound(KindPublicIP, r.PublicIPID)
		}
		vmID, vmIP := r.VMID, ""
		if u.VMID != nil && *u.VMID != "" {
			vmID = *u.VMID
		}
		if u.VMIP != nil {
			vmIP = *u.VMIP
		}
		if err := ix.ruleTarget(c, &n, vmID, vmIP, ip); err != nil {
			return nil, err
		}
	}
	return &n, nil
}

// dropRulesOfIP adds the removal of every rule on a public address to b
// (the address is released).
func (ix *index) dropRulesOfIP(b *batch, ipID string) {
	ix.dropVPNOfIP(b, ipID)
	for _, r := range ix.ruleIdx.byIP[ipID] {
		del(b, ix.rules, r.ID)
		for _, t := range ix.tags.byGroup(r.ID) {
			del(b, ix.tags, t.ID)
		}
	}
}

// dropRulesOfVM adds to b what expunging a VM does to the rules: its port
// forwarding and IP forwarding rules go, it leaves its load balancers, and
// its static NAT is disabled.
func (ix *index) dropRulesOfVM(b *batch, vmID string) {
	for _, r := range sortedRules(ix.ruleIdx.byVM[vmID]) {
		if r.Purpose == PurposeLoadBalancing {
			n := *r
			n.Members = slices.DeleteFunc(slices.Clone(r.Members), func(m LBMember) bool { return m.VMID == vmID })
			put(b, ix.rules, &n)
			continue
		}
		ix.dropRule(b, r)
	}
	if ipID, ok := ix.ruleIdx.staticNAT[vmID]; ok {
		if p, ok := ix.publicIPs.get(ipID); ok {
			n := *p
			n.StaticNAT, n.VMID, n.VMIP = false, "", ""
			put(b, ix.publicIPs, &n)
		}
	}
}

// dropRulesOfNetwork adds the removal of a network's egress rules to b.
func (ix *index) dropRulesOfNetwork(b *batch, networkID string) {
	for _, r := range ix.rules.all() {
		if r.NetworkID == networkID && r.PublicIPID == "" {
			del(b, ix.rules, r.ID)
		}
	}
}

// staticNATTarget points address n at vm: the VM's NIC on the address's
// network (the address joins the VM's default network when it has none).
// Forwarding and balancing rules and static NAT exclude each other.
func (ix *index) staticNATTarget(n *PublicIP, vm *VM) error {
	for _, r := range ix.ruleIdx.byIP[n.ID] {
		if r.Purpose == PurposePortForwarding || r.Purpose == PurposeLoadBalancing {
			return Errorf(CodeNetworkRuleConflict, CSCloudRuntime, "Failed to enable static nat for the ip address id=%s as it already has %s %s", n.ID, ruleNoun(r.Purpose), r.ID)
		}
	}
	if len(vm.NICs) == 0 {
		return Invalid("VM %s has no network", vm.Name)
	}
	if n.NetworkID == "" {
		n.NetworkID = vm.NICs[0].NetworkID
	}
	for _, nic := range vm.NICs {
		if nic.NetworkID == n.NetworkID {
			n.StaticNAT, n.VMID, n.VMIP = true, vm.ID, nic.IP
			return nil
		}
	}
	return Invalid("Unable to enable static nat for the ip address id=%s: VM %s is not in its network", n.ID, vm.Name)
}

// dropStaticNATRules adds the removal of an address's IP forwarding rules
// (and the firewall rules they opened) to b, as disabling static NAT does.
func (ix *index) dropStaticNATRules(b *batch, ipID string) {
	for _, r := range sortedRules(ix.ruleIdx.byIP[ipID]) {
		if r.Purpose == PurposeStaticNAT {
			ix.dropRule(b, r)
		}
	}
}
