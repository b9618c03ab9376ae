package dashboard

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// vmState is a VM state the overview counts, with the class its colour
// comes from.
type vmState struct{ Name, Class string }

// vmStates are the VM states the overview counts, in display order.
func vmStates() []vmState {
	return []vmState{
		{"Running", "running"}, {"Starting", "pending"}, {"Stopping", "pending"}, {"Stopped", "stopped"},
		{"Migrating", "pending"}, {"Error", "error"}, {"Destroyed", "gone"}, {"Expunging", "gone"},
	}
}

// hostRow is a host with its capacity bars.
type hostRow struct {
	host
	CPUBar, MemBar template.HTML
}

type overviewData struct {
	Zones    []zone
	Hosts    []hostRow
	HostsErr string
	VMTotal  int64
	VMStates []stackPart
	VMBar    template.HTML
	VMChart  template.HTML
	Kube     *kubeSummary
}

func (d *Dashboard) loadOverview(ctx context.Context, rq viewRequest) (any, error) {
	var od overviewData
	var zr struct {
		Zones []zone `json:"zone"`
	}
	if err := rq.s.cs.Do(ctx, "listZones", nil, &zr); err != nil {
		return nil, err
	}
	od.Zones = zr.Zones
	hosts, err := d.hostRows(ctx, rq.s)
	switch {
	case errors.Is(err, errSessionExpired):
		return nil, err
	case err != nil:
		od.HostsErr = errorText(err)
	}
	od.Hosts = hosts
	states, err := d.countByState(ctx, rq.s.cs)
	if err != nil {
		return nil, err
	}
	for _, p := range states {
		od.VMTotal += p.N
	}
	od.VMStates = states
	od.VMBar = stackedBar(od.VMStates)
	od.VMChart = lineChart(rq.s.vmSeries.points(), [2]string{"VMs", "running"}, d.clock.Now())
	if d.kube != nil && rq.s.user.RootAdmin() {
		ks, err := d.kubeSummary(ctx)
		if err != nil {
			ks = &kubeSummary{Err: err.Error()}
		}
		od.Kube = ks
	}
	return od, nil
}

// hostRows lists the hosts (an admin call) with CPU and memory bars.
func (d *Dashboard) hostRows(ctx context.Context, s *session) ([]hostRow, error) {
	var hr struct {
		Hosts []host `json:"host"`
	}
	p := url.Values{"type": {"Routing"}}
	if err := s.cs.Do(ctx, "listHosts", p, &hr); err != nil {
		return nil, err
	}
	rows := make([]hostRow, 0, len(hr.Hosts))
	for _, h := range hr.Hosts {
		cpuTotal := int64(h.CPUNumber * h.CPUSpeed)
		cpuUsed := int64(h.CPUAllocatedMHz)
		if cpuUsed == 0 {
			cpuUsed = int64(percentOf(string(h.CPUAllocated)) * float64(cpuTotal))
		}
		memMB := int64(h.MemoryTotal) / (1 << 20)
		memUsedMB := int64(h.MemoryAllocated) / (1 << 20)
		rows = append(rows, hostRow{
			host:   h,
			CPUBar: capacityBar(cpuUsed, cpuTotal, fmt.Sprintf("CPU %d / %d MHz", cpuUsed, cpuTotal)),
			MemBar: capacityBar(memUsedMB, memMB, fmt.Sprintf("RAM %s / %s", humanMB(memUsedMB), humanMB(memMB))),
		})
	}
	return rows, nil
}

// percentOf reads "12.5%" as 0.125; anything else is 0.
func percentOf(s string) float64 {
	f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || f < 0 {
		return 0
	}
	return f / 100
}

// countByState asks the API how many VMs there are and how many are in the
// common states, one call each with a page of one (the list's count is the
// total), the calls in parallel; the rest (Migrating, Destroyed, …) is
// counted as "other".
func (d *Dashboard) countByState(ctx context.Context, cs *csSession) ([]stackPart, error) {
	states := []vmState{{"Running", "running"}, {"Starting", "pending"}, {"Stopping", "pending"}, {"Stopped", "stopped"}, {"Error", "error"}}
	parts := make([]stackPart, len(states)+1)
	errs := make([]error, len(states)+1)
	var total int64
	var wg sync.WaitGroup
	wg.Go(func() { total, errs[len(states)] = d.countVMs(ctx, cs, "") })
	for i, st := range states {
		parts[i] = stackPart{Label: st.Name, Class: st.Class}
		wg.Go(func() { parts[i].N, errs[i] = d.countVMs(ctx, cs, st.Name) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	other := total
	for _, p := range parts[:len(states)] {
		other -= p.N
	}
	parts[len(states)] = stackPart{Label: "other", Class: "gone", N: max(other, 0)}
	return parts, nil
}
