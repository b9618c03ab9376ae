package cloud

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Snapshot policies: recurring snapshots of a volume, one policy per
// volume and interval (HOURLY, DAILY, WEEKLY, MONTHLY), as CloudStack's
// SnapshotManager keeps them. A policy's schedule is read in its time
// zone ("MM", "MM:HH", "MM:HH:D" with D the day of the week 1-7 from
// Sunday, "MM:HH:DD" with DD the day of the month 1-28); on the
// simulator's clock the policy loop takes a snapshot at each run and keeps
// the newest maxsnaps of the policy's snapshots, deleting older ones.
// Each run is one transaction that also moves the policy's next run, so
// servers sharing a store take each snapshot once.

// KindSnapshotPolicy names snapshot policies.
const KindSnapshotPolicy Kind = "SnapshotPolicy"

// Interval types, numbered as the API shows them.
var intervalTypes = []string{"HOURLY", "DAILY", "WEEKLY", "MONTHLY"}

// SnapshotPolicy is a recurring snapshot schedule of a volume.
type SnapshotPolicy struct {
	ID       string `json:"id"`
	Seq      int64  `json:"seq"`
	VolumeID string `json:"volumeId"`
	// Interval is 0 HOURLY, 1 DAILY, 2 WEEKLY, 3 MONTHLY.
	Interval int    `json:"interval"`
	Schedule string `json:"schedule"`
	Timezone string `json:"timezone"`
	MaxSnaps int    `json:"maxSnaps"`
	Display  bool   `json:"display"`
	// NextRun is when the policy takes its next snapshot.
	NextRun time.Time `json:"nextRun"`
	Created time.Time `json:"created"`
	Owner
}

// IntervalName is the interval's name (HOURLY, …).
func (p *SnapshotPolicy) IntervalName() string { return intervalTypes[p.Interval] }

// parseInterval reads an intervaltype parameter (any case).
func parseInterval(s string) (int, bool) {
	for i, n := range intervalTypes {
		if strings.EqualFold(n, s) {
			return i, true
		}
	}
	return 0, false
}

// nextRun returns the first time after now that schedule names for the
// interval, in loc; an error for a malformed schedule.
func nextRun(interval int, schedule string, loc *time.Location, now time.Time) (time.Time, error) {
	parts := strings.Split(schedule, ":")
	want := []int{1, 2, 3, 3}[interval]
	if len(parts) != want {
		return time.Time{}, fmt.Errorf("bad schedule")
	}
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return time.Time{}, err
		}
		nums[i] = n
	}
	if nums[0] < 0 || nums[0] > 59 || len(nums) > 1 && (nums[1] < 0 || nums[1] > 23) {
		return time.Time{}, fmt.Errorf("bad schedule")
	}
	t := now.In(loc)
	switch interval {
	case 0: // HOURLY: MM
		c := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), nums[0], 0, 0, loc)
		if !c.After(t) {
			c = c.Add(time.Hour)
		}
		return c, nil
	case 1: // DAILY: MM:HH
		c := time.Date(t.Year(), t.Month(), t.Day(), nums[1], nums[0], 0, 0, loc)
		if !c.After(t) {
			c = c.AddDate(0, 0, 1)
		}
		return c, nil
	case 2: // WEEKLY: MM:HH:D, 1 = Sunday
		if nums[2] < 1 || nums[2] > 7 {
			return time.Time{}, fmt.Errorf("bad schedule")
		}
		c := time.Date(t.Year(), t.Month(), t.Day(), nums[1], nums[0], 0, 0, loc)
		c = c.AddDate(0, 0, (nums[2]-1-int(c.Weekday())+7)%7)
		if !c.After(t) {
			c = c.AddDate(0, 0, 7)
		}
		return c, nil
	default: // MONTHLY: MM:HH:DD, 1-28
		if nums[2] < 1 || nums[2] > 28 {
			return time.Time{}, fmt.Errorf("bad schedule")
		}
		c := time.Date(t.Year(), t.Month(), nums[2], nums[1], nums[0], 0, 0, loc)
		if !c.After(t) {
			c = c.AddDate(0, 1, 0)
		}
		return c, nil
	}
}

// SnapshotPolicyRequest is createSnapshotPolicy's parameters.
type SnapshotPolicyRequest struct {
	VolumeID, IntervalType, Schedule, Timezone string
	MaxSnaps                                   int64
	Display                                    *bool
}

// policyFields checks an interval, schedule, time zone and maxsnaps as
// the real server does, and returns the interval, the zone and the next
// run.
func (ix *index) policyFields(o Owner, intervalType, schedule, timezone string, maxSnaps int64, now time.Time) (int, *time.Location, time.Time, error) {
	iv, ok := parseInterval(intervalType)
	if !ok {
		return 0, nil, time.Time{}, Invalid("Unsupported interval type %s", intervalType)
	}
	loc, err := time.LoadLocation(timezone)
	if err != nil || timezone == "" {
		loc = time.UTC // Java's TimeZone falls back to GMT for unknown ids
	}
	next, err := nextRun(iv, schedule, loc, now)
	if err != nil {
		return 0, nil, time.Time{}, Invalid("Invalid schedule: %s for interval type: %s", schedule, intervalType)
	}
	if maxSnaps <= 0 {
		return 0, nil, time.Time{}, Invalid("maxSnaps should be greater than 0")
	}
	if lim := ix.settingInt("snapshot.max." + strings.ToLower(intervalTypes[iv])); maxSnaps > lim {
		return 0, nil, time.Time{}, Invalid("maxSnaps exceeds limit: %d for interval type: %s", lim, intervalType)
	}
	if acc, ok := ix.accounts.get(o.AccountID); ok && acc.Type != AccountRootAdmin {
		if lim := ix.limitOf(acc, ResSnapshot, ix.dc); lim >= 0 && maxSnaps > lim {
			what := "domain/account"
			if acc.Type == AccountProject {
				what = "domain/project"
			}
			return 0, nil, time.Time{}, Invalid("Max number of snapshots shouldn't exceed the %s level snapshot limit", what)
		}
	}
	return iv, loc, next, nil
}

// CreateSnapshotPolicy makes a volume's policy for an interval, or
// replaces the schedule of the one it has (as the real server does).
func (s *Sim) CreateSnapshotPolicy(ctx context.Context, c Caller, r SnapshotPolicyRequest) (*SnapshotPolicy, error) {
	var out *SnapshotPolicy
	err := s.write(func(ix *index) error {
		v, err := ix.volumeFor(c, r.VolumeID)
		if err != nil {
			return Invalid("Failed to create snapshot policy, unable to find a volume with id %s", r.VolumeID)
		}
		if v.State != VolumeReady {
			return Invalid("VolumeId: %s is not in %s state but %s. Cannot take snapshot.", v.ID, VolumeReady, v.State)
		}
		now := s.clock.Now().UTC()
		iv, loc, next, err := ix.policyFields(v.Owner, r.IntervalType, r.Schedule, r.Timezone, r.MaxSnaps, now)
		if err != nil {
			return err
		}
		p := &SnapshotPolicy{ID: newID(), VolumeID: v.ID, Display: true, Created: now, Owner: v.Owner}
		for _, o := range ix.snapPolicies.all() {
			if o.VolumeID == v.ID && o.Interval == iv {
				n := *o
				p = &n
			}
		}
		if p.Seq == 0 {
			p.Seq = ix.nextSeq()
		}
		p.Interval, p.Schedule, p.Timezone, p.MaxSnaps, p.NextRun = iv, r.Schedule, loc.String(), int(r.MaxSnaps), next.UTC()
		if r.Display != nil {
			p.Display = *r.Display
		}
		b := &batch{}
		put(b, ix.snapPolicies, p)
		ix.event(b, s, v.Owner, c, "SNAPSHOTPOLICY.CREATE", "Successfully created snapshot policy with ID: "+p.ID, p.ID, KindSnapshotPolicy)
		out = p
		return s.commit(ctx, b)
	})
	return out, err
}

// snapPolicyFor finds a policy c may use.
func (ix *index) snapPolicyFor(c Caller, id string) (*SnapshotPolicy, error) {
	p, ok := ix.snapPolicies.get(id)
	if !ok {
		return nil, Invalid("Policy id given: %s does not exist", id)
	}
	if !ix.canAccess(c, p.Owner) {
		return nil, Denied("Account %s does not have permission to operate on snapshot policy %s", c.Account.Name, id)
	}
	return p, nil
}

// UpdateSnapshotPolicy changes whether a policy is shown to the end user
// (fordisplay), the one thing updateSnapshotPolicy changes, in an async
// job whose result is the policy.
func (s *Sim) UpdateSnapshotPolicy(ctx context.Context, c Caller, id string, display *bool, cmd string) (*Job, error) {
	var err error
	s.read(func(ix *index) { _, err = ix.snapPolicyFor(c, id) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindSnapshotPolicy, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			p, err := ix.snapPolicyFor(c, id)
			if err != nil {
				return err
			}
			b := &batch{}
			out := p
			if display != nil && *display != p.Display {
				n := *p
				n.Display = *display
				put(b, ix.snapPolicies, &n)
				ix.event(b, s, p.Owner, c, "SNAPSHOTPOLICY.UPDATE", "Successfully updated snapshot policy with ID: "+p.ID, p.ID, KindSnapshotPolicy)
				out = &n
			}
			jc.complete(b, KindSnapshotPolicy, out)
			return s.commit(ctx, b)
		})
	})
}

// DeleteSnapshotPolicies deletes policies by id; every one must exist and
// be the caller's.
func (s *Sim) DeleteSnapshotPolicies(ctx context.Context, c Caller, ids []string) error {
	if len(ids) == 0 {
		return Invalid("No policy id (or list of ids) specified.")
	}
	return s.write(func(ix *index) error {
		b := &batch{}
		for _, id := range ids {
			p, err := ix.snapPolicyFor(c, id)
			if err != nil {
				return err
			}
			del(b, ix.snapPolicies, p.ID)
			for _, t := range ix.tags.byGroup(p.ID) {
				del(b, ix.tags, t.ID)
			}
			ix.event(b, s, p.Owner, c, "SNAPSHOTPOLICY.DELETE", "Successfully deleted snapshot policy with ID: "+p.ID, p.ID, KindSnapshotPolicy)
		}
		return s.commit(ctx, b)
	})
}

// dropSnapshotPolicies adds to b the removal of a volume's policies (the
// volume is going).
func (ix *index) dropSnapshotPolicies(b *batch, volumeID string) {
	for _, p := range ix.snapPolicies.all() {
		if p.VolumeID == volumeID {
			del(b, ix.snapPolicies, p.ID)
		}
	}
}

// policyLoop runs due policies until the simulator stops. It waits on the
// clock for the earliest next run only while there are policies, and
// wakes when a policy changes (here or, through the follower, on another
// server).
func (s *Sim) policyLoop() {
	defer s.jobs.Done()
	for {
		var next time.Time
		s.read(func(ix *index) {
			for _, p := range ix.snapPolicies.all() {
				if next.IsZero() || p.NextRun.Before(next) {
					next = p.NextRun
				}
			}
		})
		var due <-chan time.Time
		if !next.IsZero() {
			due = s.after(next.Sub(s.clock.Now()))
		}
		select {
		case <-s.ctx.Done():
			return
		case <-s.policyWake:
			continue
		case <-due:
		}
		if err := s.runDuePolicies(s.ctx, s.clock.Now()); err != nil && s.ctx.Err() == nil {
			s.log.Warn("recurring snapshots failed", "err", err)
		}
	}
}

// runDuePolicies takes the snapshot of every policy due at now, one
// transaction per policy, and removes the oldest of its snapshots past
// maxsnaps. A volume whose owner is at its snapshot limit gets no
// snapshot that run (the real server raises an alert); the policy still
// moves on.
func (s *Sim) runDuePolicies(ctx context.Context, now time.Time) error {
	var due []string
	s.read(func(ix *index) {
		for _, p := range ix.snapPolicies.all() {
			if !p.NextRun.After(now) {
				due = append(due, p.ID)
			}
		}
	})
	for _, id := range due {
		err := s.write(func(ix *index) error {
			p, ok := ix.snapPolicies.get(id)
			if !ok || p.NextRun.After(now) {
				return nil
			}
			b := &batch{}
			n := *p
			loc, err := time.LoadLocation(p.Timezone)
			if err != nil {
				loc = time.UTC
			}
			next, err := nextRun(p.Interval, p.Schedule, loc, now)
			if err != nil {
				return err
			}
			n.NextRun = next.UTC()
			put(b, ix.snapPolicies, &n)
			v, ok := ix.volumes.get(p.VolumeID)
			if !ok {
				del(b, ix.snapPolicies, p.ID)
				return s.commit(ctx, b)
			}
			if v.State == VolumeReady && ix.checkLimits(b, v.Owner, map[Resource]int64{ResSnapshot: 1}) == nil {
				at := now.UTC()
				vmName := "detached"
				if vm, ok := ix.vms.get(v.VMID); ok {
					vmName = vm.Name
				}
				name := vmName + "_" + v.Name + "_" + at.Format("20060102150405")
				snap := &Snapshot{ID: newID(), Seq: ix.nextSeq(), Name: name, VolumeID: v.ID, VolumeName: v.Name, VolumeType: v.Type,
					ZoneID: v.ZoneID, SizeGB: v.SizeGB, State: SnapshotBackedUp, Created: at, Type: p.IntervalName(), PolicyID: p.ID, Owner: v.Owner}
				put(b, ix.snapshots, snap)
				var mine []*Snapshot
				for _, x := range ix.snapshots.all() {
					if x.PolicyID == p.ID {
						mine = append(mine, x)
					}
				}
				// the new one counts: keep maxsnaps in all
				for i := 0; i < len(mine)+1-p.MaxSnaps && i < len(mine); i++ {
					del(b, ix.snapshots, mine[i].ID)
					for _, t := range ix.tags.byGroup(mine[i].ID) {
						del(b, ix.tags, t.ID)
					}
				}
				ix.event(b, s, v.Owner, Caller{}, "SNAPSHOT.CREATE", "Successfully completed creating snapshot "+name+" for volume "+v.Name, snap.ID, KindSnapshot)
			}
			return s.commit(ctx, b)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// SnapshotPolicies returns every policy in creation order.
func (r Reader) SnapshotPolicies() []*SnapshotPolicy { return r.ix.snapPolicies.all() }

// SnapshotPolicy looks a policy up by id.
func (r Reader) SnapshotPolicy(id string) (*SnapshotPolicy, bool) { return r.ix.snapPolicies.get(id) }
