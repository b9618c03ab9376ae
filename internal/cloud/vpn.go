package cloud

import (
	"context"
	"crypto/rand"
	"log/slog"
	"math/big"
	"net/netip"
	"regexp"
	"strings"
	"time"
)

// VPNs, site-to-site and remote access. Site to site: a customer
// gateway (the far end: its address, CIDRs, policies and preshared key)
// belongs to an account; a VPN gateway is a VPC's end (one per VPC, on
// its source NAT address); a connection joins the two and, the VPC
// router being simulated, goes to Connected at once (Disconnected when
// passive, as CloudStack leaves a passive one waiting for the far end).
// Remote access: an L2TP/IPsec server on a public address of an isolated
// network or a VPC, with a generated preshared key; its users belong to
// the account, as CloudStack's do. Preshared keys and passwords are
// secrets: the types' LogValue leaves them out of logs.

// Kinds of the VPN family.
const (
	KindVPNCustomerGateway Kind = "Site2SiteCustomerGateway"
	KindVPNGateway         Kind = "Site2SiteVpnGateway"
	KindVPNConnection      Kind = "Site2SiteVpnConnection"
	KindRemoteAccessVPN    Kind = "RemoteAccessVpn"
	KindVPNUser            Kind = "VpnUser"
)

// The limits CloudStack's configuration sets by default
// (site2site.vpn.vpngateway.connection.limit,
// site2site.vpn.customergateway.subnets.limit,
// remote.access.vpn.user.limit, remote.access.vpn.client.iprange and
// remote.access.vpn.psk.length).
const (
	vpnConnLimit     = 4
	vpnSubnetsLimit  = 10
	vpnUserLimit     = 8
	vpnDefaultRange  = "10.1.2.1-10.1.2.8"
	vpnPresharedSize = 24
)

// The states of a site-to-site connection.
const (
	VPNPending      = "Pending"
	VPNConnected    = "Connected"
	VPNDisconnected = "Disconnected"
)

// VPNCustomerGateway is the far end of site-to-site connections.
type VPNCustomerGateway struct {
	ID               string    `json:"id"`
	Seq              int64     `json:"seq"`
	Name             string    `json:"name"`
	Gateway          string    `json:"gateway"`
	CIDRList         string    `json:"cidrList"`
	IPsecPSK         string    `json:"ipsecPsk"`
	IKEPolicy        string    `json:"ikePolicy"`
	ESPPolicy        string    `json:"espPolicy"`
	IKELifetime      int64     `json:"ikeLifetime"`
	ESPLifetime      int64     `json:"espLifetime"`
	DPD              bool      `json:"dpd"`
	ForceEncap       bool      `json:"forceEncap"`
	SplitConnections bool      `json:"splitConnections"`
	IKEVersion       string    `json:"ikeVersion"`
	Created          time.Time `json:"created"`
	Owner
}

// LogValue keeps the preshared key out of logs.
func (g VPNCustomerGateway) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", g.ID), slog.String("name", g.Name), slog.String("gateway", g.Gateway))
}

// VPNGateway is a VPC's end of site-to-site connections.
type VPNGateway struct {
	ID         string    `json:"id"`
	Seq        int64     `json:"seq"`
	VPCID      string    `json:"vpcId"`
	PublicIPID string    `json:"publicIpId"`
	Display    bool      `json:"display"`
	Created    time.Time `json:"created"`
	Owner
}

// VPNConnection joins a VPN gateway and a customer gateway.
type VPNConnection struct {
	ID                string    `json:"id"`
	Seq               int64     `json:"seq"`
	GatewayID         string    `json:"gatewayId"`
	CustomerGatewayID string    `json:"customerGatewayId"`
	Passive           bool      `json:"passive"`
	State             string    `json:"state"`
	Display           bool      `json:"display"`
	Created           time.Time `json:"created"`
	Owner
}

// RemoteAccessVPN is an L2TP/IPsec server on a public address.
type RemoteAccessVPN struct {
	ID         string `json:"id"`
	Seq        int64  `json:"seq"`
	PublicIPID string `json:"publicIpId"`
	NetworkID  string `json:"networkId,omitempty"`
	VPCID      string `json:"vpcId,omitempty"`
	// LocalIP is the server's address, the first of the range asked for;
	// IPRange what is left for clients.
	LocalIP      string    `json:"localIp"`
	IPRange      string    `json:"ipRange"`
	PresharedKey string    `json:"presharedKey"`
	State        string    `json:"state"`
	Display      bool      `json:"display"`
	Created      time.Time `json:"created"`
	Owner
}

// LogValue keeps the preshared key out of logs.
func (v RemoteAccessVPN) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", v.ID), slog.String("publicipid", v.PublicIPID), slog.String("state", v.State))
}

// VPNUser is a remote access VPN user of an account.
type VPNUser struct {
	ID       string    `json:"id"`
	Seq      int64     `json:"seq"`
	Username string    `json:"username"`
	Password string    `json:"password"`
	State    string    `json:"state"`
	Created  time.Time `json:"created"`
	Owner
}

// LogValue keeps the password out of logs.
func (u VPNUser) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", u.ID), slog.String("username", u.Username))
}

// CustomerGatewaySpec is createVpnCustomerGateway's and
// updateVpnCustomerGateway's parameters (nil: not given).
type CustomerGatewaySpec struct {
	Name, Gateway, CIDRList, IPsecPSK, IKEPolicy, ESPPolicy, IKEVersion string
	IKELifetime, ESPLifetime                                            *int64
	DPD, ForceEncap, SplitConnections                                   *bool
	Account, DomainID                                                   string
	Cmd                                                                 string
}

var domainName = regexp.MustCompile(`^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)

var (
	vpnCiphers = regexp.MustCompile(`^(3des|aes128|aes192|aes256)$`)
	vpnHashes  = regexp.MustCompile(`^(md5|sha1|sha256|sha384|sha512)$`)
	vpnGroups  = regexp.MustCompile(`^modp(1024|1536|2048|3072|4096|6144|8192)$`)
)

// validVPNPolicy is NetUtils.isValidS2SVpnPolicy: proposals
// cipher-hash[;group], comma separated; IKE ones need the group.
func validVPNPolicy(ike bool, policies string) bool {
	if policies == "" {
		return false
	}
	for _, pol := range strings.Split(policies, ",") {
		ch, group, hasGroup := strings.Cut(pol, ";")
		c, h, ok := strings.Cut(ch, "-")
		if !ok || strings.Contains(h, "-") || !vpnCiphers.MatchString(c) || !vpnHashes.MatchString(h) {
			return false
		}
		if (!hasGroup && ike) || (hasGroup && !vpnGroups.MatchString(group)) {
			return false
		}
	}
	return true
}

// checkCustomerGateway validates a customer gateway as
// Site2SiteVpnManagerImpl does and fills in the defaults.
func checkCustomerGateway(g *VPNCustomerGateway, r CustomerGatewaySpec, update bool) error {
	if a, err := netip.ParseAddr(r.Gateway); (err != nil || !a.Is4()) && !domainName.MatchString(r.Gateway) {
		return Invalid("The customer gateway ip/Domain %s is invalid!", r.Gateway)
	}
	g.Gateway, g.Name = r.Gateway, r.Name
	if g.Name == "" {
		g.Name = "VPN-" + r.Gateway
	}
	cidrs := strings.Split(r.CIDRList, ",")
	prefixes := make([]netip.Prefix, 0, len(cidrs))
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil || !p.Addr().Is4() {
			return Invalid("The customer gateway peer cidr list %s contains an invalid cidr!", r.CIDRList)
		}
		prefixes = append(prefixes, p)
	}
	// (the update's texts lack the space, as CloudStack's do)
	sep := " "
	if update {
		sep = ""
	}
	if !validVPNPolicy(true, r.IKEPolicy) {
		return Invalid("The customer gateway IKE policy%s%s is invalid!  Verify the required Diffie Hellman (DH) group is specified.", sep, r.IKEPolicy)
	}
	if !validVPNPolicy(false, r.ESPPolicy) {
		return Invalid("The customer gateway ESP policy%s%s is invalid!", sep, r.ESPPolicy)
	}
	g.IKELifetime, g.ESPLifetime = 86400, 3600
	if r.IKELifetime != nil {
		g.IKELifetime = *r.IKELifetime
	}
	if g.IKELifetime > 86400 {
		return Invalid("The IKE lifetime %d of vpn connection is invalid!", g.IKELifetime)
	}
	if r.ESPLifetime != nil {
		g.ESPLifetime = *r.ESPLifetime
	}
	if g.ESPLifetime > 86400 {
		return Invalid("The ESP lifetime %d of vpn connection is invalid!", g.ESPLifetime)
	}
	g.DPD, g.ForceEncap = r.DPD != nil && *r.DPD, r.ForceEncap != nil && *r.ForceEncap
	// An update keeps the split and IKE version it is not given.
	if r.SplitConnections != nil {
		g.SplitConnections = *r.SplitConnections
	} else if !update {
		g.SplitConnections = false
	}
	if r.IKEVersion != "" {
		g.IKEVersion = r.IKEVersion
	} else if !update {
		g.IKEVersion = "ike"
	}
	if len(cidrs) > vpnSubnetsLimit {
		return Invalid("Too many subnets of customer gateway! The limit is %d", vpnSubnetsLimit)
	}
	for i := range prefixes {
		for j := i + 1; j < len(prefixes); j++ {
			if prefixes[i].Overlaps(prefixes[j]) {
				return Invalid("The subnet of customer gateway %s is overlapped with another subnet %s of customer gateway!", cidrs[i], cidrs[j])
			}
		}
	}
	g.CIDRList, g.IPsecPSK, g.IKEPolicy, g.ESPPolicy = r.CIDRList, r.IPsecPSK, r.IKEPolicy, r.ESPPolicy
	return nil
}

// CreateVPNCustomerGateway creates a customer gateway.
func (s *Sim) CreateVPNCustomerGateway(ctx context.Context, c Caller, r CustomerGatewaySpec) (*VPNCustomerGateway, *Job, error) {
	var out *VPNCustomerGateway
	var job *Job
	err := s.write(func(ix *index) error {
		o, err := ix.ownerFor(c, r.Account, r.DomainID)
		if err != nil {
			return err
		}
		g := &VPNCustomerGateway{Owner: o}
		if err := checkCustomerGateway(g, r, false); err != nil {
			return err
		}
		for _, x := range ix.vpnCustGateways.all() {
			if x.AccountID == o.AccountID && x.Name == g.Name {
				return Invalid("The customer gateway with name %s already existed!", g.Name)
			}
		}
		g.ID, g.Seq, g.Created = newID(), ix.nextSeq(), s.clock.Now().UTC()
		b := &batch{}
		put(b, ix.vpnCustGateways, g)
		ix.event(b, s, o, c, "VPN.S2S.CUSTOMER.GATEWAY.CREATE", "Successfully created s2s customer gateway "+g.Name, g.ID, KindVPNCustomerGateway)
		job = s.finishedJob(b, c, o, r.Cmd, KindVPNCustomerGateway, g.ID, g)
		out = g
		return s.commit(ctx, b)
	})
	return out, job, err
}

// UpdateVPNCustomerGateway replaces a customer gateway's settings (every
// one is given again, as CloudStack asks) and resets its connections.
func (s *Sim) UpdateVPNCustomerGateway(ctx context.Context, c Caller, id string, r CustomerGatewaySpec) (*Job, error) {
	var job *Job
	err := s.write(func(ix *index) error {
		cur, ok := ix.vpnCustGateways.get(id)
		if !ok || !ix.canAccess(c, cur.Owner) {
			return notFound(KindVPNCustomerGateway, id)
		}
		n := *cur
		if err := checkCustomerGateway(&n, r, true); err != nil {
			return err
		}
		for _, x := range ix.vpnCustGateways.all() {
			if x.AccountID == n.AccountID && x.Name == n.Name && x.ID != n.ID {
				return Invalid("The customer gateway with name %s already existed!", n.Name)
			}
		}
		b := &batch{}
		put(b, ix.vpnCustGateways, &n)
		for _, conn := range ix.vpnConnections.all() {
			if conn.CustomerGatewayID == id && conn.State != VPNPending && ix.canAccess(c, conn.Owner) {
				cc := *conn
				cc.State = connectedState(cc.Passive)
				put(b, ix.vpnConnections, &cc)
			}
		}
		ix.event(b, s, n.Owner, c, "VPN.S2S.CUSTOMER.GATEWAY.UPDATE", "Successfully updated s2s customer gateway "+n.Name, n.ID, KindVPNCustomerGateway)
		job = s.finishedJob(b, c, n.Owner, r.Cmd, KindVPNCustomerGateway, n.ID, &n)
		return s.commit(ctx, b)
	})
	return job, err
}

// DeleteVPNCustomerGateway deletes a customer gateway no connection uses.
func (s *Sim) DeleteVPNCustomerGateway(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	var job *Job
	err := s.write(func(ix *index) error {
		g, ok := ix.vpnCustGateways.get(id)
		if !ok || !ix.canAccess(c, g.Owner) {
			return notFound(KindVPNCustomerGateway, id)
		}
		for _, conn := range ix.vpnConnections.all() {
			if conn.CustomerGatewayID == id {
				return Invalid("Unable to delete VPN customer gateway with id %s because there is still related VPN connections!", id)
			}
		}
		b := &batch{}
		del(b, ix.vpnCustGateways, id)
		ix.event(b, s, g.Owner, c, "VPN.S2S.CUSTOMER.GATEWAY.DELETE", "Successfully deleted s2s customer gateway "+g.Name, id, KindVPNCustomerGateway)
		job = s.finishedJob(b, c, g.Owner, cmd, KindVPNCustomerGateway, id, nil)
		return s.commit(ctx, b)
	})
	return job, err
}

// CreateVPNGateway creates a VPC's VPN gateway on its source NAT address
// (or on ipID, an address of the VPC).
func (s *Sim) CreateVPNGateway(ctx context.Context, c Caller, vpcID, ipID string, display *bool, cmd string) (*VPNGateway, *Job, error) {
	var out *VPNGateway
	var job *Job
	err := s.write(func(ix *index) error {
		v, err := ix.vpcFor(c, vpcID)
		if err != nil {
			return err
		}
		for _, g := range ix.vpnGateways.all() {
			if g.VPCID == v.ID {
				return Invalid("The VPN gateway of VPC %s already existed!", v.ID)
			}
		}
		if ipID != "" {
			p, ok := ix.publicIPs.get(ipID)
			if !ok || p.VPCID != v.ID {
				return Invalid("Cannot found specified public ip %s of vpc %s", ipID, v.ID)
			}
		} else {
			for _, p := range ix.publicIPs.all() {
				if p.VPCID == v.ID && p.SourceNAT {
					ipID = p.ID
				}
			}
			if ipID == "" {
				return Errorf(CodeInternal, CSCloudRuntime, "Cannot found source nat ip of vpc %s", v.ID)
			}
		}
		g := &VPNGateway{ID: newID(), Seq: ix.nextSeq(), VPCID: v.ID, PublicIPID: ipID, Display: display == nil || *display,
			Created: s.clock.Now().UTC(), Owner: v.Owner}
		b := &batch{}
		put(b, ix.vpnGateways, g)
		ix.event(b, s, v.Owner, c, "VPN.S2S.VPN.GATEWAY.CREATE", "Successfully created s2s vpn gateway for VPC "+v.Name, g.ID, KindVPNGateway)
		job = s.finishedJob(b, c, v.Owner, cmd, KindVPNGateway, g.ID, g)
		out = g
		return s.commit(ctx, b)
	})
	return out, job, err
}

// DeleteVPNGateway deletes a VPN gateway no connection uses.
func (s *Sim) DeleteVPNGateway(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	var job *Job
	err := s.write(func(ix *index) error {
		g, ok := ix.vpnGateways.get(id)
		if !ok || !ix.canAccess(c, g.Owner) {
			return notFound(KindVPNGateway, id)
		}
		for _, conn := range ix.vpnConnections.all() {
			if conn.GatewayID == id {
				return Invalid("Unable to delete VPN gateway %s because there is still related VPN connections!", id)
			}
		}
		b := &batch{}
		del(b, ix.vpnGateways, id)
		ix.event(b, s, g.Owner, c, "VPN.S2S.VPN.GATEWAY.DELETE", "Successfully deleted s2s vpn gateway "+id, id, KindVPNGateway)
		job = s.finishedJob(b, c, g.Owner, cmd, KindVPNGateway, id, nil)
		return s.commit(ctx, b)
	})
	return job, err
}

// connectedState is where a started connection goes: a passive one waits
// for the far end.
func connectedState(passive bool) string {
	if passive {
		return VPNDisconnected
	}
	return VPNConnected
}

// CreateVPNConnection joins a VPN gateway and a customer gateway of the
// same account, and starts the connection.
func (s *Sim) CreateVPNConnection(ctx context.Context, c Caller, customerGatewayID, gatewayID string, passive bool, display *bool, cmd string) (*VPNConnection, *Job, error) {
	var out *VPNConnection
	var job *Job
	err := s.write(func(ix *index) error {
		cg, ok := ix.vpnCustGateways.get(customerGatewayID)
		if !ok || !ix.canAccess(c, cg.Owner) {
			return notFound(KindVPNCustomerGateway, customerGatewayID)
		}
		g, ok := ix.vpnGateways.get(gatewayID)
		if !ok || !ix.canAccess(c, g.Owner) {
			return notFound(KindVPNGateway, gatewayID)
		}
		if cg.Owner != g.Owner {
			return Invalid("VPN connection can only be esitablished between same account's VPN gateway and customer gateway!")
		}
		var conns []*VPNConnection
		for _, conn := range ix.vpnConnections.all() {
			if conn.GatewayID != gatewayID {
				continue
			}
			if conn.CustomerGatewayID == customerGatewayID {
				return Invalid("The vpn connection with customer gateway id %s and vpn gateway id %s already existed!", customerGatewayID, gatewayID)
			}
			conns = append(conns, conn)
		}
		cidrs := strings.Split(cg.CIDRList, ",")
		if v, ok := ix.vpcs.get(g.VPCID); ok {
			vp, _ := netip.ParsePrefix(v.CIDR)
			for _, cidr := range cidrs {
				if p, err := netip.ParsePrefix(cidr); err == nil && p.Overlaps(vp) {
					return Invalid("The subnets of customer gateway %s's subnet %s is overlapped with VPC cidr %s!", customerGatewayID, cidr, v.CIDR)
				}
			}
		}
		if len(conns) >= vpnConnLimit {
			return Invalid("There are too many VPN connections with current VPN gateway! The limit is %d", vpnConnLimit)
		}
		for _, conn := range conns {
			other, ok := ix.vpnCustGateways.get(conn.CustomerGatewayID)
			if !ok {
				continue
			}
			for _, old := range strings.Split(other.CIDRList, ",") {
				op, err := netip.ParsePrefix(old)
				if err != nil {
					continue
				}
				for _, cidr := range cidrs {
					if p, err := netip.ParsePrefix(cidr); err == nil && p.Overlaps(op) {
						return Invalid("The new connection's remote subnet %s is overlapped with existed VPN connection to customer gateway %s's subnet %s", cidr, other.Name, old)
					}
				}
			}
		}
		conn := &VPNConnection{ID: newID(), Seq: ix.nextSeq(), GatewayID: gatewayID, CustomerGatewayID: customerGatewayID, Passive: passive,
			State: connectedState(passive), Display: display == nil || *display, Created: s.clock.Now().UTC(), Owner: g.Owner}
		b := &batch{}
		put(b, ix.vpnConnections, conn)
		ix.event(b, s, g.Owner, c, "VPN.S2S.CONNECTION.CREATE", "Successfully created s2s vpn connection to "+cg.Name, conn.ID, KindVPNConnection)
		job = s.finishedJob(b, c, g.Owner, cmd, KindVPNConnection, conn.ID, conn)
		out = conn
		return s.commit(ctx, b)
	})
	return out, job, err
}

// vpnConnectionFor returns a connection c may use.
func (ix *index) vpnConnectionFor(c Caller, id string) (*VPNConnection, error) {
	conn, ok := ix.vpnConnections.get(id)
	if !ok || !ix.canAccess(c, conn.Owner) {
		return nil, notFound(KindVPNConnection, id)
	}
	return conn, nil
}

// ResetVPNConnection stops and starts a connection again.
func (s *Sim) ResetVPNConnection(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	var job *Job
	err := s.write(func(ix *index) error {
		cur, err := ix.vpnConnectionFor(c, id)
		if err != nil {
			return err
		}
		n := *cur
		n.State = connectedState(n.Passive)
		b := &batch{}
		put(b, ix.vpnConnections, &n)
		ix.event(b, s, n.Owner, c, "VPN.S2S.CONNECTION.RESET", "Successfully reset s2s vpn connection "+id, id, KindVPNConnection)
		job = s.finishedJob(b, c, n.Owner, cmd, KindVPNConnection, id, &n)
		return s.commit(ctx, b)
	})
	return job, err
}

// UpdateVPNConnection changes a connection's display flag.
func (s *Sim) UpdateVPNConnection(ctx context.Context, c Caller, id string, display *bool, cmd string) (*Job, error) {
	var job *Job
	err := s.write(func(ix *index) error {
		cur, err := ix.vpnConnectionFor(c, id)
		if err != nil {
			return err
		}
		n := *cur
		if display != nil {
			n.Display = *display
		}
		b := &batch{}
		put(b, ix.vpnConnections, &n)
		job = s.finishedJob(b, c, n.Owner, cmd, KindVPNConnection, id, &n)
		return s.commit(ctx, b)
	})
	return job, err
}

// DeleteVPNConnection stops and deletes a connection.
func (s *Sim) DeleteVPNConnection(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	var job *Job
	err := s.write(func(ix *index) error {
		conn, err := ix.vpnConnectionFor(c, id)
		if err != nil {
			return err
		}
		b := &batch{}
		del(b, ix.vpnConnections, id)
		ix.event(b, s, conn.Owner, c, "VPN.S2S.CONNECTION.DELETE", "Successfully deleted s2s vpn connection "+id, id, KindVPNConnection)
		job = s.finishedJob(b, c, conn.Owner, cmd, KindVPNConnection, id, nil)
		return s.commit(ctx, b)
	})
	return job, err
}

// presharedKey generates a remote access VPN's key, as CloudStack's
// PasswordGenerator.generatePresharedKey does: letters and digits.
func presharedKey(n int) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
		if err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		b[i] = chars[k.Int64()]
	}
	return string(b)
}

// parseIPRange reads a client range a.b.c.d-e.f.g.h, with
// RemoteAccessVpnManagerImpl's texts.
func parseIPRange(r string) (netip.Addr, netip.Addr, error) {
	parts := strings.Split(r, "-")
	if len(parts) != 2 {
		return netip.Addr{}, netip.Addr{}, Invalid("IP range [%s] is an invalid IP range.", r)
	}
	lo, err1 := netip.ParseAddr(parts[0])
	hi, err2 := netip.ParseAddr(parts[1])
	if err1 != nil || err2 != nil || !lo.Is4() || !hi.Is4() {
		return netip.Addr{}, netip.Addr{}, Invalid("One or both IPs sets in the range [%s] are invalid IPs.", r)
	}
	if hi.Less(lo) {
		return netip.Addr{}, netip.Addr{}, Invalid("Range of IPs [%s] is invalid.", r)
	}
	return lo, hi, nil
}

// CreateRemoteAccessVPN starts a remote access VPN on a public address of
// an isolated network or of a VPC (the same VPN again when one is there
// already, as CloudStack answers).
func (s *Sim) CreateRemoteAccessVPN(ctx context.Context, c Caller, ipID, ipRange string, display *bool, cmd string) (*RemoteAccessVPN, *Job, error) {
	var out *RemoteAccessVPN
	var job *Job
	err := s.write(func(ix *index) error {
		p, err := ix.publicIPFor(c, ipID)
		if err != nil {
			return err
		}
		if p.NetworkID == "" && p.VPCID == "" {
			return Invalid("Unable to create remote access vpn for the ipAddress: %s as ip is not associated with any network or VPC", p.Address)
		}
		for _, v := range ix.remoteVPNs.all() {
			if v.PublicIPID == p.ID {
				return Invalid("A remote Access VPN already exists for the public IP address [%s].", p.Address)
			}
		}
		if ipRange == "" {
			ipRange = vpnDefaultRange
		}
		lo, hi, err := parseIPRange(ipRange)
		if err != nil {
			return err
		}
		var guest string
		if p.NetworkID != "" {
			for _, v := range ix.remoteVPNs.all() {
				if v.AccountID == p.AccountID && v.NetworkID == p.NetworkID {
					return Invalid("A remote access VPN already exists for the account [%s].", p.AccountID)
				}
			}
			n, ok := ix.networks.get(p.NetworkID)
			if !ok {
				return notFound(KindNetwork, p.NetworkID)
			}
			if off, ok := ix.networkOfferings.get(n.OfferingID); !ok || !off.HasService("Vpn") {
				return Invalid("Vpn service is not supported in network id=%s", n.ID)
			}
			guest = n.CIDR
		} else if v, ok := ix.vpcs.get(p.VPCID); ok {
			guest = v.CIDR
		}
		if gp, err := netip.ParsePrefix(guest); err == nil {
			gp = gp.Masked()
			first, last := gp.Addr(), lastAddr(gp)
			if !(hi.Less(first) || last.Less(lo)) {
				return Invalid("Invalid ip range: %s overlaps with guest ip range %s-%s", ipRange, first, last)
			}
		}
		v := &RemoteAccessVPN{ID: newID(), Seq: ix.nextSeq(), PublicIPID: p.ID, NetworkID: p.NetworkID, VPCID: p.VPCID, LocalIP: lo.String(),
			IPRange: lo.Next().String() + "-" + hi.String(), PresharedKey: presharedKey(vpnPresharedSize), State: "Running",
			Display: display == nil || *display, Created: s.clock.Now().UTC(), Owner: p.Owner}
		b := &batch{}
		put(b, ix.remoteVPNs, v)
		ix.event(b, s, p.Owner, c, "VPN.REMOTE.ACCESS.CREATE", "Created remote access VPN on "+p.Address, v.ID, KindRemoteAccessVPN)
		job = s.finishedJob(b, c, p.Owner, cmd, KindRemoteAccessVPN, v.ID, v)
		out = v
		return s.commit(ctx, b)
	})
	return out, job, err
}

// lastAddr is the last address of a prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	n := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	n |= 1<<(32-p.Bits()) - 1
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

// remoteAccessVPNFor returns the VPN of a public address c may use.
func (ix *index) remoteAccessVPNFor(c Caller, ipID string) (*RemoteAccessVPN, error) {
	for _, v := range ix.remoteVPNs.all() {
		if v.PublicIPID == ipID {
			if !ix.canAccess(c, v.Owner) {
				break
			}
			return v, nil
		}
	}
	return nil, Invalid("Unable to find your vpn: %s", ipID)
}

// UpdateRemoteAccessVPN changes a VPN's display flag.
func (s *Sim) UpdateRemoteAccessVPN(ctx context.Context, c Caller, id string, display *bool, cmd string) (*Job, error) {
	var job *Job
	err := s.write(func(ix *index) error {
		cur, ok := ix.remoteVPNs.get(id)
		if !ok || !ix.canAccess(c, cur.Owner) {
			return notFound(KindRemoteAccessVPN, id)
		}
		n := *cur
		if display != nil {
			n.Display = *display
		}
		b := &batch{}
		put(b, ix.remoteVPNs, &n)
		ix.event(b, s, n.Owner, c, "VPN.REMOTE.ACCESS.UPDATE", "Updated remote access VPN "+id, id, KindRemoteAccessVPN)
		job = s.finishedJob(b, c, n.Owner, cmd, KindRemoteAccessVPN, id, &n)
		return s.commit(ctx, b)
	})
	return job, err
}

// DeleteRemoteAccessVPN stops the VPN on a public address.
func (s *Sim) DeleteRemoteAccessVPN(ctx context.Context, c Caller, ipID, cmd string) (*Job, error) {
	var job *Job
	err := s.write(func(ix *index) error {
		p, err := ix.publicIPFor(c, ipID)
		if err != nil {
			return err
		}
		v, err := ix.remoteAccessVPNFor(c, ipID)
		if err != nil {
			return err
		}
		b := &batch{}
		del(b, ix.remoteVPNs, v.ID)
		ix.event(b, s, v.Owner, c, "VPN.REMOTE.ACCESS.DESTROY", "Removed remote access VPN on "+p.Address, v.ID, KindRemoteAccessVPN)
		job = s.finishedJob(b, c, v.Owner, cmd, KindRemoteAccessVPN, v.ID, nil)
		return s.commit(ctx, b)
	})
	return job, err
}

var (
	vpnUsername = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9@._-]{2,63}$`)
	vpnPassword = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9@+=._-]{2,31}$`)
)

// AddVPNUser adds a remote access VPN user to an account.
func (s *Sim) AddVPNUser(ctx context.Context, c Caller, username, password, account, domainID, cmd string) (*VPNUser, *Job, error) {
	var out *VPNUser
	var job *Job
	err := s.write(func(ix *index) error {
		o, err := ix.ownerFor(c, account, domainID)
		if err != nil {
			return err
		}
		if !vpnUsername.MatchString(username) {
			return Invalid("Username [%s] is invalid. Username has to begin with an alphabet have 3-64 characters including alphabets, numbers and the set '@.-_'.", username)
		}
		if !vpnPassword.MatchString(password) {
			return Invalid("Password has to be 3-32 characters including alphabets, numbers and the set '@+=.-_'")
		}
		n := 0
		for _, u := range ix.vpnUsers.all() {
			if u.AccountID != o.AccountID {
				continue
			}
			if u.Username == username {
				return Invalid("VPN User with name %s is already added for account %s", username, ix.accountName(o.AccountID))
			}
			n++
		}
		if n >= vpnUserLimit {
			return Errorf(CodeResourceLimit, CSResourceAllocation, "Cannot add more than [%d] remote access VPN users to %s.", vpnUserLimit, ix.accountName(o.AccountID))
		}
		u := &VPNUser{ID: newID(), Seq: ix.nextSeq(), Username: username, Password: password, State: "Active", Created: s.clock.Now().UTC(), Owner: o}
		b := &batch{}
		put(b, ix.vpnUsers, u)
		ix.event(b, s, o, c, "VPN.USER.ADD", "Added VPN user "+username, u.ID, KindVPNUser)
		job = s.finishedJob(b, c, o, cmd, KindVPNUser, u.ID, u)
		out = u
		return s.commit(ctx, b)
	})
	return out, job, err
}

// accountName names an account for texts ("" when unknown).
func (ix *index) accountName(id string) string {
	if a, ok := ix.accounts.get(id); ok {
		return a.Name
	}
	return id
}

// RemoveVPNUser removes an account's VPN user.
func (s *Sim) RemoveVPNUser(ctx context.Context, c Caller, username, account, domainID, cmd string) (*Job, error) {
	var job *Job
	err := s.write(func(ix *index) error {
		o, err := ix.ownerFor(c, account, domainID)
		if err != nil {
			return err
		}
		var u *VPNUser
		for _, x := range ix.vpnUsers.all() {
			if x.AccountID == o.AccountID && x.Username == username {
				u = x
			}
		}
		if u == nil {
			return Invalid("Could not find VPN user=[%s]. VPN owner id=[%s]", username, o.AccountID)
		}
		b := &batch{}
		del(b, ix.vpnUsers, u.ID)
		ix.event(b, s, o, c, "VPN.USER.REMOVE", "Removed VPN user "+username, u.ID, KindVPNUser)
		job = s.finishedJob(b, c, o, cmd, KindVPNUser, u.ID, nil)
		return s.commit(ctx, b)
	})
	return job, err
}

// dropVPNOfIP adds to b the removal of what a public address carries of
// the VPN family: its remote access VPN, and a VPN gateway on it with the
// gateway's connections.
func (ix *index) dropVPNOfIP(b *batch, ipID string) {
	for _, v := range ix.remoteVPNs.all() {
		if v.PublicIPID == ipID {
			del(b, ix.remoteVPNs, v.ID)
		}
	}
	for _, g := range ix.vpnGateways.all() {
		if g.PublicIPID != ipID {
			continue
		}
		for _, conn := range ix.vpnConnections.all() {
			if conn.GatewayID == g.ID {
				del(b, ix.vpnConnections, conn.ID)
			}
		}
		del(b, ix.vpnGateways, g.ID)
	}
}

// purgeVPNs adds the removal of an account's VPN objects to b.
func (ix *index) purgeVPNs(b *batch, accountID string) {
	for _, conn := range ix.vpnConnections.all() {
		if conn.AccountID == accountID {
			del(b, ix.vpnConnections, conn.ID)
		}
	}
	for _, g := range ix.vpnGateways.all() {
		if g.AccountID == accountID {
			del(b, ix.vpnGateways, g.ID)
		}
	}
	for _, g := range ix.vpnCustGateways.all() {
		if g.AccountID == accountID {
			del(b, ix.vpnCustGateways, g.ID)
		}
	}
	for _, v := range ix.remoteVPNs.all() {
		if v.AccountID == accountID {
			del(b, ix.remoteVPNs, v.ID)
		}
	}
	for _, u := range ix.vpnUsers.all() {
		if u.AccountID == accountID {
			del(b, ix.vpnUsers, u.ID)
		}
	}
}

// existsVPN is Reader.Exists for the VPN family's kinds.
func (ix *index) existsVPN(k Kind, id string) bool {
	switch k {
	case KindVPNCustomerGateway:
		return has(ix.vpnCustGateways, id)
	case KindVPNGateway:
		return has(ix.vpnGateways, id)
	case KindVPNConnection:
		return has(ix.vpnConnections, id)
	case KindRemoteAccessVPN:
		return has(ix.remoteVPNs, id)
	case KindVPNUser:
		return has(ix.vpnUsers, id)
	}
	return ix.existsPrivateGateway(k, id)
}

// Reader access to the VPN family.

// VPNCustomerGateways returns every customer gateway in creation order.
func (r Reader) VPNCustomerGateways() []*VPNCustomerGateway { return r.ix.vpnCustGateways.all() }

// VPNCustomerGateway looks a customer gateway up by id.
func (r Reader) VPNCustomerGateway(id string) (*VPNCustomerGateway, bool) {
	return r.ix.vpnCustGateways.get(id)
}

// VPNGateways returns every VPN gateway in creation order.
func (r Reader) VPNGateways() []*VPNGateway { return r.ix.vpnGateways.all() }

// VPNGateway looks a VPN gateway up by id.
func (r Reader) VPNGateway(id string) (*VPNGateway, bool) { return r.ix.vpnGateways.get(id) }

// VPNConnections returns every site-to-site connection in creation order.
func (r Reader) VPNConnections() []*VPNConnection { return r.ix.vpnConnections.all() }

// RemoteAccessVPNs returns every remote access VPN in creation order.
func (r Reader) RemoteAccessVPNs() []*RemoteAccessVPN { return r.ix.remoteVPNs.all() }

// VPNUsers returns every VPN user in creation order.
func (r Reader) VPNUsers() []*VPNUser { return r.ix.vpnUsers.all() }
