package cloud

import (
	"context"
	"fmt"
	"strconv"

	"github.com/stratus-cloud/stratus/internal/store"
)

// Resource is a kind of limited resource, numbered as CloudStack's
// resourcetype.
type Resource int

// Limited resources.
const (
	ResUserVM           Resource = 0
	ResPublicIP         Resource = 1
	ResVolume           Resource = 2
	ResSnapshot         Resource = 3
	ResTemplate         Resource = 4
	ResProject          Resource = 5
	ResNetwork          Resource = 6
	ResVPC              Resource = 7
	ResCPU              Resource = 8
	ResMemory           Resource = 9
	ResPrimaryStorage   Resource = 10
	ResSecondaryStorage Resource = 11
)

var resourceNames = []string{"user_vm", "public_ip", "volume", "snapshot", "template", "project", "network", "vpc",
	"cpu", "memory", "primary_storage", "secondary_storage"}

// Resources lists every limited resource in order.
func Resources() []Resource {
	out := make([]Resource, len(resourceNames))
	for i := range out {
		out[i] = Resource(i)
	}
	return out
}

// Name is the resource's resourcetypename.
func (r Resource) Name() string {
	if r < 0 || int(r) >= len(resourceNames) {
		return fmt.Sprintf("resource_%d", int(r))
	}
	return resourceNames[r]
}

func resourceByName(n string) (Resource, bool) {
	for i, x := range resourceNames {
		if x == n {
			return Resource(i), true
		}
	}
	return 0, false
}

// ParseResource reads a resourcetype number.
func ParseResource(n int) (Resource, bool) { return Resource(n), n >= 0 && n < len(resourceNames) }

// limitOf returns an account's limit for r (-1: unlimited).
func (ix *index) limitOf(acc *Account, r Resource, dc *Datacenter) int64 {
	if acc.Type == AccountRootAdmin {
		if v, ok := acc.Limits[r]; ok {
			return v
		}
		return -1
	}
	if v, ok := acc.Limits[r]; ok {
		return v
	}
	if v, ok := dc.Limits[r.Name()]; ok {
		return v
	}
	return -1
}

// usage counts what an account uses of each resource.
func (ix *index) usage(accountID string) map[Resource]int64 {
	u := map[Resource]int64{}
	for _, vm := range ix.vms.byGroup(accountID) {
		if vm.State == VMDestroyed || vm.State == VMExpunging || vm.State == VMError {
			continue
		}
		u[ResUserVM]++
		if so, ok := ix.serviceOfferings.get(vm.ServiceOfferingID); ok {
			u[ResCPU] += int64(so.CPUs)
			u[ResMemory] += int64(so.MemoryMB)
		}
	}
	for _, v := range ix.volumes.all() {
		if v.AccountID == accountID {
			u[ResVolume]++
			u[ResPrimaryStorage] += v.SizeGB
		}
	}
	for _, p := range ix.publicIPs.all() {
		if p.AccountID == accountID {
			u[ResPublicIP]++
		}
	}
	for _, sn := range ix.snapshots.all() {
		if sn.AccountID == accountID {
			u[ResSnapshot]++
		}
	}
	for _, t := range ix.templates.all() {
		if t.AccountID == accountID && t.Type == "USER" {
			u[ResTemplate]++
		}
	}
	for _, n := range ix.networks.all() {
		if n.AccountID == accountID && !n.System && !n.Shared {
			u[ResNetwork]++
		}
	}
	for _, v := range ix.vpcs.all() {
		if v.AccountID == accountID {
			u[ResVPC]++
		}
	}
	for _, p := range ix.projects.all() {
		if m, ok := p.Member(accountID); ok && m.Role == ProjectAdmin {
			u[ResProject]++
		}
	}
	return u
}

// checkLimits fails with 532 when adding want to the owner's usage would
// pass one of its limits. When a limit applies, b also rewrites the
// account's usage guard (see guardUsage).
func (ix *index) checkLimits(b *batch, o Owner, want map[Resource]int64) error {
	acc, ok := ix.accounts.get(o.AccountID)
	if !ok {
		return notFound(KindAccount, o.AccountID)
	}
	var used map[Resource]int64
	for _, r := range Resources() {
		n := want[r]
		if n <= 0 {
			continue
		}
		lim := ix.limitOf(acc, r, ix.dc)
		if lim < 0 {
			continue
		}
		if used == nil {
			used = ix.usage(acc.ID)
		}
		if used[r]+n > lim {
			dom, _ := ix.domains.get(acc.DomainID)
			return Errorf(CodeResourceLimit, CSResourceAllocation,
				"Maximum number of resources of type '%s' for account name=%s in domain id=%s has been exceeded.",
				r.Name(), acc.Name, dom.ID)
		}
	}
	if used != nil {
		ix.guardUsage(b, acc.ID)
	}
	return nil
}

// usagePrefix holds one key per account whose usage a limit was checked
// against, /cloud/usage/<account>.
const usagePrefix = keyRoot + "usage/"

// guardUsage adds to b a rewrite of the account's usage key, conditioned
// on the revision this server last saw. Usage is counted from the index,
// so without it two servers could each admit the last VM a limit allows;
// with it one of them fails its condition, catches up and counts again.
func (ix *index) guardUsage(b *batch, accountID string) {
	key := usagePrefix + accountID
	if b.pending[key] {
		return
	}
	if b.pending == nil {
		b.pending = map[string]bool{}
	}
	b.pending[key] = true
	v := []byte(strconv.FormatInt(ix.guards[accountID]+1, 10))
	if rev := ix.guards[accountID]; rev > 0 {
		b.ops = append(b.ops, store.Update(key, v, rev))
	} else {
		b.ops = append(b.ops, store.Create(key, v))
	}
	b.then(func(rev int64) { ix.guards[accountID] = max(ix.guards[accountID], rev) })
}

// dropUsageGuard adds the removal of a deleted account's usage key to b.
func (ix *index) dropUsageGuard(b *batch, accountID string) {
	key := usagePrefix + accountID
	b.ops = append(b.ops, store.Delete(key))
	b.then(func(rev int64) {
		delete(ix.guards, accountID)
		ix.tombs[key] = rev
	})
}

// Limit is one account's limit of one resource.
type Limit struct {
	Resource Resource
	Max      int64
	Owner
}

// Limits lists the limits of the accounts c may see in scope.
func (s *Sim) Limits(c Caller, sc Scope, only *Resource) ([]Limit, error) {
	var out []Limit
	var err error
	s.read(func(ix *index) {
		var keep func(Owner) bool
		if keep, err = ix.scopeFilter(c, sc); err != nil {
			return
		}
		for _, a := range ix.accounts.all() {
			o := Owner{AccountID: a.ID, DomainID: a.DomainID}
			if !keep(o) {
				continue
			}
			for _, r := range Resources() {
				if only != nil && *only != r {
					continue
				}
				out = append(out, Limit{Resource: r, Max: ix.limitOf(a, r, s.dc), Owner: o})
			}
		}
	})
	return out, err
}

// SetLimit sets an account's limit of r (admins only; -1: unlimited).
func (s *Sim) SetLimit(ctx context.Context, c Caller, account, domainID string, r Resource, maxN int64) (Limit, error) {
	if !c.IsAdmin() {
		return Limit{}, Denied("Account %s does not have permission to update resource limits", c.Account.Name)
	}
	if maxN < -1 {
		return Limit{}, Invalid("Please specify either '-1' for an infinite limit, or a limit that is at least '0'.")
	}
	var out Limit
	err := s.write(func(ix *index) error {
		o, err := ix.ownerFor(c, account, domainID)
		if err != nil {
			return err
		}
		acc, _ := ix.accounts.get(o.AccountID)
		if acc.ID == c.Account.ID && !c.IsRootAdmin() {
			return Denied("Account %s cannot update its own resource limits", acc.Name)
		}
		n := *acc
		n.Limits = map[Resource]int64{}
		for k, v := range acc.Limits {
			n.Limits[k] = v
		}
		n.Limits[r] = maxN
		b := &batch{}
		put(b, ix.accounts, &n)
		out = Limit{Resource: r, Max: maxN, Owner: o}
		return s.commit(ctx, b)
	})
	return out, err
}
