package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/stratus-cloud/stratus/internal/cloud"
	"github.com/stratus-cloud/stratus/internal/gce"
	"github.com/stratus-cloud/stratus/internal/instance"
	"github.com/stratus-cloud/stratus/internal/kube/apiserver"
	"github.com/stratus-cloud/stratus/internal/store/compactor"
)

// expiryFlags are the retention settings of `up` and `server`, with the
// real systems' defaults. The CloudStack ones override the data center
// file's simulator.expiry when given.
type expiryFlags struct {
	cmd *cobra.Command

	jobExpire, eventPurgeDelay, expungeDelay, expungeInterval time.Duration
	eventTTL, compaction, gceOperationTTL                     time.Duration
}

func (f *expiryFlags) register(cmd *cobra.Command) {
	f.cmd = cmd
	fl := cmd.Flags()
	fl.DurationVar(&f.jobExpire, "job-expire", cloud.DefaultJobExpire, "how long completed CloudStack async jobs are kept (job.expire.minutes); negative: forever")
	fl.DurationVar(&f.eventPurgeDelay, "event-purge-delay", cloud.DefaultEventPurgeDelay, "how long CloudStack events are kept (event.purge.delay); negative: forever")
	fl.DurationVar(&f.expungeDelay, "expunge-delay", cloud.DefaultExpungeDelay, "how long a destroyed VM stays before it is expunged (expunge.delay); negative: never")
	fl.DurationVar(&f.expungeInterval, "expunge-interval", cloud.DefaultExpungeInterval, "how often destroyed VMs are expunged (expunge.interval)")
	fl.DurationVar(&f.eventTTL, "event-ttl", apiserver.DefaultEventTTL, "how long a Kubernetes Event lives after its last write (kube-apiserver's --event-ttl); negative: forever")
	fl.DurationVar(&f.compaction, "compaction-interval", compactor.DefaultInterval, "how often the store's history is compacted (kube-apiserver's --etcd-compaction-interval); negative: never")
	fl.DurationVar(&f.gceOperationTTL, "gce-operation-ttl", gce.DefaultOperationTTL, "how long finished GCE operations stay readable")
}

// options turns the flags into the instance's expiry settings; the
// CloudStack ones only when given, so the data center file's stand otherwise.
func (f *expiryFlags) options() instance.Expiry {
	given := func(name string, v time.Duration) *time.Duration {
		if f.cmd != nil && f.cmd.Flags().Changed(name) {
			return &v
		}
		return nil
	}
	return instance.Expiry{
		JobExpire:       given("job-expire", f.jobExpire),
		EventPurgeDelay: given("event-purge-delay", f.eventPurgeDelay),
		ExpungeDelay:    given("expunge-delay", f.expungeDelay),
		ExpungeInterval: given("expunge-interval", f.expungeInterval),
		EventTTL:        f.eventTTL,
		Compaction:      f.compaction,
		GCEOperationTTL: f.gceOperationTTL,
	}
}
