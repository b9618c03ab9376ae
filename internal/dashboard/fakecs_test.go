package dashboard

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeCS is a small stand-in for the CloudStack API, used by the unit tests
// that must not depend on the simulator: session login, per-account
// isolation, VMs that go Starting → Running after a delay (moving its
// change feed like the simulator does), paging with count.
type fakeCS struct {
	t     testing.TB
	feed  *changes
	delay time.Duration

	mu       sync.Mutex
	sessions map[string]fakeUser
	vms      map[string]*fakeVM
	seq      int
	jobs     []map[string]any
	calls    map[string]int
	timers   sync.WaitGroup
}

type fakeUser struct {
	name, account, password string
	typ                     int
}

type fakeVM struct {
	id, name, account, state string
	seq                      int
}

func newFakeCS(t testing.TB) *fakeCS {
	f := &fakeCS{t: t, feed: newChanges(), delay: 150 * time.Millisecond, sessions: map[string]fakeUser{}, vms: map[string]*fakeVM{}, calls: map[string]int{}}
	t.Cleanup(f.timers.Wait)
	return f
}

func (f *fakeCS) users() []fakeUser {
	return []fakeUser{{"admin", "admin", "password", 1}, {"alice", "alice", "wonderland", 0}}
}

// addVMs adds n VMs in state Running owned by account, quickly.
func (f *fakeCS) addVMs(account string, n int, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.seq++
		id := fmt.Sprintf("00000000-0000-0000-0000-%012d", f.seq)
		f.vms[id] = &fakeVM{id: id, name: fmt.Sprintf("vm-%d", f.seq), account: account, state: state, seq: f.seq}
	}
}

func (f *fakeCS) callCount(cmd string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[cmd]
}

func (f *fakeCS) reply(w http.ResponseWriter, cmd string, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	if status != http.StatusOK {
		body = map[string]any{"uuidList": []string{}, "errorcode": status, "cserrorcode": 9999, "errortext": body}
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{strings.ToLower(cmd) + "response": body})
}

// Changed is the fake's change feed, as cloud.Sim.Changed.
func (f *fakeCS) Changed() <-chan struct{} { return f.feed.wait() }

func (f *fakeCS) touch(string) { f.feed.notify() }

// later moves a VM to state after the delay, moving the change feed.
func (f *fakeCS) later(id, state string) {
	f.timers.Add(1)
	time.AfterFunc(f.delay, func() {
		defer f.timers.Done()
		f.mu.Lock()
		if v := f.vms[id]; v != nil {
			v.state = state
		}
		f.mu.Unlock()
		f.touch(id)
	})
}

func (f *fakeCS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		f.reply(w, "error", 430, "bad form")
		return
	}
	p := r.Form
	cmd := p.Get("command")
	f.mu.Lock()
	f.calls[cmd]++
	f.mu.Unlock()
	if cmd == "login" {
		for _, u := range f.users() {
			if u.name == p.Get("username") && u.password == p.Get("password") && p.Get("domain") == "/" {
				key := randomToken()
				f.mu.Lock()
				f.sessions[key] = u
				f.mu.Unlock()
				http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: "j" + key, Path: "/client", HttpOnly: true})
				http.SetCookie(w, &http.Cookie{Name: "sessionkey", Value: key, HttpOnly: true})
				f.reply(w, cmd, 200, map[string]any{"username": u.name, "account": u.account, "type": strconv.Itoa(u.typ), "timeout": 1800, "sessionkey": key, "userid": "u-" + u.name})
				return
			}
		}
		f.reply(w, cmd, 401, "Failed to authenticate user "+p.Get("username")+" in domain 1; please provide valid credentials")
		return
	}
	key := p.Get("sessionkey")
	ck, err := r.Cookie("sessionkey")
	f.mu.Lock()
	u, ok := f.sessions[key]
	f.mu.Unlock()
	if !ok || err != nil || ck.Value != key {
		f.reply(w, cmd, 401, "unable to verify user credentials")
		return
	}
	switch cmd {
	case "logout":
		f.mu.Lock()
		delete(f.sessions, key)
		f.mu.Unlock()
		f.reply(w, cmd, 200, map[string]any{"description": "success"})
	case "listZones":
		f.reply(w, cmd, 200, map[string]any{"count": 1, "zone": []any{map[string]any{"id": "zone-1", "name": "Sandbox-simulator", "networktype": "Advanced", "allocationstate": "Enabled"}}})
	case "listHosts":
		if u.typ != 1 {
			f.reply(w, cmd, 531, "The API [listHosts] does not exist or is not available for the account for Account "+u.name)
			return
		}
		f.reply(w, cmd, 200, map[string]any{"count": 2, "host": []any{
			map[string]any{"id": "h1", "name": "SimulatedAgent.1", "state": "Up", "zonename": "Sandbox-simulator", "clustername": "C0", "cpunumber": 4, "cpuspeed": 2000, "cpuallocated": "25%", "memorytotal": 8 << 30, "memoryallocated": 2 << 30},
			map[string]any{"id": "h2", "name": "SimulatedAgent.2", "state": "Up", "zonename": "Sandbox-simulator", "clustername": "C0", "cpunumber": 4, "cpuspeed": 2000, "cpuallocatedvalue": 7600, "memorytotal": 8 << 30, "memoryallocated": 7 << 30},
		}})
	case "listServiceOfferings":
		f.reply(w, cmd, 200, map[string]any{"count": 1, "serviceoffering": []any{map[string]any{"id": "so-1", "name": "Small Instance", "cpunumber": 1, "cpuspeed": 500, "memory": 512}}})
	case "listTemplates":
		if p.Get("templatefilter") == "" {
			f.reply(w, cmd, 431, "Unable to execute API command listtemplates due to missing parameter templatefilter")
			return
		}
		f.reply(w, cmd, 200, map[string]any{"count": 1, "template": []any{map[string]any{"id": "tpl-1", "name": "CentOS 5.6 (64-bit) no GUI (Simulator)", "isready": true}}})
	case "listSSHKeyPairs":
		f.reply(w, cmd, 200, map[string]any{"count": 1, "sshkeypair": []any{map[string]any{"id": "kp-1", "name": u.account + "-key", "fingerprint": "aa:bb", "account": u.account}}})
	case "listSecurityGroups":
		f.reply(w, cmd, 200, map[string]any{"count": 1, "securitygroup": []any{map[string]any{"id": "sg-1", "name": "default", "account": u.account, "virtualmachinecount": 0,
			"ingressrule": []any{map[string]any{"ruleid": "r1", "protocol": "tcp", "startport": 22, "endport": 22, "cidr": "0.0.0.0/0"}}}}})
	case "listAsyncJobs":
		f.mu.Lock()
		jobs := append([]map[string]any(nil), f.jobs...)
		f.mu.Unlock()
		count := len(jobs)
		if pg, _ := strconv.Atoi(p.Get("page")); pg > 0 {
			ps, _ := strconv.Atoi(p.Get("pagesize"))
			lo := min((pg-1)*ps, len(jobs))
			jobs = jobs[lo:min(lo+ps, len(jobs))]
		}
		f.reply(w, cmd, 200, map[string]any{"count": count, "asyncjobs": jobs})
	case "listEvents":
		f.reply(w, cmd, 200, map[string]any{})
	case "queryAsyncJobResult":
		// The fake's jobs finish at once.
		f.reply(w, cmd, 200, map[string]any{"jobid": p.Get("jobid"), "jobstatus": 1, "jobresultcode": 0})
	case "listVirtualMachines":
		f.listVMs(w, u, p.Get("state"), p.Get("page"), p.Get("pagesize"))
	case "deployVirtualMachine":
		if p.Get("zoneid") != "zone-1" || p.Get("serviceofferingid") != "so-1" || p.Get("templateid") != "tpl-1" {
			f.reply(w, cmd, 431, "Unable to execute API command deployvirtualmachine due to invalid value. Invalid parameter zoneid value="+p.Get("zoneid")+" due to incorrect long value format, or entity does not exist or due to incorrect parameter annotation for the field in api cmd class.")
			return
		}
		f.mu.Lock()
		f.seq++
		id := fmt.Sprintf("00000000-0000-0000-0000-%012d", f.seq)
		name := p.Get("name")
		if name == "" {
			name = "VM-" + id
		}
		f.vms[id] = &fakeVM{id: id, name: name, account: u.account, state: "Starting", seq: f.seq}
		f.jobs = append(f.jobs, map[string]any{"jobid": "job-" + id, "cmd": "org.apache.cloudstack.api.command.user.vm.DeployVMCmd", "jobstatus": 1, "jobinstancetype": "VirtualMachine", "jobinstanceid": id, "account": u.account,
			"created": time.Date(2026, 1, 1, 0, 0, f.seq, 0, time.UTC).Format("2006-01-02T15:04:05-0700")})
		f.mu.Unlock()
		f.touch(id)
		f.later(id, "Running")
		f.reply(w, cmd, 200, map[string]any{"id": id, "jobid": "job-" + id})
	case "startVirtualMachine", "stopVirtualMachine", "rebootVirtualMachine", "destroyVirtualMachine":
		id := p.Get("id")
		f.mu.Lock()
		v := f.vms[id]
		if v == nil || (u.typ != 1 && v.account != u.account) {
			f.mu.Unlock()
			f.reply(w, cmd, 431, "Unable to execute API command "+strings.ToLower(cmd)+" due to invalid value. Invalid parameter id value="+id+" due to incorrect long value format, or entity does not exist or due to incorrect parameter annotation for the field in api cmd class.")
			return
		}
		next, final := map[string][2]string{
			"startVirtualMachine": {"Starting", "Running"}, "stopVirtualMachine": {"Stopping", "Stopped"},
			"rebootVirtualMachine": {"Running", "Running"}, "destroyVirtualMachine": {"Destroyed", "Destroyed"},
		}[cmd][0], map[string]string{"startVirtualMachine": "Running", "stopVirtualMachine": "Stopped", "rebootVirtualMachine": "Running", "destroyVirtualMachine": "Destroyed"}[cmd]
		v.state = next
		f.mu.Unlock()
		f.touch(id)
		f.later(id, final)
		f.reply(w, cmd, 200, map[string]any{"jobid": "job-" + cmd + id})
	default:
		f.reply(w, cmd, 432, "The given command does not exist or it is not available for user")
	}
}

func (f *fakeCS) listVMs(w http.ResponseWriter, u fakeUser, state, page, pagesize string) {
	f.mu.Lock()
	var sel []*fakeVM
	for _, v := range f.vms {
		if (u.typ == 1 || v.account == u.account) && (state == "" || v.state == state) {
			c := *v
			sel = append(sel, &c)
		}
	}
	f.mu.Unlock()
	sort.Slice(sel, func(i, j int) bool { return sel[i].seq < sel[j].seq })
	count := len(sel)
	pg, _ := strconv.Atoi(page)
	ps, _ := strconv.Atoi(pagesize)
	if pg > 0 && ps > 0 {
		lo := min((pg-1)*ps, len(sel))
		sel = sel[lo:min(lo+ps, len(sel))]
	}
	if count == 0 {
		f.reply(w, "listVirtualMachines", 200, map[string]any{})
		return
	}
	out := make([]any, 0, len(sel))
	for _, v := range sel {
		out = append(out, map[string]any{"id": v.id, "name": v.name, "displayname": v.name, "account": v.account, "state": v.state,
			"zonename": "Sandbox-simulator", "hostname": "SimulatedAgent.1", "serviceofferingname": "Small Instance",
			"nic": []any{map[string]any{"ipaddress": fmt.Sprintf("10.1.%d.%d", v.seq/250, v.seq%250+2), "isdefault": true}}})
	}
	f.reply(w, "listVirtualMachines", 200, map[string]any{"count": count, "virtualmachine": out})
}
