package dashboard

import (
	"context"
	"net/url"
	"strconv"
	"time"
)

// view is one page of the dashboard: its live region is loaded by load and
// rendered again whenever what it follows changes.
type view struct {
	Name  string // path under /client/ and template name
	Title string
	// kube marks a Kubernetes view: root admins only, needs a client.
	kube bool
	// marathon marks a Marathon view: root admins only, needs the API.
	marathon bool
	// hidden views are reached by links, not the navigation bar.
	hidden bool
	// every, when set, also renders the live region again this often
	// (what it shows changes without an object changing: a task's output).
	every time.Duration
	// cloud and registry say which changes refresh the view: the cloud's
	// feed, the Kubernetes API's watches.
	cloud, registry bool
	// load returns the live region's data.
	load func(ctx context.Context, rq viewRequest) (any, error)
	// form, when set, returns data for the page's static parts.
	form func(ctx context.Context, rq viewRequest) (any, error)
}

// viewRequest is what a loader needs: who asks and with which parameters.
type viewRequest struct {
	s *session
	q url.Values
	// host is the host name the browser used, for node port links.
	host string
}

// intParam reads a positive integer query parameter, or def.
func (rq viewRequest) intParam(name string, def int) int {
	n, err := strconv.Atoi(rq.q.Get(name))
	if err != nil || n < 1 || n > 1_000_000 {
		return def
	}
	return n
}

// allViews lists the dashboard's pages in navigation order.
func (d *Dashboard) allViews() []*view {
	return []*view{
		{Name: "overview", Title: "Overview", cloud: true, registry: true, load: d.loadOverview},
		{Name: "vms", Title: "Virtual machines", cloud: true, load: d.loadVMs, form: d.loadDeployForm},
		{Name: "network", Title: "Security groups & keys", cloud: true, load: d.loadNetwork},
		{Name: "jobs", Title: "Jobs & events", cloud: true, load: d.loadJobs},
		{Name: "faults", Title: "Faults", cloud: true, every: 2 * time.Second, load: d.loadFaults},
		{Name: "kube", Title: "Kubernetes", kube: true, registry: true, load: d.loadKube},
		{Name: "marathon", Title: "Marathon & Mesos", marathon: true, registry: true, load: d.loadMarathon},
		{Name: "task", Title: "Task output", marathon: true, hidden: true, every: time.Second, load: d.loadTask},
	}
}
