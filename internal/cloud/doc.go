// Package cloud is the IaaS simulator's domain: a data center (zones, pods,
// clusters, hosts with capacity, IP ranges, offerings, templates), the life
// cycle of virtual machines placed on it, IP address management, security
// groups, SSH key pairs, accounts, domains and users, async jobs, events,
// resource limits and injected faults.
//
// All state lives in a store.Store under /cloud/...; a Sim keeps an
// in-memory index of it (read from the store when it starts, then kept in
// step by watching the store) so reads are fast, and every change is one
// store transaction with revision conditions, so concurrent requests never
// oversubscribe a host or hand out an address twice.
//
// Several Sims (several servers) may share one store. Each applies the
// others' changes from the watch; a change decided on state another server
// has changed since fails its conditions, and the Sim waits for its index
// to catch up and decides again (Sim.write), so clients do not see those
// conflicts. Sync lets a request wait until the index reflects every change
// committed before it started. The CloudStack API (package cloudstack) is a
// front on this package; nothing here knows about HTTP.
package cloud
