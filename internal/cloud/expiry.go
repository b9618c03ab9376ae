package cloud

import (
	"context"
	"fmt"
	"time"
)

// ExpirySpec is how long the simulator keeps what a real CloudStack
// management server removes in the background, with its defaults. A zero
// field takes the default; a negative one keeps forever (CloudStack's 0).
//
//	jobs                job.expire.minutes     1440 min: completed async jobs
//	                                           are removed; queryAsyncJobResult
//	                                           then answers 431 as for an
//	                                           unknown id, listAsyncJobs omits them
//	jobSweepInterval    (the job GC's period)  1 min
//	events              event.purge.delay      15 days; the ids of expunged
//	                                           VMs are forgotten with their events
//	eventPurgeInterval  event.purge.interval   86400 s
//	expungeDelay        expunge.delay          86400 s: how long a VM stays
//	                                           Destroyed before it is expunged
//	expungeInterval     expunge.interval       86400 s
type ExpirySpec struct {
	Jobs               Duration `json:"jobs,omitzero"`
	JobSweepInterval   Duration `json:"jobSweepInterval,omitzero"`
	Events             Duration `json:"events,omitzero"`
	EventPurgeInterval Duration `json:"eventPurgeInterval,omitzero"`
	ExpungeDelay       Duration `json:"expungeDelay,omitzero"`
	ExpungeInterval    Duration `json:"expungeInterval,omitzero"`
}

// Defaults of ExpirySpec: CloudStack's own.
const (
	DefaultJobExpire          = 1440 * time.Minute
	DefaultJobSweepInterval   = time.Minute
	DefaultEventPurgeDelay    = 15 * 24 * time.Hour
	DefaultEventPurgeInterval = 86400 * time.Second
	DefaultExpungeDelay       = 86400 * time.Second
	DefaultExpungeInterval    = 86400 * time.Second
)

// withDefaults fills zero fields with the defaults.
func (e ExpirySpec) withDefaults() ExpirySpec {
	def := func(d *Duration, v time.Duration) {
		if d.Duration == 0 {
			d.Duration = v
		}
	}
	def(&e.Jobs, DefaultJobExpire)
	def(&e.JobSweepInterval, DefaultJobSweepInterval)
	def(&e.Events, DefaultEventPurgeDelay)
	def(&e.EventPurgeInterval, DefaultEventPurgeInterval)
	def(&e.ExpungeDelay, DefaultExpungeDelay)
	def(&e.ExpungeInterval, DefaultExpungeInterval)
	return e
}

// validate rejects intervals that are not positive once defaulted.
func (e ExpirySpec) validate() error {
	e = e.withDefaults()
	for name, d := range map[string]Duration{"jobSweepInterval": e.JobSweepInterval, "eventPurgeInterval": e.EventPurgeInterval, "expungeInterval": e.ExpungeInterval} {
		if d.Duration < 0 {
			return fmt.Errorf("simulator.expiry.%s: must be positive, not %s", name, d.Duration)
		}
	}
	return nil
}

// expiryChunk caps the records one sweep transaction removes, so a sweep
// after a long pause does not make one huge transaction.
const expiryChunk = 256

// expiryLoop removes expired jobs, events and destroyed VMs on their own
// schedules until the simulator stops. Each server sharing a store sweeps;
// their deletes are conditioned on the revision they read, so two servers
// removing the same record conflict harmlessly and decide again.
func (s *Sim) expiryLoop() {
	defer s.jobs.Done()
	e := s.dc.Simulator.Expiry.withDefaults()
	now := s.clock.Now()
	nextJobs, nextEvents, nextVMs := now.Add(e.JobSweepInterval.Duration), now.Add(e.EventPurgeInterval.Duration), now.Add(e.ExpungeInterval.Duration)
	for {
		wait := earliest(nextJobs, nextEvents, nextVMs).Sub(now)
		select {
		case <-s.ctx.Done():
			return
		case <-s.after(wait):
		}
		now = s.clock.Now()
		if !now.Before(nextJobs) {
			nextJobs = now.Add(e.JobSweepInterval.Duration)
			if e.Jobs.Duration > 0 {
				s.logSweep("jobs")(s.expireJobs(s.ctx, now.Add(-e.Jobs.Duration)))
			}
		}
		if !now.Before(nextEvents) {
			nextEvents = now.Add(e.EventPurgeInterval.Duration)
			if e.Events.Duration > 0 {
				s.logSweep("events")(s.purgeEvents(s.ctx, now.Add(-e.Events.Duration)))
				s.logSweep("expunged VM ids")(s.forgetRemovedVMs(s.ctx, now.Add(-e.Events.Duration)))
			}
		}
		if !now.Before(nextVMs) {
			nextVMs = now.Add(e.ExpungeInterval.Duration)
			if e.ExpungeDelay.Duration >= 0 {
				s.logSweep("destroyed VMs")(s.expungeDestroyed(s.ctx, now.Add(-e.ExpungeDelay.Duration)))
			}
		}
	}
}

// earliest returns the earliest of ts.
func earliest(ts ...time.Time) time.Time {
	m := ts[0]
	for _, t := range ts[1:] {
		if t.Before(m) {
			m = t
		}
	}
	return m
}

// logSweep returns what logs the outcome of a sweep of what.
func (s *Sim) logSweep(what string) func(n int, err error) {
	return func(n int, err error) {
		switch {
		case err != nil && s.ctx.Err() == nil:
			s.log.Warn("expiry sweep failed", "what", what, "removed", n, "err", err)
		case n > 0:
			s.log.Debug("expired", "what", what, "removed", n)
		}
	}
}

// sweep removes, chunk by chunk, the records pick selects on the current
// index, and returns how many it removed.
func (s *Sim) sweep(ctx context.Context, pick func(ix *index, b *batch, max int) int) (int, error) {
	total := 0
	for ctx.Err() == nil {
		var n int
		err := s.write(func(ix *index) error {
			b := &batch{}
			n = pick(ix, b, expiryChunk)
			if n == 0 {
				return nil
			}
			return s.commit(ctx, b)
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < expiryChunk {
			return total, nil
		}
	}
	return total, ctx.Err()
}

// expireJobs removes the jobs completed before cutoff (job.expire.minutes).
// Pending jobs stay, however old.
func (s *Sim) expireJobs(ctx context.Context, cutoff time.Time) (int, error) {
	return s.sweep(ctx, deleteWhere(func(ix *index) *table[Job] { return ix.jobs }, func(j *Job) bool {
		return j.Status != JobPending && j.Completed.Before(cutoff)
	}))
}

// purgeEvents removes the events created before cutoff (event.purge.delay).
func (s *Sim) purgeEvents(ctx context.Context, cutoff time.Time) (int, error) {
	return s.sweep(ctx, deleteWhere(func(ix *index) *table[Event] { return ix.events }, func(e *Event) bool {
		return e.Created.Before(cutoff)
	}))
}

// forgetRemovedVMs drops the ids of VMs expunged before cutoff. CloudStack
// keeps an expunged VM's row for good (marked removed); here the id is
// remembered as long as the events that name it (event.purge.delay), so a
// day of deploy/destroy churn does not grow the store without bound. After
// that a list by the id is refused as for an id that never named a VM.
func (s *Sim) forgetRemovedVMs(ctx context.Context, cutoff time.Time) (int, error) {
	return s.sweep(ctx, deleteWhere(func(ix *index) *table[RemovedVM] { return ix.removedVMs }, func(v *RemovedVM) bool {
		return v.Removed.Before(cutoff)
	}))
}

// deleteWhere picks for sweep up to max rows of a table that old selects.
func deleteWhere[T any](tab func(*index) *table[T], old func(*T) bool) func(ix *index, b *batch, max int) int {
	return func(ix *index, b *batch, max int) int {
		t, n := tab(ix), 0
		for id, r := range t.m {
			if n == max {
				break
			}
			if old(r.v) {
				del(b, t, id)
				n++
			}
		}
		return n
	}
}

// expungeDestroyed expunges the VMs destroyed before cutoff (expunge.delay),
// as CloudStack's expunge thread does: their records, volumes, tags and
// addresses go, and a VM.EXPUNGE event is recorded.
func (s *Sim) expungeDestroyed(ctx context.Context, cutoff time.Time) (int, error) {
	return s.sweep(ctx, func(ix *index, b *batch, max int) int {
		n := 0
		for _, r := range ix.vms.m {
			if n == max {
				break
			}
			vm := r.v
			at := vm.Destroyed
			if at.IsZero() {
				at = vm.Created // destroyed by a stratus that did not record when
			}
			if vm.State != VMDestroyed || vm.JobID != "" || !at.Before(cutoff) {
				continue
			}
			v := *vm
			v.State = VMExpunging
			ix.expunge(b, s, &v, Caller{})
			n++
		}
		return n
	})
}

// Counts are the numbers of records the expiry sweeps bound, for metrics.
type Counts struct {
	Jobs, Events, VMs int
	// RemovedVMs are the expunged VMs' ids still remembered.
	RemovedVMs int
}

// Counts returns how many jobs, events and VMs (any state) are indexed.
func (s *Sim) Counts() Counts {
	var c Counts
	s.read(func(ix *index) {
		c = Counts{Jobs: ix.jobs.len(), Events: ix.events.len(), VMs: ix.vms.len(), RemovedVMs: ix.removedVMs.len()}
	})
	return c
}
