package dashboard

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
)

// listPageSize is the page size of the jobs and events tables.
const listPageSize = 50

type networkData struct {
	Groups   []securityGroup
	KeyPairs []keyPair
}

func (d *Dashboard) loadNetwork(ctx context.Context, rq viewRequest) (any, error) {
	var nd networkData
	var sg struct {
		Groups []securityGroup `json:"securitygroup"`
	}
	if err := rq.s.cs.Do(ctx, "listSecurityGroups", url.Values{"listall": {"true"}}, &sg); err != nil {
		return nil, err
	}
	nd.Groups = sg.Groups
	var kp struct {
		KeyPairs []keyPair `json:"sshkeypair"`
	}
	if err := rq.s.cs.Do(ctx, "listSSHKeyPairs", url.Values{"listall": {"true"}}, &kp); err != nil {
		return nil, err
	}
	nd.KeyPairs = kp.KeyPairs
	return nd, nil
}

type jobsData struct {
	Jobs        []asyncJob
	Events      []event
	EventCount  int64
	EventsPager pager
}

func (d *Dashboard) loadJobs(ctx context.Context, rq viewRequest) (any, error) {
	var jd jobsData
	jobs, err := d.newestJobs(ctx, rq.s.cs)
	if err != nil {
		return nil, err
	}
	jd.Jobs = jobs
	page := rq.intParam("page", 1)
	var er struct {
		Count  int64   `json:"count"`
		Events []event `json:"event"`
	}
	p := url.Values{"listall": {"true"}, "page": {strconv.Itoa(page)}, "pagesize": {strconv.Itoa(listPageSize)}}
	if err := rq.s.cs.Do(ctx, "listEvents", p, &er); err != nil {
		return nil, err
	}
	jd.Events, jd.EventCount = er.Events, er.Count
	jd.EventsPager = newPager(nil, "/client/jobs", page, listPageSize, er.Count)
	return jd, nil
}

// newestJobs returns the newest listPageSize async jobs, newest first. The
// API names no order, so it reads the first and the last pages and sorts.
func (d *Dashboard) newestJobs(ctx context.Context, cs *csSession) ([]asyncJob, error) {
	list := func(page int) (int, []asyncJob, error) {
		var jr struct {
			Count int        `json:"count"`
			Jobs  []asyncJob `json:"asyncjobs"`
		}
		p := url.Values{"listall": {"true"}, "page": {strconv.Itoa(page)}, "pagesize": {strconv.Itoa(listPageSize)}}
		err := cs.Do(ctx, "listAsyncJobs", p, &jr)
		return jr.Count, jr.Jobs, err
	}
	count, jobs, err := list(1)
	if err != nil {
		return nil, err
	}
	// The newest jobs are on page 1 or on the last two pages.
	last := (count + listPageSize - 1) / listPageSize
	for page := max(last-1, 2); page <= last; page++ {
		_, more, err := list(page)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, more...)
	}
	// CloudStack dates (2006-01-02T15:04:05-0700) from one server share
	// an offset, so they sort as strings.
	sort.SliceStable(jobs, func(i, j int) bool { return jobs[i].Created > jobs[j].Created })
	return jobs[:min(len(jobs), listPageSize)], nil
}

type faultsData struct {
	// Faults are the fault API's, every kind (nil: no fault API);
	// FaultsErr says why they are missing.
	Faults    []apiFault
	HasAPI    bool
	FaultsErr string
	Mocks     []simulatorMock
	// Missing is set when the API offers no listing of faults.
	Missing string
}

// faultListCommand is the simulator's listing of its injected faults.
const faultListCommand = "listSimulatorMocks"

func (d *Dashboard) loadFaults(ctx context.Context, rq viewRequest) (any, error) {
	// The listing is a root admin's call; asking as anyone else would get a
	// 401, which reads as an ended session.
	if !rq.s.user.RootAdmin() {
		return faultsData{Missing: "Injected faults are shown to administrators only."}, nil
	}
	var out faultsData
	if d.faultAPI != nil {
		out.HasAPI = true
		l, err := d.faultAPI.list(ctx)
		if err != nil {
			d.log.Warn("list faults", "err", err)
			out.FaultsErr = "The fault API did not answer; see the server log."
		}
		out.Faults = l
	}
	var fr struct {
		Mocks []simulatorMock `json:"simulatormock"`
	}
	err := rq.s.cs.Do(ctx, faultListCommand, url.Values{"listall": {"true"}}, &fr)
	var ae *apiError
	if errors.As(err, &ae) && ae.ErrorCode == 432 {
		out.Missing = "This CloudStack API offers no listing of injected faults (" + faultListCommand + ")."
		return out, nil
	}
	if errors.As(err, &ae) && (ae.ErrorCode == 531 || ae.ErrorCode == http.StatusForbidden) {
		return faultsData{Missing: "Injected faults are shown to administrators only."}, nil
	}
	if err != nil {
		return nil, err
	}
	out.Mocks = fr.Mocks
	return out, nil
}
