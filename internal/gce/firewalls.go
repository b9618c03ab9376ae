package gce

import (
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
	"github.com/stratus-cloud/stratus/internal/store"
)

// defaultPriority is GCE's firewall priority when none is given.
const defaultPriority = 1000

func (c *call) firewallPath(name string) string {
	return "projects/" + c.project + "/global/firewalls/" + name
}

// securityGroup finds the account's security group by name.
func (c *call) securityGroup(name string) (*csclient.SecurityGroup, error) {
	sgs, err := c.cs.ListSecurityGroups(c.ctx, csclient.Params("securitygroupname", name))
	if err != nil {
		return nil, err
	}
	for i := range sgs {
		if sgs[i].Name == name {
			return &sgs[i], nil
		}
	}
	return nil, errNotFound(c.firewallPath(name))
}

func (c *call) renderFirewall(sg *csclient.SecurityGroup, meta *firewallMeta) *Firewall {
	rules, _ := currentRules(sg)
	fw := &Firewall{Kind: "compute#firewall", ID: idOf("firewall", sg.ID), Name: gceName(sg.Name),
		Description: sg.Description, Network: c.link("global", "networks", defaultNetwork),
		SelfLink: c.link("global", "firewalls", gceName(sg.Name))}
	if sg.Name == gceName(sg.Name) {
		fw.Name = sg.Name
	}
	prio := int64(defaultPriority)
	disabled := false
	fw.Direction = "INGRESS"
	if meta != nil {
		prio, disabled, fw.Direction = meta.Priority, meta.Disabled, meta.Direction
		fw.TargetTags = meta.TargetTags
		fw.CreationTimestamp = gceTime(meta.Created)
		if meta.Description != "" {
			fw.Description = meta.Description
		}
		fw.LogConfig = &LogConfig{Enable: meta.Logging}
	} else if len(sg.IngressRule) == 0 && len(sg.EgressRule) > 0 {
		fw.Direction = "EGRESS"
	}
	fw.Priority, fw.Disabled = &prio, &disabled
	egress := fw.Direction == "EGRESS"
	var ranges []string
	if disabled && meta != nil {
		fw.Allowed = meta.Allowed
		ranges = meta.SourceRanges
		if egress {
			ranges = meta.DestRanges
		}
	} else {
		fw.Allowed, ranges = rulesToGCE(rules, egress)
	}
	if egress {
		fw.DestinationRanges = ranges
	} else {
		fw.SourceRanges = ranges
	}
	return fw
}

func (g *Gateway) listFirewalls(c *call) (any, error) {
	sgs, err := c.cs.ListSecurityGroups(c.ctx, nil)
	if err != nil {
		return nil, err
	}
	metas, _, err := c.g.firewallMetas(c.project).List(c.ctx)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]*firewallMeta, len(metas))
	for _, m := range metas {
		byName[m.Name] = m.Val
	}
	es := make([]entry, 0, len(sgs))
	for i := range sgs {
		m := byName[sgs[i].Name]
		if m != nil && m.SGID != "" && m.SGID != sgs[i].ID {
			m = nil // a stale record of an earlier group of that name
		}
		fw := c.renderFirewall(&sgs[i], m)
		es = append(es, entry{name: fw.Name, created: fw.CreationTimestamp, v: fw})
	}
	return c.list("compute#firewallList", c.link("global", "firewalls"), es)
}

// firewall loads a firewall's group and record.
func (c *call) firewall(name string) (*csclient.SecurityGroup, *firewallMeta, error) {
	sg, err := c.securityGroup(name)
	if err != nil {
		return nil, nil, err
	}
	meta, _, err := c.g.firewallMetas(c.project).Get(c.ctx, name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && meta.SGID != "" && meta.SGID != sg.ID) {
		return sg, nil, nil
	}
	return sg, meta, err
}

func (g *Gateway) getFirewall(c *call) (any, error) {
	sg, meta, err := c.firewall(c.r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	return c.renderFirewall(sg, meta), nil
}

// normalizeFirewall fills GCE's defaults and checks what GCE checks.
func (c *call) normalizeFirewall(fw *Firewall) error {
	if fw.Name == "" {
		return errInvalid("Invalid value for field 'resource.name': ''. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'")
	}
	if !validName(fw.Name) {
		return errInvalid("Invalid value for field 'resource.name': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", fw.Name)
	}
	if err := c.checkNetwork(fw.Network, "resource.network"); err != nil {
		return err
	}
	switch fw.Direction {
	case "":
		fw.Direction = "INGRESS"
	case "INGRESS", "EGRESS":
	default:
		return errInvalid("Invalid value for field 'resource.direction': '%s'. Must be INGRESS or EGRESS.", fw.Direction)
	}
	if fw.Priority == nil {
		p := int64(defaultPriority)
		fw.Priority = &p
	}
	if *fw.Priority < 0 || *fw.Priority > 65535 {
		return errInvalid("Invalid value for field 'resource.priority': '%d'. Must be between 0 and 65535.", *fw.Priority)
	}
	for i, t := range fw.TargetTags {
		if !validName(t) {
			return errInvalid("Invalid value for field 'resource.targetTags[%d]': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", i, t)
		}
	}
	if len(fw.Description) > 2048 {
		return errInvalid("Invalid value for field 'resource.description': too long.")
	}
	return nil
}

func metaOf(fw *Firewall, sgID string, prev *firewallMeta, now func() *firewallMeta) *firewallMeta {
	m := now()
	if prev != nil {
		m.Created = prev.Created
	}
	m.SGID = sgID
	m.Description = fw.Description
	m.Priority = *fw.Priority
	m.Direction = fw.Direction
	m.TargetTags = fw.TargetTags
	m.Disabled = fw.Disabled != nil && *fw.Disabled
	m.Logging = fw.LogConfig != nil && fw.LogConfig.Enable
	m.Allowed = fw.Allowed
	m.SourceRanges = fw.SourceRanges
	m.DestRanges = fw.DestinationRanges
	return m
}

func (g *Gateway) insertFirewall(c *call) (any, error) {
	var fw Firewall
	if err := c.decode(&fw); err != nil {
		return nil, err
	}
	if err := c.normalizeFirewall(&fw); err != nil {
		return nil, err
	}
	want, err := desiredRules(&fw)
	if err != nil {
		return nil, err
	}
	if _, err := c.securityGroup(fw.Name); err == nil {
		return nil, errAlreadyExists(c.firewallPath(fw.Name))
	} else if ae := new(apiError); !errors.As(err, &ae) || ae.Code != 404 {
		return nil, err
	}
	sg, err := c.cs.CreateSecurityGroup(c.ctx, fw.Name, fw.Description)
	if err != nil {
		if csclient.Code(err) == 431 || csclient.Code(err) == 537 {
			return nil, errAlreadyExists(c.firewallPath(fw.Name))
		}
		return nil, err
	}
	meta := metaOf(&fw, sg.ID, nil, func() *firewallMeta { return &firewallMeta{Created: c.g.now()} })
	if _, err := c.g.firewallMetas(c.project).Put(c.ctx, fw.Name, meta); err != nil {
		return nil, err
	}
	var jobs []string
	if !meta.Disabled {
		jobs, err = c.applyRules(sg.ID, nil, nil, want)
		if err != nil {
			// Leave nothing half made.
			_ = c.cs.Do(c.ctx, "deleteSecurityGroup", csclient.Params("id", sg.ID), nil)
			_ = c.g.firewallMetas(c.project).Delete(c.ctx, fw.Name)
			return nil, err
		}
	}
	return c.startOp(opScope{}, "insert", "global/firewalls/"+fw.Name, idOf("firewall", sg.ID), jobs, nil)
}

// applyRules revokes the current rules that are not wanted and authorizes
// the wanted ones that are missing; it returns the CloudStack jobs.
func (c *call) applyRules(sgID string, cur []csRule, curIDs []string, want []csRule) ([]string, error) {
	have := map[string]bool{}
	for _, r := range cur {
		have[r.key()] = true
	}
	wanted := map[string]bool{}
	for _, r := range want {
		wanted[r.key()] = true
	}
	var jobs []string
	for i, r := range cur {
		if wanted[r.key()] {
			continue
		}
		cmd := "revokeSecurityGroupIngress"
		if r.egress {
			cmd = "revokeSecurityGroupEgress"
		}
		res, err := c.cs.Async(c.ctx, cmd, csclient.Params("id", curIDs[i]))
		if err != nil {
			return jobs, err
		}
		jobs = append(jobs, res.JobID)
	}
	// Group the missing rules by everything but the CIDR.
	type group struct {
		r     csRule
		cidrs []string
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, r := range want {
		if have[r.key()] {
			continue
		}
		have[r.key()] = true
		g := byKey[r.groupKey()]
		if g == nil {
			g = &group{r: r}
			byKey[r.groupKey()] = g
			groups = append(groups, g)
		}
		g.cidrs = append(g.cidrs, r.cidr)
	}
	for _, gr := range groups {
		cmd := "authorizeSecurityGroupIngress"
		if gr.r.egress {
			cmd = "authorizeSecurityGroupEgress"
		}
		q := url.Values{}
		q.Set("securitygroupid", sgID)
		q.Set("protocol", gr.r.protocol)
		switch gr.r.protocol {
		case "tcp", "udp":
			q.Set("startport", strconv.Itoa(gr.r.start))
			q.Set("endport", strconv.Itoa(gr.r.end))
		case "icmp":
			q.Set("icmptype", "-1")
			q.Set("icmpcode", "-1")
		}
		q.Set("cidrlist", joinComma(gr.cidrs))
		res, err := c.cs.Async(c.ctx, cmd, q)
		if err != nil {
			return jobs, err
		}
		jobs = append(jobs, res.JobID)
	}
	return jobs, nil
}

func joinComma(ss []string) string { return strings.Join(ss, ",") }

func (g *Gateway) patchFirewall(c *call) (any, error) { return g.changeFirewall(c, true) }

func (g *Gateway) updateFirewall(c *call) (any, error) { return g.changeFirewall(c, false) }

// changeFirewall is patch (merge the fields given) and update (replace).
func (g *Gateway) changeFirewall(c *call, patch bool) (any, error) {
	name := c.r.PathValue("name")
	var raw map[string]json.RawMessage
	var body Firewall
	if err := c.decode(&raw); err != nil {
		return nil, err
	}
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &body); err != nil {
		return nil, errBadRequest("Invalid JSON payload received.")
	}
	sg, meta, err := c.firewall(name)
	if err != nil {
		return nil, err
	}
	cur := c.renderFirewall(sg, meta)
	next := body
	if patch {
		next = *cur
		next.Allowed, next.SourceRanges, next.DestinationRanges = cur.Allowed, cur.SourceRanges, cur.DestinationRanges
		set := func(key string, fn func()) {
			if _, ok := raw[key]; ok {
				fn()
			}
		}
		set("description", func() { next.Description = body.Description })
		set("allowed", func() { next.Allowed = body.Allowed })
		set("denied", func() { next.Denied = body.Denied })
		set("sourceRanges", func() { next.SourceRanges = body.SourceRanges })
		set("destinationRanges", func() { next.DestinationRanges = body.DestinationRanges })
		set("sourceTags", func() { next.SourceTags = body.SourceTags })
		set("targetTags", func() { next.TargetTags = body.TargetTags })
		set("priority", func() { next.Priority = body.Priority })
		set("disabled", func() { next.Disabled = body.Disabled })
		set("logConfig", func() { next.LogConfig = body.LogConfig })
		set("direction", func() { next.Direction = body.Direction })
		set("network", func() { next.Network = body.Network })
		set("sourceServiceAccounts", func() { next.SourceServiceAccounts = body.SourceServiceAccounts })
		set("targetServiceAccounts", func() { next.TargetServiceAccounts = body.TargetServiceAccounts })
	}
	if next.Name == "" {
		next.Name = name
	}
	if next.Name != name {
		return nil, errInvalid("Invalid value for field 'resource.name': '%s'. The name of a firewall cannot be changed.", next.Name)
	}
	if next.Direction != "" && next.Direction != cur.Direction {
		return nil, errInvalid("Invalid value for field 'resource.direction': '%s'. The direction of a firewall cannot be changed.", next.Direction)
	}
	if err := c.normalizeFirewall(&next); err != nil {
		return nil, err
	}
	want, err := desiredRules(&next)
	if err != nil {
		return nil, err
	}
	if next.Disabled != nil && *next.Disabled {
		want = nil
	}
	rules, ids := currentRules(sg)
	jobs, err := c.applyRules(sg.ID, rules, ids, want)
	if err != nil {
		return nil, err
	}
	m := metaOf(&next, sg.ID, meta, func() *firewallMeta { return &firewallMeta{Created: c.g.now()} })
	if _, err := c.g.firewallMetas(c.project).Put(c.ctx, name, m); err != nil {
		return nil, err
	}
	opType := "update"
	if patch {
		opType = "patch"
	}
	return c.startOp(opScope{}, opType, "global/firewalls/"+name, idOf("firewall", sg.ID), jobs, nil)
}

func (g *Gateway) deleteFirewall(c *call) (any, error) {
	name := c.r.PathValue("name")
	sg, _, err := c.firewall(name)
	if err != nil {
		return nil, err
	}
	if err := c.cs.Do(c.ctx, "deleteSecurityGroup", csclient.Params("id", sg.ID), nil); err != nil {
		return nil, err
	}
	if err := c.g.firewallMetas(c.project).Delete(c.ctx, name); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return c.startOp(opScope{}, "delete", "global/firewalls/"+name, idOf("firewall", sg.ID), nil, nil)
}
