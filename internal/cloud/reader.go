package cloud

// Reader is a consistent, read-only view of the simulator's state, valid
// only inside the function given to Sim.Read. Objects it returns are
// shared and must not be modified; they may be kept after Read returns.
type Reader struct{ ix *index }

// Read runs f with a consistent view of the state (under a read lock:
// keep f short, and do not call Sim's write methods from it).
func (s *Sim) Read(f func(r Reader)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	f(Reader{ix: s.ix})
}

// Zones, Pods, … return every object of a kind in creation order.
func (r Reader) Zones() []*Zone                       { return r.ix.zones.all() }
func (r Reader) Pods() []*Pod                         { return r.ix.pods.all() }
func (r Reader) Clusters() []*Cluster                 { return r.ix.clusters.all() }
func (r Reader) Hosts() []*Host                       { return r.ix.hosts.all() }
func (r Reader) ServiceOfferings() []*ServiceOffering { return r.ix.serviceOfferings.all() }
func (r Reader) DiskOfferings() []*DiskOffering       { return r.ix.diskOfferings.all() }
func (r Reader) NetworkOfferings() []*NetworkOffering { return r.ix.networkOfferings.all() }
func (r Reader) OSTypes() []*OSType                   { return r.ix.osTypes.all() }
func (r Reader) Templates() []*Template               { return r.ix.templates.all() }
func (r Reader) Domains() []*Domain                   { return r.ix.domains.all() }
func (r Reader) Accounts() []*Account                 { return r.ix.accounts.all() }
func (r Reader) Users() []*User                       { return r.ix.users.all() }
func (r Reader) VMs() []*VM                           { return r.ix.vms.all() }
func (r Reader) Volumes() []*Volume                   { return r.ix.volumes.all() }
func (r Reader) Networks() []*Network                 { return r.ix.networks.all() }
func (r Reader) PublicIPs() []*PublicIP               { return r.ix.publicIPs.all() }
func (r Reader) SecurityGroups() []*SecurityGroup     { return r.ix.securityGroups.all() }
func (r Reader) KeyPairs() []*SSHKeyPair              { return r.ix.keyPairs.all() }
func (r Reader) Tags() []*Tag                         { return r.ix.tags.all() }
func (r Reader) Events() []*Event                     { return r.ix.events.all() }
func (r Reader) Jobs() []*Job                         { return r.ix.jobs.all() }

// VMsOf returns an account's VMs in creation order.
func (r Reader) VMsOf(accountID string) []*VM { return r.ix.vms.byGroup(accountID) }

// TagsOf returns a resource's tags.
func (r Reader) TagsOf(resourceID string) []*Tag { return r.ix.tags.byGroup(resourceID) }

// Zone, Pod, … look one object up by id.
func (r Reader) Zone(id string) (*Zone, bool)       { return r.ix.zones.get(id) }
func (r Reader) Pod(id string) (*Pod, bool)         { return r.ix.pods.get(id) }
func (r Reader) Cluster(id string) (*Cluster, bool) { return r.ix.clusters.get(id) }
func (r Reader) Host(id string) (*Host, bool)       { return r.ix.hosts.get(id) }
func (r Reader) ServiceOffering(id string) (*ServiceOffering, bool) {
	return r.ix.serviceOfferings.get(id)
}
func (r Reader) DiskOffering(id string) (*DiskOffering, bool) { return r.ix.diskOfferings.get(id) }
func (r Reader) NetworkOffering(id string) (*NetworkOffering, bool) {
	return r.ix.networkOfferings.get(id)
}
func (r Reader) OSType(id string) (*OSType, bool)               { return r.ix.osTypes.get(id) }
func (r Reader) Template(id string) (*Template, bool)           { return r.ix.templates.get(id) }
func (r Reader) Domain(id string) (*Domain, bool)               { return r.ix.domains.get(id) }
func (r Reader) Account(id string) (*Account, bool)             { return r.ix.accounts.get(id) }
func (r Reader) User(id string) (*User, bool)                   { return r.ix.users.get(id) }
func (r Reader) VM(id string) (*VM, bool)                       { return r.ix.vms.get(id) }
func (r Reader) Volume(id string) (*Volume, bool)               { return r.ix.volumes.get(id) }
func (r Reader) Network(id string) (*Network, bool)             { return r.ix.networks.get(id) }
func (r Reader) PublicIP(id string) (*PublicIP, bool)           { return r.ix.publicIPs.get(id) }
func (r Reader) SecurityGroup(id string) (*SecurityGroup, bool) { return r.ix.securityGroups.get(id) }
func (r Reader) KeyPair(id string) (*SSHKeyPair, bool)          { return r.ix.keyPairs.get(id) }
func (r Reader) Job(id string) (*Job, bool)                     { return r.ix.jobs.get(id) }
func (r Reader) Event(id string) (*Event, bool)                 { return r.ix.events.get(id) }

// Exists reports whether an object of kind k has the given id.
func (r Reader) Exists(k Kind, id string) bool {
	ix := r.ix
	switch k {
	case KindZone:
		return has(ix.zones, id)
	case KindPod:
		return has(ix.pods, id)
	case KindCluster:
		return has(ix.clusters, id)
	case KindHost:
		return has(ix.hosts, id)
	case KindServiceOffering:
		return has(ix.serviceOfferings, id)
	case KindDiskOffering:
		return has(ix.diskOfferings, id)
	case KindNetworkOffering:
		return has(ix.networkOfferings, id)
	case KindTemplate:
		return has(ix.templates, id)
	case KindOSType:
		return has(ix.osTypes, id)
	case KindDomain:
		return has(ix.domains, id)
	case KindAccount:
		return has(ix.accounts, id)
	case KindUser:
		return has(ix.users, id)
	case KindVM:
		return has(ix.vms, id)
	case KindVolume:
		return has(ix.volumes, id)
	case KindNetwork:
		return has(ix.networks, id)
	case KindPublicIP:
		return has(ix.publicIPs, id)
	case KindSecurityGroup:
		return has(ix.securityGroups, id)
	case KindSSHKeyPair:
		return has(ix.keyPairs, id)
	case KindJob:
		return has(ix.jobs, id)
	case KindMock:
		return has(ix.mocks, id)
	case KindProject:
		return has(ix.projects, id)
	case KindProjectInvitation:
		return has(ix.invitations, id)
	case KindSnapshotPolicy:
		return has(ix.snapPolicies, id)
	case KindAlert:
		return has(ix.alerts, id)
	case KindInstanceGroup:
		return has(ix.instanceGroups, id)
	}
	return ix.existsNet(k, id)
}

// CanAccess reports whether c may see and change what o owns.
func (r Reader) CanAccess(c Caller, o Owner) bool { return r.ix.canAccess(c, o) }

// InDomain reports whether domain d is top or below it.
func (r Reader) InDomain(d, top string) bool { return r.ix.inDomain(d, top) }

// ScopeFilter returns the owner predicate of a list by c in scope sc.
func (r Reader) ScopeFilter(c Caller, sc Scope) (func(Owner) bool, error) {
	return r.ix.scopeFilter(c, sc)
}

// IPUsage returns how many addresses a network has and how many are assigned.
func (r Reader) IPUsage(n *Network) (total, used int64) { return r.ix.ipCount(n) }

// Usage counts what an account uses of each limited resource.
func (r Reader) Usage(accountID string) map[Resource]int64 { return r.ix.usage(accountID) }

// LimitOf returns an account's limit of a resource (-1: unlimited).
func (r Reader) LimitOf(a *Account, res Resource) int64 { return r.ix.limitOf(a, res, r.ix.dc) }

// AccountByName finds an account by name in a domain.
func (r Reader) AccountByName(name, domainID string) (*Account, bool) {
	a := r.ix.accountByName(name, domainID)
	return a, a != nil
}
