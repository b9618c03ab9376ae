package dashboard

import (
	"context"
	"errors"
	"net/url"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// sampleLoop takes a sample for the plots over time every samplePeriod and
// drops idle sessions, until ctx ends.
func (d *Dashboard) sampleLoop(ctx context.Context) {
	t := time.NewTicker(samplePeriod)
	defer t.Stop()
	d.samplePods(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, s := range d.sessions.sweep(d.clock.Now()) {
			d.log.Info("session expired", "user", s.user.Username)
			_ = s.cs.Logout(ctx)
		}
		live := d.sessions.all()
		for _, s := range live {
			d.sampleVMs(ctx, s)
		}
		// Pods are sampled cluster-wide; skip the list while nobody is
		// logged in.
		if len(live) > 0 {
			d.samplePods(ctx)
		}
	}
}

// sampleVMs records how many VMs the session's user sees, and how many run.
// VM counts are sampled per user through the API, so the plot shows only
// what the user may see.
func (d *Dashboard) sampleVMs(ctx context.Context, s *session) {
	total, err := d.countVMs(ctx, s.cs, "")
	if err != nil {
		if !errors.Is(err, errSessionExpired) && ctx.Err() == nil {
			d.log.Debug("sample VMs", "user", s.user.Username, "err", err)
		}
		return
	}
	running, err := d.countVMs(ctx, s.cs, "Running")
	if err != nil {
		return
	}
	s.vmSeries.add(sample{At: d.clock.Now(), V: [2]int64{total, running}})
}

// countVMs asks the API how many VMs are in a state ("" for all), from the
// list's count with a page of one.
func (d *Dashboard) countVMs(ctx context.Context, cs *csSession, state string) (int64, error) {
	p := url.Values{"listall": {"true"}, "page": {"1"}, "pagesize": {"1"}}
	if state != "" {
		p.Set("state", state)
	}
	var r struct {
		Count int64 `json:"count"`
	}
	err := cs.Do(ctx, "listVirtualMachines", p, &r)
	return r.Count, err
}

// samplePods records the cluster's pods, all and running.
func (d *Dashboard) samplePods(ctx context.Context) {
	if d.kube == nil {
		return
	}
	pods, err := d.kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		if ctx.Err() == nil {
			d.log.Debug("sample pods", "err", err)
		}
		return
	}
	var running int64
	for i := range pods.Items {
		if pods.Items[i].Status.Phase == corev1.PodRunning {
			running++
		}
	}
	d.podSeries.add(sample{At: d.clock.Now(), V: [2]int64{int64(len(pods.Items)), running}})
}
