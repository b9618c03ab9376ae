package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
)

// vmPageSize is how many VMs one page of the table shows.
const vmPageSize = 50

type vmRow struct {
	vm
	Actions []string
}

type vmsData struct {
	VMs   []vmRow
	Count int64
	Pager pager
	State string
	// Back is this page's address, where actions return.
	Back string
}

// pager is a table's paging links.
type pager struct {
	Page, Pages int
	Prev, Next  string
	From, To    int64
}

func newPager(base url.Values, path string, page, size int, count int64) pager {
	p := pager{Page: page, Pages: int((count + int64(size) - 1) / int64(size))}
	p.Pages = max(p.Pages, 1)
	p.From = min(int64((page-1)*size+1), count)
	p.To = min(int64(page*size), count)
	link := func(n int) string {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Set("page", strconv.Itoa(n))
		return path + "?" + q.Encode()
	}
	if page > 1 {
		p.Prev = link(min(page-1, p.Pages))
	}
	if page < p.Pages {
		p.Next = link(page + 1)
	}
	return p
}

// vmActions are the actions the table offers for a VM in a state.
func vmActions(state string) []string {
	switch state {
	case "Running":
		return []string{"stop", "reboot", "destroy"}
	case "Stopped":
		return []string{"start", "destroy"}
	case "Error":
		return []string{"destroy"}
	}
	return nil
}

// validState reports whether s is a VM state one may filter on.
func validState(s string) bool {
	for _, st := range vmStates() {
		if st.Name == s {
			return true
		}
	}
	return false
}

func (d *Dashboard) loadVMs(ctx context.Context, rq viewRequest) (any, error) {
	page := rq.intParam("page", 1)
	p := url.Values{"listall": {"true"}, "page": {strconv.Itoa(page)}, "pagesize": {strconv.Itoa(vmPageSize)}}
	base := url.Values{}
	state := rq.q.Get("state")
	if validState(state) {
		p.Set("state", state)
		base.Set("state", state)
	} else {
		state = ""
	}
	var r struct {
		Count int64 `json:"count"`
		VMs   []vm  `json:"virtualmachine"`
	}
	if err := rq.s.cs.Do(ctx, "listVirtualMachines", p, &r); err != nil {
		return nil, err
	}
	vd := vmsData{Count: r.Count, State: state, Pager: newPager(base, "/client/vms", page, vmPageSize, r.Count)}
	back := url.Values{}
	for k, v := range base {
		back[k] = v
	}
	back.Set("page", strconv.Itoa(page))
	vd.Back = "/client/vms?" + back.Encode()
	for _, v := range r.VMs {
		vd.VMs = append(vd.VMs, vmRow{vm: v, Actions: vmActions(v.State)})
	}
	return vd, nil
}

// deployForm is what the deploy form offers.
type deployForm struct {
	Zones     []zone
	Offerings []serviceOffering
	Templates []vmTemplate
	KeyPairs  []keyPair
	Groups    []securityGroup
	States    []vmState
}

func (d *Dashboard) loadDeployForm(ctx context.Context, rq viewRequest) (any, error) {
	if f := rq.s.cachedForm(d.clock.Now()); f != nil {
		return *f, nil
	}
	f := deployForm{States: vmStates()}
	calls := []struct {
		cmd    string
		params url.Values
		out    any
	}{
		{"listZones", url.Values{"available": {"true"}}, &struct {
			X *[]zone `json:"zone"`
		}{&f.Zones}},
		{"listServiceOfferings", nil, &struct {
			X *[]serviceOffering `json:"serviceoffering"`
		}{&f.Offerings}},
		{"listTemplates", url.Values{"templatefilter": {"executable"}}, &struct {
			X *[]vmTemplate `json:"template"`
		}{&f.Templates}},
		{"listSSHKeyPairs", nil, &struct {
			X *[]keyPair `json:"sshkeypair"`
		}{&f.KeyPairs}},
		{"listSecurityGroups", nil, &struct {
			X *[]securityGroup `json:"securitygroup"`
		}{&f.Groups}},
	}
	for _, c := range calls {
		if err := rq.s.cs.Do(ctx, c.cmd, c.params, c.out); err != nil {
			return f, err
		}
	}
	f.Templates = uniqueTemplates(f.Templates)
	rq.s.cacheForm(&f, d.clock.Now())
	return f, nil
}

// Form field rules: ids are opaque tokens the API checks; names follow
// CloudStack's host name rule.
var (
	idPattern   = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
	namePattern = regexp.MustCompile(`^[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	keyPattern  = regexp.MustCompile(`^[A-Za-z0-9_.@ -]{1,255}$`)
)

// deployRequest checks the deploy form and returns the API parameters, or a
// message saying what is wrong.
func deployRequest(f url.Values) (url.Values, string) {
	p := url.Values{}
	for _, field := range []struct{ name, label string }{
		{"zoneid", "a zone"}, {"serviceofferingid", "a service offering"}, {"templateid", "a template"},
	} {
		v := f.Get(field.name)
		if v == "" {
			return nil, "Choose " + field.label + "."
		}
		if !idPattern.MatchString(v) {
			return nil, "The form's " + field.name + " is not a valid id."
		}
		p.Set(field.name, v)
	}
	if name := f.Get("name"); name != "" {
		if !namePattern.MatchString(name) {
			return nil, "A VM name starts with a letter and has at most 63 letters, digits and hyphens (not at the end)."
		}
		p.Set("name", name)
		p.Set("displayname", name)
	}
	if kp := f.Get("keypair"); kp != "" {
		if !keyPattern.MatchString(kp) {
			return nil, "The key pair name is not valid."
		}
		p.Set("keypair", kp)
	}
	if sg := f.Get("securitygroupid"); sg != "" {
		if !idPattern.MatchString(sg) {
			return nil, "The form's securitygroupid is not a valid id."
		}
		p.Set("securitygroupids", sg)
	}
	return p, ""
}

// deploySubmit deploys a VM from the form.
func (d *Dashboard) deploySubmit(w http.ResponseWriter, r *http.Request, s *session) {
	p, msg := deployRequest(r.PostForm)
	if msg != "" {
		d.answer(w, r, s, msg, true, "/client/vms")
		return
	}
	var resp struct {
		ID    string `json:"id"`
		JobID string `json:"jobid"`
	}
	if err := s.cs.Do(r.Context(), "deployVirtualMachine", p, &resp); err != nil {
		d.failed(w, r, s, err, "/client/vms")
		return
	}
	d.log.Info("deploy VM", "user", s.user.Username, "vm", resp.ID, "job", resp.JobID)
	name := p.Get("name")
	if name == "" {
		name = resp.ID
	}
	d.answer(w, r, s, fmt.Sprintf("Deploying %s (job %s).", name, resp.JobID), false, "/client/vms")
}

// vmCommands maps a form action to its CloudStack command.
func vmCommand(action string) string {
	switch action {
	case "start":
		return "startVirtualMachine"
	case "stop":
		return "stopVirtualMachine"
	case "reboot":
		return "rebootVirtualMachine"
	case "destroy":
		return "destroyVirtualMachine"
	}
	return ""
}

// vmActionSubmit starts, stops, reboots or destroys a VM.
func (d *Dashboard) vmActionSubmit(w http.ResponseWriter, r *http.Request, s *session) {
	id, action := r.PathValue("id"), r.PathValue("action")
	cmd := vmCommand(action)
	if cmd == "" || !idPattern.MatchString(id) {
		d.answer(w, r, s, "Unknown action or VM.", true, "/client/vms")
		return
	}
	var resp struct {
		JobID string `json:"jobid"`
	}
	if err := s.cs.Do(r.Context(), cmd, url.Values{"id": {id}}, &resp); err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			d.log.Info("VM action refused", "user", s.user.Username, "vm", id, "action", action, "code", ae.ErrorCode)
		}
		d.failed(w, r, s, err, "/client/vms")
		return
	}
	d.log.Info("VM action", "user", s.user.Username, "vm", id, "action", action, "job", resp.JobID)
	// The job usually ends within a moment: say how it went, a failure
	// in red, rather than a green "requested" for a job that failed.
	job, err := d.awaitJob(r.Context(), s, resp.JobID)
	if err != nil {
		d.failed(w, r, s, err, "/client/vms")
		return
	}
	switch job.Status {
	case 1:
		d.answer(w, r, s, fmt.Sprintf("%s done (job %s).", actionLabel(action), resp.JobID), false, "/client/vms")
	case 2:
		d.log.Info("VM action failed", "user", s.user.Username, "vm", id, "action", action, "job", resp.JobID, "error", job.Result.ErrorText)
		d.answer(w, r, s, fmt.Sprintf("%s failed: %s (job %s).", actionLabel(action), job.Result.ErrorText, resp.JobID), true, "/client/vms")
	default:
		d.answer(w, r, s, fmt.Sprintf("%s requested (job %s); it is still running, see Jobs.", actionLabel(action), resp.JobID), false, "/client/vms")
	}
}

func actionLabel(a string) string {
	switch a {
	case "start":
		return "Start"
	case "stop":
		return "Stop"
	case "reboot":
		return "Reboot"
	}
	return "Destroy"
}

// uniqueTemplates keeps the first entry of each template: listTemplates
// answers once per zone a template is in, and a drop-down lists it once
// (the zone is chosen on its own).
func uniqueTemplates(ts []vmTemplate) []vmTemplate {
	seen := make(map[string]bool, len(ts))
	out := ts[:0]
	for _, t := range ts {
		if seen[t.ID] {
			continue
		}
		seen[t.ID] = true
		out = append(out, t)
	}
	return out
}
