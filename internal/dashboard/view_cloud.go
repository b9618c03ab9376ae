package dashboard

import (
	"context"
	"errors"
	"net/http"
	"net/url"
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
	if err := d.api.callInto(ctx, rq.s.cs, "listSecurityGroups", url.Values{"listall": {"true"}}, &sg); err != nil {
		return nil, err
	}
	nd.Groups = sg.Groups
	var kp struct {
		KeyPairs []keyPair `json:"sshkeypair"`
	}
	if err := d.api.callInto(ctx, rq.s.cs, "listSSHKeyPairs", url.Values{"listall": {"true"}}, &kp); err != nil {
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
	var jr struct {
		Jobs []asyncJob `json:"asyncjobs"`
	}
	p := url.Values{"listall": {"true"}, "page": {"1"}, "pagesize": {strconv.Itoa(listPageSize)}}
	if err := d.api.callInto(ctx, rq.s.cs, "listAsyncJobs", p, &jr); err != nil {
		return nil, err
	}
	jd.Jobs = jr.Jobs
	page := rq.intParam("page", 1)
	var er struct {
		Count  int64   `json:"count"`
		Events []event `json:"event"`
	}
	p = url.Values{"listall": {"true"}, "page": {strconv.Itoa(page)}, "pagesize": {strconv.Itoa(listPageSize)}}
	if err := d.api.callInto(ctx, rq.s.cs, "listEvents", p, &er); err != nil {
		return nil, err
	}
	jd.Events, jd.EventCount = er.Events, er.Count
	jd.EventsPager = newPager(nil, "/client/jobs", page, listPageSize, er.Count)
	return jd, nil
}

type faultsData struct {
	Mocks []simulatorMock
	// Missing is set when the API offers no listing of faults.
	Missing string
}

// faultListCommand is the simulator's listing of its injected faults.
const faultListCommand = "listSimulatorMocks"

func (d *Dashboard) loadFaults(ctx context.Context, rq viewRequest) (any, error) {
	var fr struct {
		Mocks []simulatorMock `json:"simulatormock"`
	}
	err := d.api.callInto(ctx, rq.s.cs, faultListCommand, url.Values{"listall": {"true"}}, &fr)
	var ae *apiError
	if errors.As(err, &ae) && ae.Code == 432 {
		return faultsData{Missing: "This CloudStack API offers no listing of injected faults (" + faultListCommand + ")."}, nil
	}
	if errors.As(err, &ae) && (ae.Code == 531 || ae.Code == http.StatusForbidden) {
		return faultsData{Missing: "Injected faults are shown to administrators only."}, nil
	}
	if err != nil {
		return nil, err
	}
	return faultsData{Mocks: fr.Mocks}, nil
}
