package instance

import (
	"time"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// Expiry is how long each part keeps what finished, as the real systems
// bound it. Zero durations take each part's default (the real systems'
// own); negative ones keep records forever.
type Expiry struct {
	// The CloudStack settings override the data center file's
	// simulator.expiry where set (nil keeps the file's value).
	JobExpire, EventPurgeDelay, ExpungeDelay, ExpungeInterval *time.Duration
	// EventTTL is kube-apiserver's --event-ttl.
	EventTTL time.Duration
	// Compaction is how often the store's history is compacted.
	Compaction time.Duration
	// GCEOperationTTL is how long finished GCE operations stay readable.
	GCEOperationTTL time.Duration
}

// applyTo sets the CloudStack settings given into dc.
func (e Expiry) applyTo(dc *cloud.Datacenter) {
	set := func(dst *cloud.Duration, v *time.Duration) {
		if v != nil {
			dst.Duration = *v
		}
	}
	x := &dc.Simulator.Expiry
	set(&x.Jobs, e.JobExpire)
	set(&x.Events, e.EventPurgeDelay)
	set(&x.ExpungeDelay, e.ExpungeDelay)
	set(&x.ExpungeInterval, e.ExpungeInterval)
}
