package dashboard

import (
	"context"
	"net/url"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// jobWait is how long a VM action's form waits for its job before it
// answers "requested": long enough for the simulator's jobs (and a fault
// that fails one) to finish, short enough for a page.
const jobWait = 5 * time.Second

// awaitJob polls a job until it finishes or jobWait passes, and returns it
// (Status 0 if it is still running).
func (d *Dashboard) awaitJob(ctx context.Context, s *session, jobID string) (asyncJob, error) {
	ctx, cancel := context.WithTimeout(ctx, jobWait)
	defer cancel()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		var job asyncJob
		if err := s.cs.Do(ctx, "queryAsyncJobResult", url.Values{"jobid": {jobID}}, &job); err != nil {
			if ctx.Err() != nil {
				return asyncJob{JobID: jobID}, nil
			}
			return job, err
		}
		if job.Status != csclient.JobPending {
			return job, nil
		}
		select {
		case <-ctx.Done():
			return job, nil
		case <-tick.C:
		}
	}
}
