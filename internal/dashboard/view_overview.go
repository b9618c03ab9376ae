package dashboard

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
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
	if err := d.api.callInto(ctx, rq.s.cs, "listZones", nil, &zr); err != nil {
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
	for _, st := range vmStates() {
		n, err := d.countVMs(ctx, rq.s.cs, st.Name)
		if err != nil {
			return nil, err
		}
		od.VMTotal += n
		od.VMStates = append(od.VMStates, stackPart{Label: st.Name, Class: st.Class, N: n})
	}
	od.VMBar = stackedBar(od.VMStates)
	od.VMChart = lineChart(rq.s.vmSeries.points(), [2]string{"VMs", "running"}, d.now())
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
	if err := d.api.callInto(ctx, s.cs, "listHosts", p, &hr); err != nil {
		return nil, err
	}
	rows := make([]hostRow, 0, len(hr.Hosts))
	for _, h := range hr.Hosts {
		cpuTotal := h.CPUNumber * h.CPUSpeed
		cpuUsed := int64(h.CPUAllocatedMHz)
		if cpuUsed == 0 {
			cpuUsed = int64(percentOf(string(h.CPUAllocated)) * float64(cpuTotal))
		}
		memMB := h.MemoryTotal / (1 << 20)
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
