package etcd

import "github.com/stratus-cloud/stratus/internal/store"

// SharedWatches returns how many shared etcd watches s has started.
func SharedWatches(s store.Store) int64 { return s.(*Store).hubs.Load() }

// BreakSharedWatch ends the running shared watch as a lost etcd stream
// would.
func BreakSharedWatch(s store.Store) {
	st := s.(*Store)
	st.hubMu.Lock()
	h := st.hub
	st.hubMu.Unlock()
	if h != nil {
		h.cancel()
	}
}
