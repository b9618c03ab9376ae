package gce

import (
	"errors"
	"net"
	"strconv"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
	"github.com/stratus-cloud/stratus/internal/store"
)

// A forwarding rule inserted here is a CloudStack load balancer rule on
// the public address it names (a reserved address by name, URL or IP; an
// address acquired for it when it names none), from its port to the same
// port of the target pool's VMs. CloudStack balances one port per rule,
// TCP or UDP, so a rule must name one port; external target pools are the
// only target (no backend services, target instances or proxies). The
// CloudStack work is done before the operation is answered.

// forwardingRuleInsert is what an insert reads of compute#forwardingRule.
type forwardingRuleInsert struct {
	Name                string   `json:"name"`
	Description         string   `json:"description"`
	IPAddress           string   `json:"IPAddress"`
	IPProtocol          string   `json:"IPProtocol"`
	PortRange           string   `json:"portRange"`
	Ports               []string `json:"ports"`
	AllPorts            bool     `json:"allPorts"`
	Target              string   `json:"target"`
	BackendService      string   `json:"backendService"`
	LoadBalancingScheme string   `json:"loadBalancingScheme"`
	NetworkTier         string   `json:"networkTier"`
}

// rulePort is the one port of a forwarding rule's portRange or ports.
func rulePort(in *forwardingRuleInsert) (int, error) {
	spec := in.PortRange
	if len(in.Ports) > 0 {
		if spec != "" {
			return 0, errInvalid("Invalid value for field 'resource.ports': ''. Only one of portRange and ports may be specified.")
		}
		if len(in.Ports) > 1 {
			return 0, errUnsupported("A forwarding rule of more than one port (CloudStack balances one port per rule)")
		}
		spec = in.Ports[0]
	}
	if spec == "" || in.AllPorts {
		return 0, errUnsupported("A forwarding rule for all ports (CloudStack balances one port per rule); name a port")
	}
	lo, hi, ranged := strings.Cut(spec, "-")
	a, err1 := strconv.Atoi(lo)
	b := a
	var err2 error
	if ranged {
		b, err2 = strconv.Atoi(hi)
	}
	if err1 != nil || err2 != nil || a < 1 || b > 65535 || b < a {
		return 0, errInvalid("Invalid value for field 'resource.portRange': '%s'. Invalid port range.", spec)
	}
	if a != b {
		return 0, errUnsupported("A forwarding rule of a port range (CloudStack balances one port per rule)")
	}
	return a, nil
}

// ruleTarget checks a forwarding rule's target: a target pool of its
// region; it returns the pool's name and record.
func (c *call) ruleTarget(region, ref, field string) (string, *poolRecord, error) {
	p := relPath(ref)
	if !strings.Contains("/"+p, "/targetPools/") {
		return "", nil, errUnsupported("A forwarding rule target other than a target pool ('" + ref + "')")
	}
	if r := afterSegment(p, "regions"); r != "" && r != region {
		return "", nil, errInvalid("Invalid value for field '%s': '%s'. The target pool must be in the forwarding rule's region.", field, ref)
	}
	name := lastSegment(p)
	rec, err := c.findPool(region, name)
	return name, rec, err
}

// ruleAddress finds the public address a forwarding rule names: an
// address of the project by name or URL, or one of its public IPs.
func (c *call) ruleAddress(region, ref string) (*csclient.PublicIP, error) {
	if ip := net.ParseIP(ref); ip != nil {
		z, err := c.regionZone(region)
		if err != nil {
			return nil, err
		}
		ips, err := c.cs.ListPublicIPs(c.ctx, csclient.Params("ipaddress", ref, "zoneid", z.cs.ID))
		if err != nil {
			return nil, err
		}
		for i := range ips {
			if ips[i].IPAddress == ref {
				return &ips[i], nil
			}
		}
		return nil, errInvalid("Invalid value for field 'resource.IPAddress': '%s'. Specified IP address is not reserved in the project's region.", ref)
	}
	name := lastSegment(relPath(ref))
	_, byName, err := c.addressEntries(region)
	if err != nil {
		return nil, err
	}
	if ip, ok := byName[region+"/"+name]; ok {
		return ip, nil
	}
	return nil, errNotFound(c.addressPath(region, name))
}

func (g *Gateway) insertForwardingRule(c *call) (any, error) {
	region := c.r.PathValue("region")
	var in forwardingRuleInsert
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if !validName(in.Name) {
		return nil, errInvalid("Invalid value for field 'resource.name': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", in.Name)
	}
	switch in.LoadBalancingScheme {
	case "", "EXTERNAL":
	default:
		return nil, errUnsupported("A forwarding rule of scheme " + in.LoadBalancingScheme)
	}
	if in.BackendService != "" {
		return nil, errUnsupported("A forwarding rule to a backend service")
	}
	proto := strings.ToUpper(in.IPProtocol)
	switch proto {
	case "":
		proto = "TCP"
	case "TCP", "UDP":
	default:
		return nil, errUnsupported("A forwarding rule of protocol " + in.IPProtocol)
	}
	port, err := rulePort(&in)
	if err != nil {
		return nil, err
	}
	if in.Target == "" {
		return nil, errInvalid("Invalid value for field 'resource.target': ''. A forwarding rule needs a target.")
	}
	z, err := c.regionZone(region)
	if err != nil {
		return nil, err
	}
	pool, prec, err := c.ruleTarget(region, in.Target, "resource.target")
	if err != nil {
		return nil, err
	}
	if _, err := c.findForwardingRule(region, in.Name); err == nil {
		return nil, errAlreadyExists(c.frPath(region, in.Name))
	} else if toAPIError(err).Code != 404 {
		return nil, err
	}
	rec := &frRecord{Name: in.Name, Region: region, Target: pool, Created: gceTime(c.g.now())}
	if in.IPAddress != "" {
		ip, err := c.ruleAddress(region, in.IPAddress)
		if err != nil {
			return nil, err
		}
		rec.IPID = ip.ID
	} else {
		nid, err := c.guestNetwork(z)
		if err != nil {
			return nil, err
		}
		var ip struct {
			ID string `json:"id"`
		}
		if err := c.cs.AsyncWait(c.ctx, "associateIpAddress", csclient.Params("zoneid", z.cs.ID, "networkid", nid), "ipaddress", &ip); err != nil {
			return nil, err
		}
		rec.IPID, rec.Ephemeral = ip.ID, true
	}
	var lb csclient.LoadBalancerRule
	err = c.cs.AsyncWait(c.ctx, "createLoadBalancerRule", csclient.Params("name", in.Name, "description", in.Description,
		"algorithm", sessionAffinities[prec.SessionAffinity], "publicipid", rec.IPID, "publicport", strconv.Itoa(port),
		"privateport", strconv.Itoa(port), "protocol", strings.ToLower(proto)), "loadbalancer", &lb)
	if err == nil {
		_, err = c.g.frRecordsOf(c.project).Create(c.ctx, lb.ID, rec)
		if err == nil {
			err = c.syncRule(lb.ID, prec)
		}
		if err != nil {
			c.undoForwardingRule(lb.ID)
		}
	}
	if err != nil {
		if rec.Ephemeral {
			c.releaseAddress(rec.IPID)
		}
		return nil, err
	}
	return c.startOp(opScope{region: region}, "insert", "regions/"+region+"/forwardingRules/"+in.Name, idOf("forwardingRule", lb.ID), nil, nil)
}

// undoForwardingRule deletes a load balancer rule and forgets its
// record; a failure is logged (the rule stays, visible, for a delete).
func (c *call) undoForwardingRule(ruleID string) {
	if err := c.cs.AsyncWait(c.ctx, "deleteLoadBalancerRule", csclient.Params("id", ruleID), "", nil); err != nil {
		c.g.log.Warn("delete load balancer rule", "rule", ruleID, "err", err)
		return
	}
	if err := c.g.frRecordsOf(c.project).Delete(c.ctx, ruleID); err != nil && !errors.Is(err, store.ErrNotFound) {
		c.g.log.Warn("forget forwarding rule", "rule", ruleID, "err", err)
	}
}

// releaseAddress gives back an address acquired for a forwarding rule.
func (c *call) releaseAddress(ipID string) {
	if err := c.cs.AsyncWait(c.ctx, "disassociateIpAddress", csclient.Params("id", ipID), "", nil); err != nil {
		c.g.log.Warn("release forwarding rule address", "ip", ipID, "err", err)
	}
}

func (g *Gateway) deleteForwardingRule(c *call) (any, error) {
	region, name := c.r.PathValue("region"), c.r.PathValue("name")
	if _, err := c.regionZones(region); err != nil {
		return nil, err
	}
	fi, err := c.findForwardingRule(region, name)
	if err != nil {
		return nil, err
	}
	if err := c.cs.AsyncWait(c.ctx, "deleteLoadBalancerRule", csclient.Params("id", fi.rule.ID), "", nil); err != nil {
		return nil, err
	}
	var jobs []string
	if fi.rec != nil {
		if err := g.frRecordsOf(c.project).Delete(c.ctx, fi.rule.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if fi.rec.Ephemeral {
			res, err := c.cs.Async(c.ctx, "disassociateIpAddress", csclient.Params("id", fi.rec.IPID))
			if err != nil {
				return nil, err
			}
			jobs = append(jobs, res.JobID)
		}
	}
	return c.startOp(opScope{region: region}, "delete", "regions/"+region+"/forwardingRules/"+name, idOf("forwardingRule", fi.rule.ID), jobs, nil)
}

// setForwardingRuleTarget points a forwarding rule at another target
// pool: the load balancer rule's VMs and health check policy become the
// new pool's.
func (g *Gateway) setForwardingRuleTarget(c *call) (any, error) {
	region, name := c.r.PathValue("region"), c.r.PathValue("name")
	var in struct {
		Target string `json:"target"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.Target == "" {
		return nil, errInvalid("Required field 'target' not specified")
	}
	if _, err := c.regionZones(region); err != nil {
		return nil, err
	}
	fi, err := c.findForwardingRule(region, name)
	if err != nil {
		return nil, err
	}
	pool, prec, err := c.ruleTarget(region, in.Target, "target")
	if err != nil {
		return nil, err
	}
	rec := fi.rec
	if rec == nil {
		rec = &frRecord{Name: name, Region: region, IPID: fi.rule.PublicIPID}
	}
	rec.Target = pool
	if _, err := g.frRecordsOf(c.project).Put(c.ctx, fi.rule.ID, rec); err != nil {
		return nil, err
	}
	if err := c.cs.AsyncWait(c.ctx, "updateLoadBalancerRule", csclient.Params("id", fi.rule.ID, "algorithm", sessionAffinities[prec.SessionAffinity]), "", nil); err != nil {
		return nil, err
	}
	if err := c.syncRule(fi.rule.ID, prec); err != nil {
		return nil, err
	}
	return c.startOp(opScope{region: region}, "setTarget", "regions/"+region+"/forwardingRules/"+name, idOf("forwardingRule", fi.rule.ID), nil, nil)
}
