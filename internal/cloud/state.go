package cloud

import (
	"context"
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

	meta meta
	seq  int64
	// dc is the data center description (default limits).
	dc *Datacenter
	// apiKeys maps API keys to user ids.
	apiKeys map[string]string
	// claimed holds the assigned addresses of each network (or public pool).
	claimed map[string]map[uint32]bool
	// nextIP is where the next address search in a network starts (writers only).
	nextIP map[string]uint32
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
		apiKeys:          map[string]string{},
		claimed:          map[string]map[uint32]bool{},
		nextIP:           map[string]uint32{},
	}
	ix.tags.group = func(t *Tag) string { return t.ResourceID }
	ix.vms.group = func(v *VM) string { return v.AccountID }
	return ix
}

// load reads the whole state from the store.
func (ix *index) load(ctx context.Context, st store.Store) error {
	kv, err := st.Get(ctx, metaKey)
	if err != nil {
		return err
	}
	if err := jsonUnmarshal(kv.Value, &ix.meta); err != nil {
		return err
	}
	loaders := []interface {
		load(context.Context, store.Store) error
	}{ix.zones, ix.pods, ix.clusters, ix.hosts, ix.serviceOfferings, ix.diskOfferings, ix.networkOfferings,
		ix.osTypes, ix.templates, ix.domains, ix.accounts, ix.users, ix.vms, ix.volumes, ix.networks,
		ix.publicIPs, ix.securityGroups, ix.keyPairs, ix.tags, ix.events, ix.jobs, ix.mocks}
	for _, l := range loaders {
		if err := l.load(ctx, st); err != nil {
			return err
		}
	}
	ix.seq = max(maxSeq(ix.zones), maxSeq(ix.pods), maxSeq(ix.clusters), maxSeq(ix.hosts),
		maxSeq(ix.serviceOfferings), maxSeq(ix.diskOfferings), maxSeq(ix.networkOfferings), maxSeq(ix.osTypes),
		maxSeq(ix.templates), maxSeq(ix.domains), maxSeq(ix.accounts), maxSeq(ix.users), maxSeq(ix.vms),
		maxSeq(ix.volumes), maxSeq(ix.networks), maxSeq(ix.publicIPs), maxSeq(ix.securityGroups),
		maxSeq(ix.keyPairs), maxSeq(ix.tags), maxSeq(ix.events), maxSeq(ix.jobs), maxSeq(ix.mocks))
	for _, u := range ix.users.all() {
		if u.APIKey != "" {
			ix.apiKeys[u.APIKey] = u.ID
		}
	}
	res, err := st.List(ctx, claimPrefix, store.ListOptions{})
	if err != nil {
		return err
	}
	for _, kv := range res.KVs {
		rest := strings.TrimPrefix(kv.Key, claimPrefix)
		net, ip, ok := strings.Cut(rest, "/")
		if !ok {
			continue
		}
		a, err := parseIP(ip)
		if err != nil {
			continue
		}
		ix.markClaimed(net, a, true)
	}
	return nil
}

func (ix *index) markClaimed(network string, ip uint32, on bool) {
	m := ix.claimed[network]
	if m == nil {
		if !on {
			return
		}
		m = map[uint32]bool{}
		ix.claimed[network] = m
	}
	if on {
		m[ip] = true
	} else {
		delete(m, ip)
	}
}

func maxSeq[T any](t *table[T]) int64 {
	var n int64
	for _, r := range t.m {
		n = max(n, t.seq(r.v))
	}
	return n
}
