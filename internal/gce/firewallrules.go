package gce

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// csRule is one CloudStack security group rule: one protocol, one port
// range or ICMP type, one CIDR.
type csRule struct {
	egress     bool
	protocol   string // tcp, udp, icmp, all, or a protocol number
	start, end int    // tcp/udp port range; -1 when none
	icmpType   int
	icmpCode   int
	cidr       string
}

func (r csRule) key() string {
	return fmt.Sprintf("%t|%s|%d|%d|%d|%d|%s", r.egress, r.protocol, r.start, r.end, r.icmpType, r.icmpCode, r.cidr)
}

// groupKey is the rule without its CIDR: rules that differ only in CIDR
// go to CloudStack in one authorize call.
func (r csRule) groupKey() string {
	r.cidr = ""
	return r.key()
}

// protocolNames maps GCE's protocol names and well-known numbers to what
// CloudStack takes.
var protocolNames = map[string]string{
	"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp", "icmp": "icmp", "1": "icmp", "all": "all",
	"sctp": "132", "esp": "50", "ah": "51", "ipip": "4",
}

// desiredRules expands a firewall into CloudStack rules, or answers why
// it cannot be expressed.
func desiredRules(fw *Firewall) ([]csRule, error) {
	if len(fw.Denied) > 0 {
		return nil, errUnsupported("A firewall with 'denied' rules (security groups only allow traffic)")
	}
	if len(fw.SourceTags) > 0 || len(fw.SourceServiceAccounts) > 0 || len(fw.TargetServiceAccounts) > 0 {
		return nil, errUnsupported("Matching sources by tag or service account")
	}
	if len(fw.Allowed) == 0 {
		return nil, errInvalid("Invalid value for field 'resource.allowed': ''. Exactly one of 'allowed' or 'denied' must be specified.")
	}
	egress := fw.Direction == "EGRESS"
	ranges := fw.SourceRanges
	field := "sourceRanges"
	if egress {
		ranges, field = fw.DestinationRanges, "destinationRanges"
		if len(fw.SourceRanges) > 0 {
			return nil, errInvalid("Invalid value for field 'resource.sourceRanges': '%s'. Source ranges are not allowed on an EGRESS firewall.", strings.Join(fw.SourceRanges, ","))
		}
	} else if len(fw.DestinationRanges) > 0 {
		return nil, errInvalid("Invalid value for field 'resource.destinationRanges': '%s'. Destination ranges are not allowed on an INGRESS firewall.", strings.Join(fw.DestinationRanges, ","))
	}
	if len(ranges) == 0 {
		ranges = []string{"0.0.0.0/0"}
	}
	cidrs := make([]string, 0, len(ranges))
	for i, r := range ranges {
		p, err := netip.ParsePrefix(r)
		if err != nil {
			a, aerr := netip.ParseAddr(r)
			if aerr != nil {
				return nil, errInvalid("Invalid value for field 'resource.%s[%d]': '%s'. Must be a CIDR address range that is contained in the network.", field, i, r)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		cidrs = append(cidrs, p.Masked().String())
	}
	var out []csRule
	for i, a := range fw.Allowed {
		proto, ok := protocolNames[strings.ToLower(a.IPProtocol)]
		if !ok {
			n, err := strconv.Atoi(a.IPProtocol)
			if err != nil || n < 0 || n > 255 {
				return nil, errInvalid("Invalid value for field 'resource.allowed[%d].IPProtocol': '%s'. Invalid IP protocol.", i, a.IPProtocol)
			}
			proto = strconv.Itoa(n)
		}
		base := csRule{egress: egress, protocol: proto, start: -1, end: -1, icmpType: -1, icmpCode: -1}
		var ranges [][2]int
		switch proto {
		case "tcp", "udp":
			if len(a.Ports) == 0 {
				ranges = [][2]int{{1, 65535}}
			}
			for j, p := range a.Ports {
				lo, hi, ok := parsePortRange(p)
				if !ok {
					return nil, errInvalid("Invalid value for field 'resource.allowed[%d].ports[%d]': '%s'. Invalid port range.", i, j, p)
				}
				ranges = append(ranges, [2]int{lo, hi})
			}
		default:
			if len(a.Ports) > 0 {
				return nil, errInvalid("Invalid value for field 'resource.allowed[%d].ports': '%s'. Ports may only be specified for tcp, udp and sctp.", i, strings.Join(a.Ports, ","))
			}
			ranges = [][2]int{{-1, -1}}
		}
		for _, pr := range ranges {
			for _, cidr := range cidrs {
				r := base
				r.start, r.end, r.cidr = pr[0], pr[1], cidr
				out = append(out, r)
			}
		}
	}
	return out, nil
}

func parsePortRange(s string) (lo, hi int, ok bool) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err := strconv.Atoi(a)
	if err != nil || lo < 0 || lo > 65535 {
		return 0, 0, false
	}
	hi = lo
	if isRange {
		hi, err = strconv.Atoi(b)
		if err != nil || hi < lo || hi > 65535 {
			return 0, 0, false
		}
	}
	return lo, hi, true
}

// currentRules reads a security group's rules with their ids.
func currentRules(sg *csclient.SecurityGroup) (rules []csRule, ids []string) {
	add := func(egress bool, rs []csclient.Rule) {
		for _, r := range rs {
			cr := csRule{egress: egress, protocol: strings.ToLower(r.Protocol), start: -1, end: -1, icmpType: -1, icmpCode: -1, cidr: r.CIDR}
			if n, ok := protocolNames[cr.protocol]; ok {
				cr.protocol = n
			}
			switch cr.protocol {
			case "tcp", "udp":
				if r.StartPort != nil {
					cr.start = int(*r.StartPort)
				}
				if r.EndPort != nil {
					cr.end = int(*r.EndPort)
				}
				if cr.start == 0 && cr.end == 65535 {
					cr.start = 1
				}
			}
			if p, err := netip.ParsePrefix(cr.cidr); err == nil {
				cr.cidr = p.Masked().String()
			}
			rules = append(rules, cr)
			ids = append(ids, r.RuleID)
		}
	}
	add(false, sg.IngressRule)
	add(true, sg.EgressRule)
	return rules, ids
}

// rulesToGCE folds CloudStack rules of one direction back into GCE's
// allowed list and ranges.
func rulesToGCE(rules []csRule, egress bool) (allowed []FirewallRule, ranges []string) {
	byProto := map[string]*FirewallRule{}
	var order []string
	seenPort := map[string]bool{}
	seenCIDR := map[string]bool{}
	for _, r := range rules {
		if r.egress != egress {
			continue
		}
		if !seenCIDR[r.cidr] && r.cidr != "" {
			seenCIDR[r.cidr] = true
			ranges = append(ranges, r.cidr)
		}
		name := r.protocol
		for gceName, n := range map[string]string{"sctp": "132", "esp": "50", "ah": "51", "ipip": "4"} {
			if n == r.protocol {
				name = gceName
			}
		}
		fr, ok := byProto[name]
		if !ok {
			fr = &FirewallRule{IPProtocol: name}
			byProto[name] = fr
			order = append(order, name)
		}
		if r.protocol != "tcp" && r.protocol != "udp" {
			continue
		}
		var port string
		switch {
		case r.start <= 1 && r.end >= 65535:
			port = "*"
		case r.start == r.end:
			port = strconv.Itoa(r.start)
		default:
			port = strconv.Itoa(r.start) + "-" + strconv.Itoa(r.end)
		}
		if !seenPort[name+"/"+port] {
			seenPort[name+"/"+port] = true
			fr.Ports = append(fr.Ports, port)
		}
	}
	for _, name := range order {
		fr := byProto[name]
		for _, p := range fr.Ports {
			if p == "*" {
				fr.Ports = nil
				break
			}
		}
		sort.SliceStable(fr.Ports, func(i, j int) bool { return portLess(fr.Ports[i], fr.Ports[j]) })
		allowed = append(allowed, *fr)
	}
	return allowed, ranges
}

func portLess(a, b string) bool {
	la, _, _ := parsePortRange(a)
	lb, _, _ := parsePortRange(b)
	return la < lb
}
