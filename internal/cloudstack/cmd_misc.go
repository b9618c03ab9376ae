package cloudstack

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// commands returns every implemented command.
func commands() []*command {
	var all []*command
	for _, group := range [][]*command{infraCommands(), vmCommands(), migrateCommands(), networkCommands(), natCommands(), lbCommands(), nicCommands(), storageCommands(), snapshotPolicyCommands(), vmSnapshotCommands(), templateCommands(), imageCommands(), offeringCommands(), accountStateCommands(), affinityCommands(), vpcCommands(), vpnCommands(), securityCommands(), accountCommands(), projectCommands(), adminCommands(), miscCommands(),
		vmMoreCommands(), netOfferingCommands(), netUpdateCommands(), privateGatewayCommands()} {
		all = append(all, group...)
	}
	return all
}

func miscCommands() []*command {
	return []*command{
		{Name: "login", Desc: "Logs a user into the CloudStack. A successful login attempt will generate a JSESSIONID cookie value that can be passed in subsequent Query command calls until the \"logout\" command has been issued or the session has expired.",
			Resp: "login", RespOf: loginAnswer{},
			Params: []param{p("username*:string", "Username"), p("password*:string", "Hashed password (Default is MD5). If you wish to use any other hashing algorithm, you would need to write a custom authentication adapter See Docs section."),
				p("domain:string", "Path of the domain that the user belongs to. Example: domain=/com/cloud/internal. If no domain is passed in, the ROOT (/) domain is assumed."),
				p("domainId:long", "The id of the domain that the user belongs to. If both domain and domainId are passed in, \"domainId\" parameter takes precedence.")}},
		{Name: "logout", Desc: "Logs out the user", Resp: "logout", RespOf: struct {
			Description string `json:"description"`
		}{}, Run: func(rq *request) (any, error) { return rq.logout() }},
		{Name: "listApis", Desc: "lists all available apis on the server, provided by the Api Discovery plugin", Resp: "api", RespOf: apiView{},
			Params: []param{p("name:string", "API name")}, Run: listApis},
		{Name: "queryAsyncJobResult", Desc: "Retrieves the current status of asynchronous job.", Resp: "asyncjobs", RespOf: jobView{},
			Params: []param{p("jobid*:uuid:AsyncJob", "the ID of the asynchronous job")}, Run: queryJob},
		{Name: "listAsyncJobs", Desc: "Lists all pending asynchronous jobs for the account.", Resp: "asyncjobs", RespOf: jobView{},
			Params: listParams(pListAll, pAccount, pDomainID, pRecurse, p("startdate:date", "The start date of the async job (use format \"yyyy-MM-dd'T'HH:mm:ss'+'SSSS\")")), Run: listJobs},
		{Name: "listEvents", Desc: "A command to list events.", Resp: "event", RespOf: eventView{},
			Params: listParams(pListAll, pAccount, pDomainID, pRecurse, pProject, p("id:uuid", "the ID of the event"), p("type:string", "the event type (see event types)"),
				p("level:string", "the event level (INFO, WARN, ERROR)"), p("startdate:date", "the start date range of the list you want to retrieve (use format \"yyyy-MM-dd\" or the new format \"yyyy-MM-dd HH:mm:ss\")"),
				p("enddate:date", "the end date range of the list you want to retrieve (use format \"yyyy-MM-dd\" or the new format \"yyyy-MM-dd HH:mm:ss\")"),
				p("resourceid:string", "the ID of the resource associated with the event"), p("resourcetype:string", "the type of the resource associated with the event")),
			Run: listEvents},
		{Name: "createTags", Async: true, Desc: "Creates resource tag(s)", Resp: "success", RespOf: Success{},
			Params: []param{p("resourceids*:list", "list of resources to create the tags for"), p("resourcetype*:string", "type of the resource"),
				p("tags*:map", "Map of tags (key/value pairs)"), p("customer:string", "identifies client specific tag. When the value is not null, the tag can't be used by cloudStack code internally")},
			Run: func(rq *request) (any, error) { return tagJob(rq, true) }},
		{Name: "deleteTags", Async: true, Desc: "Deleting resource tag(s)", Resp: "success", RespOf: Success{},
			Params: []param{p("resourceids*:list", "Delete tags for resource id(s)"), p("resourcetype*:string", "Delete tag by resource type"),
				p("tags:map", "Delete tags matching key/value pairs")},
			Run: func(rq *request) (any, error) { return tagJob(rq, false) }},
		{Name: "listTags", Desc: "List resource tag(s)", Resp: "tag", RespOf: tagView{},
			Params: ownedListParams(p("resourceid:string", "list by resource id"), p("resourcetype:string", "list by resource type"),
				p("key:string", "list by key"), p("value:string", "list by value"), p("customer:string", "list by customer name")),
			Run: listTags},
		{Name: "configureSimulator", Desc: "configure simulator", Resp: "simulatormock", RespOf: mockView{}, Role: roleRootAdmin,
			Params: []param{p("name*:string", "which command needs to be configured"), p("value*:string", "configuration options for this command, which is separated by ;"),
				pZoneID, p("podid:uuid:Pod", "configure range: in a pod"), p("clusterid:uuid:Cluster", "configure range: in a cluster"),
				p("hostid:uuid:Host", "configure range: in a host"), p("virtualmachineid:uuid:UserVm", "configure range: for a virtual machine"),
				p("count:integer", "number of times the mock is active"), p("jsonresponse:string", "agent command response to be returned")},
			Run: func(rq *request) (any, error) {
				if rq.str("jsonresponse") != "" {
					return nil, cloud.Invalid("jsonresponse is not supported by this simulator; use value=result:fail|result:fault|wait:<ms>")
				}
				m, err := rq.h.sim.ConfigureFault(rq.ctx, rq.c, cloud.MockSpec{Command: rq.str("name"), Value: rq.str("value"),
					Count: int(rq.integer("count", 0)), ZoneID: rq.str("zoneid"), PodID: rq.str("podid"), ClusterID: rq.str("clusterid"),
					HostID: rq.str("hostid"), VMID: rq.str("virtualmachineid")})
				if err != nil {
					return nil, err
				}
				return Object{Key: "simulatormock", Obj: mockOf(m)}, nil
			}},
		{Name: "querySimulatorMock", Desc: "query simulator mock", Resp: "simulatormock", RespOf: mockView{}, Role: roleRootAdmin,
			Params: []param{p("id*:uuid:SimulatorMock", "id of the configured mock")},
			Run: func(rq *request) (any, error) {
				m, err := rq.h.sim.Fault(rq.c, rq.str("id"))
				if err != nil {
					return nil, err
				}
				return Object{Key: "simulatormock", Obj: mockOf(m)}, nil
			}},
		// listSimulatorMocks is stratus's own: real CloudStack has no way to
		// list the mocks configureSimulator made, and the dashboard shows them.
		{Name: "listSimulatorMocks", Desc: "Lists the simulator mocks configureSimulator made (stratus)", Resp: "simulatormock", RespOf: mockView{}, Role: roleRootAdmin,
			Params: []param{p("id:uuid:SimulatorMock", "list the mock with this id")},
			Run: func(rq *request) (any, error) {
				mocks, err := rq.h.sim.Faults(rq.c)
				if err != nil {
					return nil, err
				}
				views := make([]mockView, 0, len(mocks))
				for _, m := range mocks {
					if rq.match("id", m.ID) {
						views = append(views, mockOf(m))
					}
				}
				return List{Key: "simulatormock", Count: len(views), Items: views}, nil
			}},
		{Name: "cleanupSimulatorMock", Desc: "cleanup simulator mock", Resp: "success", RespOf: Success{}, Role: roleRootAdmin,
			Params: []param{p("id*:uuid:SimulatorMock", "id of the configured mock")},
			Run: func(rq *request) (any, error) {
				if err := rq.h.sim.ClearFault(rq.ctx, rq.c, rq.str("id")); err != nil {
					return nil, err
				}
				return Success{Success: true}, nil
			}},
	}
}

// jobView is an async job as queryAsyncJobResult and listAsyncJobs show it.
type jobView struct {
	AccountID       string          `json:"accountid"`
	Account         string          `json:"account,omitempty"`
	UserID          string          `json:"userid"`
	Cmd             string          `json:"cmd"`
	JobStatus       int             `json:"jobstatus"`
	JobProcStatus   int             `json:"jobprocstatus"`
	JobResultCode   int             `json:"jobresultcode"`
	JobResultType   string          `json:"jobresulttype,omitempty"`
	JobResult       json.RawMessage `json:"jobresult,omitempty"`
	JobInstanceType string          `json:"jobinstancetype,omitempty"`
	JobInstanceID   string          `json:"jobinstanceid,omitempty"`
	Created         string          `json:"created"`
	Completed       string          `json:"completed,omitempty"`
	JobID           string          `json:"jobid"`
}

func jobOf(r cloud.Reader, j *cloud.Job) jobView {
	v := jobView{AccountID: j.AccountID, UserID: j.UserID, Cmd: j.Cmd, JobStatus: int(j.Status), JobResultCode: j.ResultCode,
		JobInstanceType: instanceType(j.InstanceType), JobInstanceID: j.InstanceID, Created: date(j.Created), JobID: j.ID}
	if a, ok := r.Account(j.AccountID); ok {
		v.Account = a.Name
	}
	if j.Status == cloud.JobPending {
		return v
	}
	v.Completed, v.JobResultType = date(j.Completed), "object"
	if j.Status == cloud.JobFailed {
		v.JobResult, _ = json.Marshal(errorBody{UUIDList: []string{}, ErrorCode: j.ResultCode, CSErrorCode: j.ErrorCSCode, ErrorText: j.ErrorText})
		return v
	}
	v.JobResult = jobResult(r, j)
	return v
}

func instanceType(k cloud.Kind) string {
	switch k {
	case cloud.KindVM:
		return "VirtualMachine"
	case cloud.KindPublicIP:
		return "IpAddress"
	}
	return string(k)
}

// jobResult renders the snapshot a job completed with.
func jobResult(r cloud.Reader, j *cloud.Job) json.RawMessage {
	var obj any
	switch j.ResultKind {
	case cloud.KindVM:
		var vm cloud.VM
		if json.Unmarshal(j.Result, &vm) == nil {
			obj = Object{Key: "virtualmachine", Obj: vmOf(r, &vm, false)}
		}
	case cloud.KindSecurityGroup:
		var g cloud.SecurityGroup
		if json.Unmarshal(j.Result, &g) == nil {
			obj = Object{Key: "securitygroup", Obj: securityGroupOf(r, &g, false)}
		}
	case cloud.KindPublicIP:
		var ip cloud.PublicIP
		if json.Unmarshal(j.Result, &ip) == nil {
			obj = Object{Key: "ipaddress", Obj: publicIPOf(r, &ip)}
		}
	}
	if obj == nil {
		obj = networkJobResult(r, j)
	}
	if obj == nil {
		obj = storageJobResult(r, j)
	}
	if obj == nil {
		obj = templateJobResult(r, j)
	}
	if obj == nil {
		obj = affinityJobResult(r, j)
	}
	if obj == nil {
		obj = vpcJobResult(r, j)
	}
	if obj == nil {
		obj = vpnJobResult(r, j)
	}
	if obj == nil {
		obj = vmSnapshotJobResult(r, j)
	}
	if obj == nil {
		obj = accountStateJobResult(r, j)
	}
	if obj == nil {
		obj = projectJobResult(r, j)
	}
	if obj == nil {
		obj = netOfferingJobResult(r, j)
	}
	if obj == nil {
		obj = privateGatewayJobResult(r, j)
	}
	if obj == nil {
		obj = Success{Success: true}
	}
	b, _ := json.Marshal(obj)
	return b
}

func queryJob(rq *request) (any, error) {
	j, err := rq.h.sim.Job(rq.c, rq.str("jobid"))
	if err != nil {
		return nil, rq.invalidValue("jobid", rq.str("jobid"))
	}
	return rq.read(func(r cloud.Reader) (any, error) { return jobOf(r, j), nil })
}

func listJobs(rq *request) (any, error) {
	jobs, err := rq.h.sim.Jobs(rq.c, rq.scope())
	if err != nil {
		return nil, err
	}
	var since time.Time
	if s := rq.str("startdate"); s != "" {
		if since, err = parseDate(s); err != nil {
			return nil, rq.invalidValue("startdate", s)
		}
	}
	return rq.read(func(r cloud.Reader) (any, error) {
		return listView(rq, "asyncjobs", jobs, func(j *cloud.Job) bool {
			return !j.Created.Before(since)
		}, func(j *cloud.Job) jobView { return jobOf(r, j) })
	})
}

// parseDate reads the date formats CloudStack's date parameters take.
func parseDate(s string) (time.Time, error) {
	var err error
	for _, layout := range []string{"2006-01-02T15:04:05-0700", "2006-01-02 15:04:05", "2006-01-02", time.RFC3339} {
		var t time.Time
		if t, err = time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

func listEvents(rq *request) (any, error) {
	var from, to time.Time
	var err error
	if s := rq.str("startdate"); s != "" {
		if from, err = parseDate(s); err != nil {
			return nil, rq.invalidValue("startdate", s)
		}
	}
	if s := rq.str("enddate"); s != "" {
		if to, err = parseDate(s); err != nil {
			return nil, rq.invalidValue("enddate", s)
		}
		if len(s) == len("2006-01-02") {
			to = to.Add(24 * time.Hour)
		}
	}
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		events := r.Events()
		// newest first, as CloudStack lists events
		rev := make([]*cloud.Event, len(events))
		for i, e := range events {
			rev[len(events)-1-i] = e
		}
		return listView(rq, "event", rev, func(e *cloud.Event) bool {
			return keep(e.Owner) && rq.match("id", e.ID) && rq.match("type", e.Type) && strings.EqualFold(orAll(rq.str("level"), e.Level), e.Level) &&
				rq.match("resourceid", e.ResourceID) && (from.IsZero() || !e.Created.Before(from)) && (to.IsZero() || e.Created.Before(to)) &&
				rq.keyword(e.Type, e.Description)
		}, func(e *cloud.Event) eventView { return eventOf(r, e) })
	})
}

func tagJob(rq *request, create bool) (any, error) {
	kind, ok := cloud.ParseTaggable(rq.str("resourcetype"))
	if !ok {
		return nil, cloud.Invalid("Unable to find resource type %s", rq.str("resourcetype"))
	}
	var tags []cloud.KV
	for _, m := range rq.p.Map("tags") {
		tags = append(tags, cloud.KV{Key: m["key"], Value: m["value"]})
	}
	ids := rq.p.List("resourceids")
	if create {
		return asyncJob(rq.h.sim.CreateTags(rq.ctx, rq.c, kind, ids, tags, rq.className()))
	}
	return asyncJob(rq.h.sim.DeleteTags(rq.ctx, rq.c, kind, ids, tags, rq.className()))
}

func listTags(rq *request) (any, error) {
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		return listView(rq, "tag", r.Tags(), func(t *cloud.Tag) bool {
			return keep(t.Owner) && rq.match("resourceid", t.ResourceID) && strings.EqualFold(orAll(rq.str("resourcetype"), string(t.ResourceType)), string(t.ResourceType)) &&
				rq.match("key", t.Key) && rq.match("value", t.Value) && rq.keyword(t.Key, t.Value)
		}, func(t *cloud.Tag) tagView { return tagOf(r, t) })
	})
}
