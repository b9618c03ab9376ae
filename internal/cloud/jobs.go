package cloud

import (
	"context"
	"encoding/json"
	"time"
)

// JobStatus is an async job's jobstatus.
type JobStatus int

// Job statuses.
const (
	JobPending   JobStatus = 0
	JobSucceeded JobStatus = 1
	JobFailed    JobStatus = 2
)

// Job is an async job, kept after it completes so it can be queried.
type Job struct {
	ID     string    `json:"id"`
	Seq    int64     `json:"seq"`
	Cmd    string    `json:"cmd"`
	UserID string    `json:"userId"`
	Status JobStatus `json:"status"`
	// ResultCode is 0 on success, the error code on failure.
	ResultCode int `json:"resultCode"`
	// ResultKind and Result are the object the job produced (a snapshot
	// taken when it completed), or ResultKind "" with Success.
	ResultKind Kind            `json:"resultKind,omitempty"`
	Result     json.RawMessage `json:"result,omitempty"`
	Success    bool            `json:"success,omitempty"`
	// ErrorText and ErrorCSCode describe a failure.
	ErrorText    string    `json:"errorText,omitempty"`
	ErrorCSCode  int       `json:"errorCsCode,omitempty"`
	InstanceType Kind      `json:"instanceType,omitempty"`
	InstanceID   string    `json:"instanceId,omitempty"`
	Created      time.Time `json:"created"`
	Completed    time.Time `json:"completed,omitzero"`
	// Server is the ID of the server that runs the job (Options.ID).
	Server string `json:"server,omitempty"`
	Owner
}

// JobSpec describes a job to submit.
type JobSpec struct {
	// Cmd is the API command's class name, for queryAsyncJobResult's cmd.
	Cmd          string
	InstanceType Kind
	InstanceID   string
}

// jobCtx lets a job's work complete the job in the same transaction as its
// last change.
type jobCtx struct {
	s    *Sim
	job  *Job
	done bool
}

// complete adds the job's success, with a snapshot of obj, to b.
func (jc *jobCtx) complete(b *batch, kind Kind, obj any) {
	if jc == nil {
		return
	}
	j := *jc.job
	j.Status, j.Completed = JobSucceeded, jc.s.clock.Now().UTC()
	if obj != nil {
		raw, err := json.Marshal(obj)
		if err != nil {
			b.err = err
			return
		}
		j.ResultKind, j.Result = kind, raw
	} else {
		j.Success = true
	}
	put(b, jc.s.ix.jobs, &j)
	b.then(func(int64) { jc.done = true; jc.job = &j })
}

// newJob adds a pending job to b and returns it.
func (s *Sim) newJob(b *batch, c Caller, owner Owner, spec JobSpec) *Job {
	j := &Job{ID: newID(), Seq: s.ix.nextSeq(), Cmd: spec.Cmd, UserID: c.User.ID, Status: JobPending,
		InstanceType: spec.InstanceType, InstanceID: spec.InstanceID, Created: s.clock.Now().UTC(), Server: s.id, Owner: owner}
	put(b, s.ix.jobs, j)
	return j
}

// Submit records a pending job and runs work in the background. It returns
// once the job completed or InlineWait passed, whichever is first.
func (s *Sim) Submit(ctx context.Context, c Caller, spec JobSpec, work func(ctx context.Context, jc *jobCtx) error) (*Job, error) {
	var j *Job
	err := s.write(func(ix *index) error {
		b := &batch{}
		j = s.newJob(b, c, c.Owner(), spec)
		return s.commit(ctx, b)
	})
	if err != nil {
		return nil, err
	}
	s.run(j, work)
	return j, nil
}

// run executes a job's work and records its outcome.
func (s *Sim) run(j *Job, work func(ctx context.Context, jc *jobCtx) error) {
	done := make(chan struct{})
	s.jobs.Add(1)
	go func() {
		defer s.jobs.Done()
		defer close(done)
		jc := &jobCtx{s: s, job: j}
		err := work(s.ctx, jc)
		if err == nil && jc.done {
			return
		}
		_ = s.write(func(ix *index) error {
			cur, ok := ix.jobs.get(j.ID)
			if !ok || cur.Status != JobPending {
				return nil
			}
			b := &batch{}
			n := *cur
			if err != nil {
				n.fail(s.clock.Now().UTC(), err)
			} else {
				n.Status, n.Success, n.Completed = JobSucceeded, true, s.clock.Now().UTC()
			}
			put(b, ix.jobs, &n)
			return s.commit(context.WithoutCancel(s.ctx), b)
		})
	}()
	if s.wait < 0 {
		return
	}
	t := time.NewTimer(s.wait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// Job returns the job with the given id if c may see it.
func (s *Sim) Job(c Caller, id string) (*Job, error) {
	var j *Job
	var ok bool
	s.read(func(ix *index) {
		j, ok = ix.jobs.get(id)
		ok = ok && (ix.canAccess(c, j.Owner) || j.UserID == c.User.ID)
	})
	if !ok {
		return nil, notFound(KindJob, id)
	}
	return j, nil
}

// Jobs lists the jobs c may see in scope, newest last.
func (s *Sim) Jobs(c Caller, sc Scope) ([]*Job, error) {
	var out []*Job
	var err error
	s.read(func(ix *index) {
		var keep func(Owner) bool
		if keep, err = ix.scopeFilter(c, sc); err != nil {
			return
		}
		for _, j := range ix.jobs.all() {
			if keep(j.Owner) {
				out = append(out, j)
			}
		}
	})
	return out, err
}

// failInterruptedJobs marks jobs that a previous run of this server left
// pending as failed. Other servers' pending jobs are theirs to finish.
func (s *Sim) failInterruptedJobs(ctx context.Context) error {
	b := &batch{}
	for _, j := range s.ix.jobs.all() {
		if j.Status != JobPending || j.Server != s.id {
			continue
		}
		n := *j
		n.Status, n.ResultCode, n.ErrorCSCode = JobFailed, CodeInternal, CSCloudRuntime
		n.ErrorText = "Job was interrupted by a restart of the management server"
		n.Completed = s.clock.Now().UTC()
		put(b, s.ix.jobs, &n)
	}
	return s.commit(ctx, b)
}
