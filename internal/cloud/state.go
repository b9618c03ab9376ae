package cloud

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/stratus-cloud/stratus/internal/store"
)

// metaKey marks a seeded store and records the admin user.
const metaKey = keyRoot + "meta"

// claimPrefix holds one key per assigned address, /cloud/ipclaims/<network>/<ip>:
// creating it with an absent-condition is what makes an address impossible
// to hand out twice, even by two servers sharing a store.
const claimPrefix = keyRoot + "ipclaims/"

// meta is the value at metaKey.
type meta struct {
	Datacenter  string `json:"datacenter"`
	AdminUserID string `json:"adminUserId"`
}

// seqKey holds the end of the highest block of creation sequence numbers
// any server has reserved (see index.nextSeq).
const seqKey = keyRoot + "seq"

// syncKey is touched by every transaction of the simulator: its ModRev is
// the revision of the last change to the cloud, which Sync waits for.
const syncKey = keyRoot + "lastwrite"

// seqBlock is how many sequence numbers a server reserves at a time.
const seqBlock = 100

// index is the in-memory mirror of the simulator's state in the store.
type index struct {
	zones            *table[Zone]
	pods             *table[Pod]
	clusters         *table[Cluster]
	hosts            *table[Host]
	serviceOfferings *table[ServiceOffering]
	diskOfferings    *table[DiskOffering]
	networkOfferings *table[NetworkOffering]
	osTypes          *table[OSType]
	templates        *table[Template]
	domains          *table[Domain]
	accounts         *table[Account]
	users            *table[User]
	vms              *table[VM]
	volumes          *table[Volume]
	networks         *table[Network]
	publicIPs        *table[PublicIP]
	securityGroups   *table[SecurityGroup]
	keyPairs         *table[SSHKeyPair]
	tags             *table[Tag]
	events           *table[Event]
	jobs             *table[Job]
	mocks            *table[Mock]
	rules            *table[NetRule]
	secondaryIPs     *table[SecondaryIP]
	removedVMs       *table[RemovedVM]
	snapshots        *table[Snapshot]
	affinityGroups   *table[AffinityGroup]
	vmSnapshots      *table[VMSnapshot]
	vpcs             *table[VPC]
	aclLists         *table[NetworkACLList]
	aclItems         *table[NetworkACLItem]
	vpnCustGateways  *table[VPNCustomerGateway]
	vpnGateways      *table[VPNGateway]
	vpnConnections   *table[VPNConnection]
	remoteVPNs       *table[RemoteAccessVPN]
	vpnUsers         *table[VPNUser]
	projects         *table[Project]
	invitations      *table[ProjectInvitation]
	settings         *table[Setting]
	snapPolicies     *table[SnapshotPolicy]
	alerts           *table[Alert]
	instanceGroups   *table[InstanceGroup]
	vpcOfferings     *table[VPCOffering]
	privateGateways  *table[PrivateGateway]
	staticRoutes     *table[StaticRoute]
	// ruleIdx holds the derived lookups of rules and static NAT.
	ruleIdx *ruleIndex

	// mirrors maps a table's key segment ("vms") to it, for applying
	// stored values by key.
	mirrors map[string]mirror

	meta meta
	// dc is the data center description (default limits).
	dc *Datacenter
	// apiKeys maps API keys to user ids (kept in step with users).
	apiKeys map[string]string
	// claimed holds the assigned addresses of each network (or public
	// pool), with the revision of each claim.
	claimed map[string]map[uint32]int64
	// nextIP is where the next address search in a network starts (writers only).
	nextIP map[string]uint32
	// guards holds the revision of each account's usage key (see guardUsage).
	guards map[string]int64
	// tombs holds the revision of this server's recent deletes by key,
	// until the store's watch has gone past them, so an older change of
	// the key arriving late on the watch does not bring it back.
	tombs map[string]int64

	// Creation sequence numbers: this server hands out seq+1 … seqEnd and
	// owns them once seqEnd is stored at seqKey (seqReserved); seqStored
	// and seqRev are seqKey's value and revision as last seen.
	seq, seqEnd, seqReserved int64
	seqStored, seqRev        int64
	seqDirty                 bool
}

// mirror is a table as the store's changes see it.
type mirror interface {
	stalePut(id string, rev int64) bool
	staleDelete(id string, rev int64) bool
	applyPut(id string, kv *store.KV) error
	applyDelete(id string, rev int64)
}

func newIndex() *index {
	ix := &index{
		zones:            newTable(KindZone, "zones", func(v *Zone) string { return v.ID }, func(v *Zone) int64 { return v.Seq }),
		pods:             newTable(KindPod, "pods", func(v *Pod) string { return v.ID }, func(v *Pod) int64 { return v.Seq }),
		clusters:         newTable(KindCluster, "clusters", func(v *Cluster) string { return v.ID }, func(v *Cluster) int64 { return v.Seq }),
		hosts:            newTable(KindHost, "hosts", func(v *Host) string { return v.ID }, func(v *Host) int64 { return v.Seq }),
		serviceOfferings: newTable(KindServiceOffering, "serviceofferings", func(v *ServiceOffering) string { return v.ID }, func(v *ServiceOffering) int64 { return v.Seq }),
		diskOfferings:    newTable(KindDiskOffering, "diskofferings", func(v *DiskOffering) string { return v.ID }, func(v *DiskOffering) int64 { return v.Seq }),
		networkOfferings: newTable(KindNetworkOffering, "networkofferings", func(v *NetworkOffering) string { return v.ID }, func(v *NetworkOffering) int64 { return v.Seq }),
		osTypes:          newTable(KindOSType, "ostypes", func(v *OSType) string { return v.ID }, func(v *OSType) int64 { return v.Seq }),
		templates:        newTable(KindTemplate, "templates", func(v *Template) string { return v.ID }, func(v *Template) int64 { return v.Seq }),
		domains:          newTable(KindDomain, "domains", func(v *Domain) string { return v.ID }, func(v *Domain) int64 { return v.Seq }),
		accounts:         newTable(KindAccount, "accounts", func(v *Account) string { return v.ID }, func(v *Account) int64 { return v.Seq }),
		users:            newTable(KindUser, "users", func(v *User) string { return v.ID }, func(v *User) int64 { return v.Seq }),
		vms:              newTable(KindVM, "vms", func(v *VM) string { return v.ID }, func(v *VM) int64 { return v.Seq }),
		volumes:          newTable(KindVolume, "volumes", func(v *Volume) string { return v.ID }, func(v *Volume) int64 { return v.Seq }),
		networks:         newTable(KindNetwork, "networks", func(v *Network) string { return v.ID }, func(v *Network) int64 { return v.Seq }),
		publicIPs:        newTable(KindPublicIP, "publicips", func(v *PublicIP) string { return v.ID }, func(v *PublicIP) int64 { return v.Seq }),
		securityGroups:   newTable(KindSecurityGroup, "securitygroups", func(v *SecurityGroup) string { return v.ID }, func(v *SecurityGroup) int64 { return v.Seq }),
		keyPairs:         newTable(KindSSHKeyPair, "sshkeypairs", func(v *SSHKeyPair) string { return v.ID }, func(v *SSHKeyPair) int64 { return v.Seq }),
		tags:             newTable(KindTag, "tags", func(v *Tag) string { return v.ID }, func(v *Tag) int64 { return v.Seq }),
		events:           newTable(KindEvent, "events", func(v *Event) string { return v.ID }, func(v *Event) int64 { return v.Seq }),
		jobs:             newTable(KindJob, "jobs", func(v *Job) string { return v.ID }, func(v *Job) int64 { return v.Seq }),
		mocks:            newTable(KindMock, "mocks", func(v *Mock) string { return v.ID }, func(v *Mock) int64 { return v.Seq }),
		rules:            newTable(KindFirewallRule, "netrules", func(v *NetRule) string { return v.ID }, func(v *NetRule) int64 { return v.Seq }),
		secondaryIPs:     newTable(KindSecondaryIP, "secondaryips", func(v *SecondaryIP) string { return v.ID }, func(v *SecondaryIP) int64 { return v.Seq }),
		removedVMs:       newTable(KindRemovedVM, "removedvms", func(v *RemovedVM) string { return v.ID }, func(v *RemovedVM) int64 { return v.Seq }),
		snapshots:        newTable(KindSnapshot, "snapshots", func(v *Snapshot) string { return v.ID }, func(v *Snapshot) int64 { return v.Seq }),
		affinityGroups:   newTable(KindAffinityGroup, "affinitygroups", func(v *AffinityGroup) string { return v.ID }, func(v *AffinityGroup) int64 { return v.Seq }),
		vmSnapshots:      newTable(KindVMSnapshot, "vmsnapshots", func(v *VMSnapshot) string { return v.ID }, func(v *VMSnapshot) int64 { return v.Seq }),
		vpcs:             newTable(KindVPC, "vpcs", func(v *VPC) string { return v.ID }, func(v *VPC) int64 { return v.Seq }),
		aclLists:         newTable(KindNetworkACLList, "networkacllists", func(v *NetworkACLList) string { return v.ID }, func(v *NetworkACLList) int64 { return v.Seq }),
		aclItems:         newTable(KindNetworkACLItem, "networkaclitems", func(v *NetworkACLItem) string { return v.ID }, func(v *NetworkACLItem) int64 { return v.Seq }),
		vpnCustGateways:  newTable(KindVPNCustomerGateway, "vpncustomergateways", func(v *VPNCustomerGateway) string { return v.ID }, func(v *VPNCustomerGateway) int64 { return v.Seq }),
		vpnGateways:      newTable(KindVPNGateway, "vpngateways", func(v *VPNGateway) string { return v.ID }, func(v *VPNGateway) int64 { return v.Seq }),
		vpnConnections:   newTable(KindVPNConnection, "vpnconnections", func(v *VPNConnection) string { return v.ID }, func(v *VPNConnection) int64 { return v.Seq }),
		remoteVPNs:       newTable(KindRemoteAccessVPN, "remoteaccessvpns", func(v *RemoteAccessVPN) string { return v.ID }, func(v *RemoteAccessVPN) int64 { return v.Seq }),
		vpnUsers:         newTable(KindVPNUser, "vpnusers", func(v *VPNUser) string { return v.ID }, func(v *VPNUser) int64 { return v.Seq }),
		projects:         newTable(KindProject, "projects", func(v *Project) string { return v.ID }, func(v *Project) int64 { return v.Seq }),
		invitations:      newTable(KindProjectInvitation, "projectinvitations", func(v *ProjectInvitation) string { return v.ID }, func(v *ProjectInvitation) int64 { return v.Seq }),
		settings:         newTable(KindSetting, "settings", func(v *Setting) string { return v.ID }, func(v *Setting) int64 { return v.Seq }),
		snapPolicies:     newTable(KindSnapshotPolicy, "snapshotpolicies", func(v *SnapshotPolicy) string { return v.ID }, func(v *SnapshotPolicy) int64 { return v.Seq }),
		alerts:           newTable(KindAlert, "alerts", func(v *Alert) string { return v.ID }, func(v *Alert) int64 { return v.Seq }),
		instanceGroups:   newTable(KindInstanceGroup, "instancegroups", func(v *InstanceGroup) string { return v.ID }, func(v *InstanceGroup) int64 { return v.Seq }),
		vpcOfferings:     newTable(KindVPCOffering, "vpcofferings", func(v *VPCOffering) string { return v.ID }, func(v *VPCOffering) int64 { return v.Seq }),
		privateGateways:  newTable(KindPrivateGateway, "privategateways", func(v *PrivateGateway) string { return v.ID }, func(v *PrivateGateway) int64 { return v.Seq }),
		staticRoutes:     newTable(KindStaticRoute, "staticroutes", func(v *StaticRoute) string { return v.ID }, func(v *StaticRoute) int64 { return v.Seq }),
		ruleIdx:          newRuleIndex(),
		apiKeys:          map[string]string{},
		claimed:          map[string]map[uint32]int64{},
		nextIP:           map[string]uint32{},
		tombs:            map[string]int64{},
		guards:           map[string]int64{},
	}
	ix.tags.group = func(t *Tag) string { return t.ResourceID }
	ix.vms.group = func(v *VM) string { return v.AccountID }
	ix.secondaryIPs.group = func(v *SecondaryIP) string { return v.NICID }
	ix.vmSnapshots.group = func(v *VMSnapshot) string { return v.VMID }
	ix.projects.group = func(v *Project) string { return v.AccountID }
	ix.rules.onChange = ix.ruleIdx.ruleChanged
	ix.publicIPs.onChange = ix.ruleIdx.ipChanged
	ix.users.onChange = func(old, n *User) {
		if old != nil && old.APIKey != "" && ix.apiKeys[old.APIKey] == old.ID {
			delete(ix.apiKeys, old.APIKey)
		}
		if n != nil && n.APIKey != "" {
			ix.apiKeys[n.APIKey] = n.ID
		}
	}
	ix.mirrors = map[string]mirror{}
	for _, m := range []interface {
		mirror
		segment() string
		setTombs(map[string]int64)
	}{ix.zones, ix.pods, ix.clusters, ix.hosts, ix.serviceOfferings, ix.diskOfferings, ix.networkOfferings,
		ix.osTypes, ix.templates, ix.domains, ix.accounts, ix.users, ix.vms, ix.volumes, ix.networks,
		ix.publicIPs, ix.securityGroups, ix.keyPairs, ix.tags, ix.events, ix.jobs, ix.mocks, ix.rules, ix.secondaryIPs, ix.removedVMs, ix.snapshots, ix.affinityGroups, ix.vmSnapshots, ix.vpcs, ix.aclLists, ix.aclItems,
		ix.vpnCustGateways, ix.vpnGateways, ix.vpnConnections, ix.remoteVPNs, ix.vpnUsers, ix.projects, ix.invitations, ix.settings, ix.snapPolicies, ix.alerts,
		ix.instanceGroups,
		ix.vpcOfferings, ix.privateGateways, ix.staticRoutes} {
		m.setTombs(ix.tombs)
		ix.mirrors[m.segment()] = m
	}
	return ix
}

// load reads the whole state from the store in one consistent list and
// returns the revision it reflects.
func (ix *index) load(ctx context.Context, st store.Store) (int64, error) {
	res, err := st.List(ctx, keyRoot, store.ListOptions{})
	if err != nil {
		return 0, err
	}
	seeded := false
	for _, kv := range res.KVs {
		if kv.Key == metaKey {
			seeded = true
		}
		if err := ix.apply(store.Event{Type: store.EventPut, KV: kv}); err != nil {
			return 0, err
		}
	}
	if !seeded {
		return 0, fmt.Errorf("%s: %w", metaKey, store.ErrNotFound)
	}
	ix.seq = max(maxSeq(ix.zones), maxSeq(ix.pods), maxSeq(ix.clusters), maxSeq(ix.hosts),
		maxSeq(ix.serviceOfferings), maxSeq(ix.diskOfferings), maxSeq(ix.networkOfferings), maxSeq(ix.osTypes),
		maxSeq(ix.templates), maxSeq(ix.domains), maxSeq(ix.accounts), maxSeq(ix.users), maxSeq(ix.vms),
		maxSeq(ix.volumes), maxSeq(ix.networks), maxSeq(ix.publicIPs), maxSeq(ix.securityGroups),
		maxSeq(ix.keyPairs), maxSeq(ix.tags), maxSeq(ix.events), maxSeq(ix.jobs), maxSeq(ix.mocks),
		maxSeq(ix.rules), maxSeq(ix.secondaryIPs), maxSeq(ix.removedVMs), maxSeq(ix.snapshots), maxSeq(ix.affinityGroups), maxSeq(ix.vmSnapshots),
		maxSeq(ix.vpcs), maxSeq(ix.aclLists), maxSeq(ix.aclItems),
		maxSeq(ix.vpnCustGateways), maxSeq(ix.vpnGateways), maxSeq(ix.vpnConnections), maxSeq(ix.remoteVPNs), maxSeq(ix.vpnUsers),
		maxSeq(ix.projects), maxSeq(ix.invitations), maxSeq(ix.settings), maxSeq(ix.snapPolicies), maxSeq(ix.alerts),
		maxSeq(ix.instanceGroups),
		maxSeq(ix.vpcOfferings), maxSeq(ix.privateGateways), maxSeq(ix.staticRoutes), ix.seqStored)
	// Nothing is reserved yet: the first nextSeq reserves a block.
	ix.seqEnd, ix.seqReserved = ix.seq, ix.seq
	return res.Rev, nil
}

// stale reports whether the index already reflects ev (this server's own
// change, applied when it committed, or one applied before).
func (ix *index) stale(ev store.Event) bool {
	rev := ev.KV.ModRev
	key := ev.KV.Key
	switch {
	case key == seqKey:
		return ix.seqRev >= rev
	case strings.HasPrefix(key, usagePrefix):
		r, held := ix.guards[strings.TrimPrefix(key, usagePrefix)]
		if ev.Type == store.EventDelete {
			return !held || r >= rev
		}
		return (held && r >= rev) || ix.tombs[key] >= rev
	case strings.HasPrefix(key, claimPrefix):
		net, a, ok := parseClaimKey(key)
		if !ok {
			return true
		}
		r, held := ix.claimed[net][a]
		if ev.Type == store.EventDelete {
			return !held || r >= rev
		}
		return (held && r >= rev) || ix.tombs[key] >= rev
	}
	seg, id, ok := strings.Cut(strings.TrimPrefix(key, keyRoot), "/")
	m := ix.mirrors[seg]
	if !ok || m == nil || !strings.HasPrefix(key, keyRoot) {
		return true // meta, syncKey, or a key this version does not know
	}
	if ev.Type == store.EventDelete {
		return m.staleDelete(id, rev)
	}
	return m.stalePut(id, rev)
}

// apply brings one stored change into the index, unless it is stale.
// Caller holds wmu and mu (or owns ix alone).
func (ix *index) apply(ev store.Event) error {
	kv := ev.KV
	key := kv.Key
	switch {
	case key == metaKey:
		if ev.Type == store.EventPut {
			return jsonUnmarshal(kv.Value, &ix.meta)
		}
		return nil
	case key == seqKey:
		if ev.Type != store.EventPut || ix.seqRev >= kv.ModRev {
			return nil
		}
		n, err := strconv.ParseInt(string(kv.Value), 10, 64)
		if err != nil {
			return fmt.Errorf("decode %s: %w", key, err)
		}
		ix.seqStored, ix.seqRev = n, kv.ModRev
		return nil
	case strings.HasPrefix(key, usagePrefix):
		if ix.stale(ev) {
			return nil
		}
		acc := strings.TrimPrefix(key, usagePrefix)
		if ev.Type == store.EventDelete {
			delete(ix.guards, acc)
		} else {
			ix.guards[acc] = kv.ModRev
		}
		return nil
	case strings.HasPrefix(key, claimPrefix):
		if ix.stale(ev) {
			return nil
		}
		net, a, _ := parseClaimKey(key)
		ix.markClaimed(net, a, kv.ModRev, ev.Type == store.EventPut)
		return nil
	}
	seg, id, ok := strings.Cut(strings.TrimPrefix(key, keyRoot), "/")
	m := ix.mirrors[seg]
	if !ok || m == nil || !strings.HasPrefix(key, keyRoot) {
		return nil
	}
	if ev.Type == store.EventDelete {
		m.applyDelete(id, kv.ModRev)
		return nil
	}
	return m.applyPut(id, kv)
}

// forget drops the tombstones of deletes at or before rev: the watch has
// delivered everything up to rev, so no older change can arrive any more.
func (ix *index) forget(rev int64) {
	for k, r := range ix.tombs {
		if r <= rev {
			delete(ix.tombs, k)
		}
	}
}

func parseClaimKey(key string) (string, uint32, bool) {
	net, ip, ok := strings.Cut(strings.TrimPrefix(key, claimPrefix), "/")
	if !ok {
		return "", 0, false
	}
	a, err := parseIP(ip)
	return net, a, err == nil
}

// markClaimed records (on) or drops the claim of an address made at rev.
func (ix *index) markClaimed(network string, ip uint32, rev int64, on bool) {
	m := ix.claimed[network]
	if m == nil {
		if !on {
			return
		}
		m = map[uint32]int64{}
		ix.claimed[network] = m
	}
	if on {
		m[ip] = rev
	} else {
		delete(m, ip)
	}
}

// nextSeq returns the next creation sequence number. Numbers come from a
// block this server reserves in the store (seqKey), so servers sharing a
// store never hand out the same one; a batch that starts a new block
// stores the reservation in its own transaction (seqOp), conditioned on
// seqKey being unchanged. Caller holds wmu.
func (ix *index) nextSeq() int64 {
	if ix.seq >= ix.seqEnd {
		ix.seq = max(ix.seq, ix.seqStored)
		ix.seqEnd = ix.seq + seqBlock
		ix.seqDirty = true
	}
	ix.seq++
	return ix.seq
}

// seqOp returns the write that reserves the block being handed out, if it
// is not reserved yet.
func (ix *index) seqOp() (store.Op, bool) {
	if !ix.seqDirty {
		return store.Op{}, false
	}
	v := []byte(strconv.FormatInt(ix.seqEnd, 10))
	if ix.seqRev == 0 {
		return store.Create(seqKey, v), true
	}
	return store.Update(seqKey, v, ix.seqRev), true
}

// seqCommitted records that a transaction with the pending reservation
// committed at rev.
func (ix *index) seqCommitted(rev int64) {
	if ix.seqDirty {
		ix.seqReserved, ix.seqStored, ix.seqRev, ix.seqDirty = ix.seqEnd, ix.seqEnd, rev, false
	}
}

// seqAbort gives up a block whose reservation did not commit: the next
// number starts a new one after whatever the store holds by then.
func (ix *index) seqAbort() {
	if ix.seqDirty {
		ix.seqEnd, ix.seqDirty = ix.seqReserved, false
	}
}

func maxSeq[T any](t *table[T]) int64 {
	var n int64
	for _, r := range t.m {
		n = max(n, t.seq(r.v))
	}
	return n
}
