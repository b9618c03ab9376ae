package store

import "context"

// Stats are the numbers an operator watches to see that the store stays
// bounded. A field a backend cannot tell is -1.
type Stats struct {
	// Keys is how many keys the store holds.
	Keys int64
	// History is how many past revisions' events are kept for watches
	// and past lists (the memory engine's event count; for etcd, the
	// revisions between the compacted one and the newest).
	History int64
	// CompactedRev is the newest revision compacted away (watches from
	// it or before answer ErrCompacted).
	CompactedRev int64
	// FileBytes is the size of the backing file; FreeBytes the part of
	// it free for reuse.
	FileBytes, FreeBytes int64
}

// Statser is a store that reports its Stats.
type Statser interface {
	Stats(ctx context.Context) (Stats, error)
}
