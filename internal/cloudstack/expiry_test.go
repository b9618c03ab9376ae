package cloudstack_test

import (
	"strings"
	"testing"
	"time"

	"github.com/apache/cloudstack-go/v2/cloudstack"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-cloud/stratus/internal/cloud"
	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
)

// TestExpiredJobAnswersAsCloudStack drives the real SDK against a server
// whose job.expire is scaled down: once a completed job is removed,
// queryAsyncJobResult answers what CloudStack answers for a job id it no
// longer has (431, the "entity does not exist" text of the parameter
// translation) and listAsyncJobs no longer shows it. The destroyed VM is
// expunged after expunge.delay, and events are purged, and with them the
// expunged VM's id. The gauges of
// /metrics count them, and fall to zero with them.
func TestExpiredJobAnswersAsCloudStack(t *testing.T) {
	dc, err := cloud.LoadDatacenter("")
	if err != nil {
		t.Fatal(err)
	}
	ms := func(n int) cloud.Duration { return cloud.Duration{Duration: time.Duration(n) * time.Millisecond} }
	dc.Simulator.Expiry = cloud.ExpirySpec{
		Jobs: ms(300), JobSweepInterval: ms(50),
		Events: ms(300), EventPurgeInterval: ms(50),
		ExpungeDelay: ms(300), ExpungeInterval: ms(50),
	}
	reg := prometheus.NewRegistry()
	srv := cstest.Start(t, cstest.Options{Datacenter: dc, Metrics: reg})
	e := setup(t, srv)
	cs := e.cs

	p := cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.basicZone)
	p.SetName("expiring")
	vm, err := cs.VirtualMachine.DeployVirtualMachine(p)
	if err != nil {
		t.Fatalf("deployVirtualMachine: %v", err)
	}
	dp := cs.VirtualMachine.NewDestroyVirtualMachineParams(vm.Id)
	if _, err := cs.VirtualMachine.DestroyVirtualMachine(dp); err != nil {
		t.Fatalf("destroyVirtualMachine: %v", err)
	}
	jobs, err := cs.Asyncjob.ListAsyncJobs(cs.Asyncjob.NewListAsyncJobsParams())
	if err != nil || jobs.Count == 0 {
		t.Fatalf("listAsyncJobs right after: %v %+v", err, jobs)
	}
	jobID := vm.JobID
	if g := gauges(t, reg); g["stratus_cloudstack_jobs"] < 2 || g["stratus_cloudstack_events"] < 1 || g["stratus_cloudstack_vms"] != 1 || g["stratus_cloudstack_sessions"] != 0 {
		t.Errorf("gauges right after: %v; want at least 2 jobs and 1 event, 1 VM, no session", g)
	}

	// Fresh: queryAsyncJobResult answers the job.
	if r, err := cs.Asyncjob.QueryAsyncJobResult(cs.Asyncjob.NewQueryAsyncJobResultParams(jobID)); err != nil || r.Jobstatus != 1 {
		t.Fatalf("queryAsyncJobResult while kept: %v %+v", err, r)
	}

	deadline := time.Now().Add(15 * time.Second)
	for {
		_, qerr := cs.Asyncjob.QueryAsyncJobResult(cs.Asyncjob.NewQueryAsyncJobResultParams(jobID))
		jobs, lerr := cs.Asyncjob.ListAsyncJobs(cs.Asyncjob.NewListAsyncJobsParams())
		vms, verr := cs.VirtualMachine.ListVirtualMachines(listAll(cs))
		evs, eerr := cs.Event.ListEvents(cs.Event.NewListEventsParams())
		if lerr != nil || verr != nil || eerr != nil {
			t.Fatalf("lists: %v %v %v", lerr, verr, eerr)
		}
		// The expunged VM's id is forgotten with its events.
		if qerr != nil && jobs.Count == 0 && vms.Count == 0 && evs.Count == 0 && gauges(t, reg)["stratus_cloudstack_removed_vms"] == 0 {
			want := "CloudStack API error 431 (CSExceptionErrorCode: 4350): Unable to execute API command queryasyncjobresult due to invalid value. Invalid parameter jobid value=" + jobID + " due to incorrect long value format, or entity does not exist"
			if !strings.HasPrefix(qerr.Error(), want) {
				t.Fatalf("expired job:\n got %v\nwant %s…", qerr, want)
			}
			if g := gauges(t, reg); g["stratus_cloudstack_jobs"] != 0 || g["stratus_cloudstack_events"] != 0 || g["stratus_cloudstack_vms"] != 0 {
				t.Errorf("gauges after expiry: %v; want none", g)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not expired: query err %v, %d jobs, %d VMs, %d events", qerr, jobs.Count, vms.Count, evs.Count)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func listAll(cs *cloudstack.CloudStackClient) *cloudstack.ListVirtualMachinesParams {
	p := cs.VirtualMachine.NewListVirtualMachinesParams()
	p.SetListall(true)
	return p
}

// gauges reads the unlabelled gauges of reg.
func gauges(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if ms := mf.GetMetric(); len(ms) == 1 && ms[0].GetGauge() != nil && len(ms[0].GetLabel()) == 0 {
			out[mf.GetName()] = ms[0].GetGauge().GetValue()
		}
	}
	return out
}
