package cloudstack

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// Admin reads and settings: global configuration (cloud/settings.go has
// the catalog and which settings the simulator honours), capacity,
// alerts, event types, and the routers and system VMs (derived, see
// cloud/admin.go). Settings are global only: a zone, cluster, storage,
// account, domain or image store scope on updateConfiguration is refused
// as the real server refuses a scope a setting does not have. Accepted and
// ignored: fetchlatest and tag (listCapacity: capacity is always current;
// no storage tags), listRouters' version, healthchecks and
// fetchhealthcheckresults (no health checks), listSystemVms' storageid.

func adminCommands() []*command {
	return []*command{
		{Name: "listConfigurations", Desc: "Lists all configurations.", Resp: "configuration", RespOf: configurationView{}, Role: roleRootAdmin,
			Params: listParams(pName,
				p("category:string", "lists configurations by category"),
				p("group:string", "lists configuration by group name (primarily used for UI)"),
				p("subgroup:string", "lists configuration by subgroup name (primarily used for UI)"),
				p("parent:string", "lists configuration by parent name (primarily used for UI)"),
				pZoneID, p("clusterid:uuid:Cluster", "the ID of the Cluster to update the parameter value for corresponding cluster"),
				p("storageid:uuid", "the ID of the Storage pool to update the parameter value for corresponding storage pool"),
				p("accountid:uuid:Account", "the ID of the Account to update the parameter value for corresponding account"),
				p("domainid:uuid:Domain", "the ID of the Domain to update the parameter value for corresponding domain"),
				p("imagestoreuuid:uuid", "the ID of the Image Store to update the parameter value for corresponding image store")),
			Run: listConfigurations},
		{Name: "updateConfiguration", Desc: "Updates a configuration.", Resp: "configuration", RespOf: configurationView{}, Role: roleRootAdmin,
			Params: []param{p("name*:string", "the name of the configuration"), p("value:string", "the value of the configuration").maxLength(4096),
				pZoneID, p("clusterid:uuid:Cluster", "the ID of the Cluster to update the parameter value for corresponding cluster"),
				p("storageid:uuid", "the ID of the Storage pool to update the parameter value for corresponding storage pool"),
				p("accountid:uuid:Account", "the ID of the Account to update the parameter value for corresponding account"),
				p("domainid:uuid:Domain", "the ID of the Domain to update the parameter value for corresponding domain"),
				p("imagestoreuuid:uuid", "the ID of the Image Store to update the parameter value for corresponding image store")},
			Run: updateConfiguration},
		{Name: "listCapacity", Desc: "Lists all the system wide capacities.", Resp: "capacity", RespOf: capacityView{}, Role: roleRootAdmin,
			Params: listParams(pZoneID, p("podid:uuid:Pod", "lists capacity by the Pod ID"), p("clusterid:uuid:Cluster", "lists capacity by the Cluster ID"),
				p("type:integer", "lists capacity by type* CAPACITY_TYPE_MEMORY = 0* CAPACITY_TYPE_CPU = 1* CAPACITY_TYPE_STORAGE = 2* CAPACITY_TYPE_STORAGE_ALLOCATED = 3* CAPACITY_TYPE_VIRTUAL_NETWORK_PUBLIC_IP = 4* CAPACITY_TYPE_PRIVATE_IP = 5* CAPACITY_TYPE_SECONDARY_STORAGE = 6* CAPACITY_TYPE_VLAN = 7* CAPACITY_TYPE_DIRECT_ATTACHED_PUBLIC_IP = 8* CAPACITY_TYPE_LOCAL_STORAGE = 9* CAPACITY_TYPE_GPU = 19* CAPACITY_TYPE_CPU_CORE = 90."),
				p("fetchlatest:boolean", "recalculate capacities and fetch the latest"),
				p("sortby:string", "Sort the results. Available values: Usage"),
				p("tag:string", "Tag for the resource type")),
			Run: listCapacity},
		{Name: "listAlerts", Desc: "Lists all alerts.", Resp: "alert", RespOf: alertView{}, Role: roleRootAdmin,
			Params: listParams(p("id:uuid:Alert", "the ID of the alert"), p("type:string", "list by alert type"), p("name:string", "list by alert name")),
			Run:    listAlerts},
		{Name: "listAlertTypes", Desc: "Lists all alerts types", Resp: "alerttype", RespOf: alertTypeView{}, Role: roleRootAdmin,
			Run: func(rq *request) (any, error) {
				ts := cloud.AlertTypes()
				views := make([]alertTypeView, 0, len(ts))
				for _, t := range ts {
					views = append(views, alertTypeView{Type: t.Type, Name: t.Name})
				}
				return List{Key: "alerttype", Count: len(views), Items: views}, nil
			}},
		{Name: "archiveAlerts", Desc: "Archive one or more alerts.", Resp: "success", RespOf: Success{}, Role: roleRootAdmin,
			Params: alertRangeParams(), Run: func(rq *request) (any, error) { return removeAlerts(rq, true) }},
		{Name: "deleteAlerts", Desc: "Delete one or more alerts.", Resp: "success", RespOf: Success{}, Role: roleRootAdmin,
			Params: alertRangeParams(), Run: func(rq *request) (any, error) { return removeAlerts(rq, false) }},
		{Name: "listEventTypes", Desc: "List Event Types", Resp: "eventtype", RespOf: eventTypeView{},
			Run: func(rq *request) (any, error) {
				ts := cloud.EventTypes()
				views := make([]eventTypeView, 0, len(ts))
				for _, t := range ts {
					views = append(views, eventTypeView{Name: t})
				}
				return List{Key: "eventtype", Count: len(views), Items: views}, nil
			}},
		{Name: "listRouters", Desc: "List routers.", Resp: "router", RespOf: routerView{}, Role: roleDomainAdmin,
			Params: ownedListParams(withID(cloud.Kind(""), pName, pZoneID,
				p("podid:uuid:Pod", "the Pod ID of the router"), p("clusterid:uuid:Cluster", "the cluster ID of the router"),
				p("hostid:uuid:Host", "the host ID of the router"), p("networkid:uuid:Network", "list by network id"),
				p("vpcid:uuid:Vpc", "List networks by VPC"), p("state:string", "the state of the router"),
				p("forvpc:boolean", "if true is passed for this parameter, list only VPC routers"),
				p("version:string", "list virtual router elements by version"),
				p("healthchecksfailed:boolean", "if this parameter is passed, list only routers by health check results"),
				p("fetchhealthcheckresults:boolean", "if true is passed for this parameter, also fetch last executed health check results for the router. Default is false"))...),
			Run: listRouters},
		{Name: "listSystemVms", Desc: "List system virtual machines.", Resp: "systemvm", RespOf: systemVMView{}, Role: roleRootAdmin,
			Params: listParams(withID(cloud.Kind(""), pName, pZoneID, p("podid:uuid:Pod", "the Pod ID of the system VM"),
				p("hostid:uuid:Host", "the host ID of the system VM"), p("state:string", "the state of the system VM"),
				p("systemvmtype:string", "the system VM type. Possible types are \"consoleproxy\" and \"secondarystoragevm\"."),
				p("storageid:uuid", "the storage ID where vm's volumes belong to"))...),
			Run: listSystemVMs},
	}
}

func alertRangeParams() []param {
	return []param{p("ids:list:Alert", "the IDs of the alerts"), p("type:string", "archive/delete by alert type"),
		p("startdate:date", "start date range to archive/delete alerts (including) this date (use format \"yyyy-MM-dd\" or the new format \"yyyy-MM-ddThh:mm:ss\")"),
		p("enddate:date", "end date range to archive/delete alerts (including) this date (use format \"yyyy-MM-dd\" or the new format \"yyyy-MM-ddThh:mm:ss\")")}
}

type capacityListView struct {
	Type              int    `json:"type"`
	Name              string `json:"name"`
	ZoneID            string `json:"zoneid"`
	ZoneName          string `json:"zonename"`
	PodID             string `json:"podid,omitempty"`
	PodName           string `json:"podname,omitempty"`
	ClusterID         string `json:"clusterid,omitempty"`
	ClusterName       string `json:"clustername,omitempty"`
	CapacityTotal     int64  `json:"capacitytotal"`
	CapacityUsed      int64  `json:"capacityused"`
	CapacityAllocated int64  `json:"capacityallocated"`
	PercentUsed       string `json:"percentused"`
}

func listCapacity(rq *request) (any, error) {
	typ, hasType := rq.p["type"]
	sortBy := rq.str("sortby")
	if sortBy != "" && !strings.EqualFold(sortBy, "usage") {
		return nil, cloud.Invalid("Only value supported for sortBy parameter is : usage")
	}
	return rq.read(func(r cloud.Reader) (any, error) {
		caps := r.Capacities(cloud.CapacityScope{ZoneID: rq.str("zoneid"), PodID: rq.str("podid"), ClusterID: rq.str("clusterid")})
		pct := func(c cloud.CapacityEntry) float64 {
			if c.Total == 0 {
				return 0
			}
			return float64(c.Used) * 100 / float64(c.Total)
		}
		if sortBy != "" {
			slices.SortStableFunc(caps, func(a, b cloud.CapacityEntry) int { return cmp.Compare(pct(b), pct(a)) })
		}
		return listView(rq, "capacity", caps, func(c cloud.CapacityEntry) bool {
			return !hasType || typ == "" || typ == strconv.Itoa(c.Type)
		}, func(c cloud.CapacityEntry) capacityListView {
			v := capacityListView{Type: c.Type, Name: c.Name, ZoneID: c.ZoneID, PodID: c.PodID, ClusterID: c.ClusterID,
				CapacityTotal: c.Total, CapacityUsed: c.Used, CapacityAllocated: c.Used, PercentUsed: strconv.FormatFloat(pct(c), 'f', 2, 64)}
			if z, ok := r.Zone(c.ZoneID); ok {
				v.ZoneName = z.Name
			}
			if p, ok := r.Pod(c.PodID); ok {
				v.PodName = p.Name
			}
			if cl, ok := r.Cluster(c.ClusterID); ok {
				v.ClusterName = cl.Name
			}
			return v
		})
	})
}

type alertView struct {
	ID          string `json:"id"`
	Type        int    `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Sent        string `json:"sent"`
}

type alertTypeView struct {
	Type int    `json:"type"`
	Name string `json:"name"`
}

func listAlerts(rq *request) (any, error) {
	return rq.read(func(r cloud.Reader) (any, error) {
		all := r.Alerts()
		newest := make([]*cloud.Alert, 0, len(all))
		for i := len(all) - 1; i >= 0; i-- {
			newest = append(newest, all[i])
		}
		return listView(rq, "alert", newest, func(a *cloud.Alert) bool {
			return !a.Archived && rq.match("id", a.ID) && (rq.str("type") == "" || rq.str("type") == strconv.Itoa(a.Type)) &&
				(rq.str("name") == "" || strings.EqualFold(rq.str("name"), a.Name)) && rq.keyword(a.Subject)
		}, func(a *cloud.Alert) alertView {
			return alertView{ID: a.ID, Type: a.Type, Name: a.Name, Description: a.Subject, Sent: date(a.Created)}
		})
	})
}

func removeAlerts(rq *request, archive bool) (any, error) {
	typ := -1
	if v := rq.str("type"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, rq.invalidValue("type", v)
		}
		typ = n
	}
	var from, to time.Time
	var err error
	if v := rq.str("startdate"); v != "" {
		if from, err = parseDate(v); err != nil {
			return nil, rq.invalidValue("startdate", v)
		}
	}
	if v := rq.str("enddate"); v != "" {
		if to, err = parseDate(v); err != nil {
			return nil, rq.invalidValue("enddate", v)
		}
		if len(v) == len("2006-01-02") {
			to = to.Add(24*time.Hour - time.Nanosecond)
		}
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return nil, cloud.Invalid("please specify a valid date range")
	}
	if err := rq.h.sim.RemoveAlerts(rq.ctx, rq.c, archive, rq.p.List("ids"), typ, from, to); err != nil {
		return nil, err
	}
	return Success{Success: true}, nil
}

type eventTypeView struct {
	Name string `json:"name"`
}

type routerView struct {
	ID                  string    `json:"id"`
	Name                string    `json:"name"`
	Role                string    `json:"role"`
	State               string    `json:"state"`
	ZoneID              string    `json:"zoneid"`
	ZoneName            string    `json:"zonename"`
	PodID               string    `json:"podid,omitempty"`
	HostID              string    `json:"hostid,omitempty"`
	HostName            string    `json:"hostname,omitempty"`
	Hypervisor          string    `json:"hypervisor"`
	GuestNetworkID      string    `json:"guestnetworkid,omitempty"`
	GuestNetworkName    string    `json:"guestnetworkname,omitempty"`
	GuestIPAddress      string    `json:"guestipaddress,omitempty"`
	PublicIP            string    `json:"publicip,omitempty"`
	VPCID               string    `json:"vpcid,omitempty"`
	VPCName             string    `json:"vpcname,omitempty"`
	IsRedundantRouter   bool      `json:"isredundantrouter"`
	RedundantState      string    `json:"redundantstate"`
	RequiresUpgrade     bool      `json:"requiresupgrade"`
	HealthChecksFailed  bool      `json:"healthchecksfailed"`
	Version             string    `json:"version"`
	ServiceOfferingName string    `json:"serviceofferingname"`
	Created             string    `json:"created"`
	Nic                 []nicView `json:"nic"`
	ownerView
}

func listRouters(rq *request) (any, error) {
	forVPC, hasForVPC := rq.p["forvpc"]
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		return listView(rq, "router", r.Routers(rq.c), func(x cloud.SystemVM) bool {
			return keep(x.Owner) && rq.match("id", x.ID) && rq.match("name", x.Name) && rq.match("zoneid", x.ZoneID) &&
				rq.match("podid", x.PodID) && rq.match("hostid", x.HostID) && rq.match("networkid", x.NetworkID) && rq.match("vpcid", x.VPCID) &&
				(rq.str("state") == "" || strings.EqualFold(rq.str("state"), x.State)) &&
				(!hasForVPC || forVPC == "" || parseBool(forVPC) == (x.VPCID != "")) && rq.keyword(x.Name)
		}, func(x cloud.SystemVM) routerView {
			v := routerView{ID: x.ID, Name: x.Name, Role: x.Role, State: x.State, ZoneID: x.ZoneID, PodID: x.PodID, HostID: x.HostID,
				Hypervisor: "Simulator", GuestNetworkID: x.NetworkID, GuestIPAddress: x.GuestIP, PublicIP: x.PublicIP, VPCID: x.VPCID,
				RedundantState: "UNKNOWN", Version: version, ServiceOfferingName: "System Offering For Software Router",
				Created: date(x.Created), Nic: []nicView{}, ownerView: owner(r, x.Owner)}
			if z, ok := r.Zone(x.ZoneID); ok {
				v.ZoneName = z.Name
			}
			if h, ok := r.Host(x.HostID); ok {
				v.HostName = h.Name
			}
			if n, ok := r.Network(x.NetworkID); ok {
				v.GuestNetworkName = n.Name
			}
			if vpc, ok := r.VPC(x.VPCID); ok {
				v.VPCName = vpc.Name
			}
			return v
		})
	})
}

type systemVMView struct {
	ID                   string `json:"id"`
	Name                 string `json:"name"`
	SystemVMType         string `json:"systemvmtype"`
	State                string `json:"state"`
	ZoneID               string `json:"zoneid"`
	ZoneName             string `json:"zonename"`
	PodID                string `json:"podid,omitempty"`
	HostID               string `json:"hostid,omitempty"`
	HostName             string `json:"hostname,omitempty"`
	Hypervisor           string `json:"hypervisor"`
	ActiveViewerSessions int    `json:"activeviewersessions"`
	Created              string `json:"created"`
}

func listSystemVMs(rq *request) (any, error) {
	return rq.read(func(r cloud.Reader) (any, error) {
		return listView(rq, "systemvm", r.SystemVMs(), func(x cloud.SystemVM) bool {
			return rq.match("id", x.ID) && rq.match("name", x.Name) && rq.match("zoneid", x.ZoneID) && rq.match("podid", x.PodID) &&
				rq.match("hostid", x.HostID) && (rq.str("state") == "" || strings.EqualFold(rq.str("state"), x.State)) &&
				(rq.str("systemvmtype") == "" || strings.EqualFold(rq.str("systemvmtype"), x.Role)) && rq.keyword(x.Name)
		}, func(x cloud.SystemVM) systemVMView {
			v := systemVMView{ID: x.ID, Name: x.Name, SystemVMType: x.Role, State: x.State, ZoneID: x.ZoneID, PodID: x.PodID,
				HostID: x.HostID, Hypervisor: "Simulator"}
			if z, ok := r.Zone(x.ZoneID); ok {
				v.ZoneName = z.Name
			}
			v.Created = date(x.Created)
			if h, ok := r.Host(x.HostID); ok {
				v.HostName = h.Name
			}
			return v
		})
	})
}

type configurationView struct {
	Category     string `json:"category"`
	Name         string `json:"name"`
	Value        string `json:"value"`
	DefaultValue string `json:"defaultvalue"`
	Description  string `json:"description"`
	DisplayText  string `json:"displaytext"`
	Type         string `json:"type"`
	Scope        string `json:"scope,omitempty"`
	IsDynamic    bool   `json:"isdynamic"`
	Component    string `json:"component"`
	Group        string `json:"group"`
	Subgroup     string `json:"subgroup"`
}

func configurationOf(v cloud.SettingValue) configurationView {
	return configurationView{Category: v.Category, Name: v.Name, Value: v.Value, DefaultValue: v.Default, Description: v.Description,
		DisplayText: displayText(v.Name), Type: v.Type, IsDynamic: true, Component: "management-server", Group: "Miscellaneous", Subgroup: "Others"}
}

// displayText is a setting's name as the UI titles it ("project.invite.required" → "Project invite required").
func displayText(name string) string {
	s := strings.ReplaceAll(name, ".", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func listConfigurations(rq *request) (any, error) {
	if scoped(rq) != "" {
		return List{Key: "configuration"}, nil // no setting is scoped
	}
	name, cat := rq.str("name"), rq.str("category")
	return rq.read(func(r cloud.Reader) (any, error) {
		return listView(rq, "configuration", r.Settings(), func(v cloud.SettingValue) bool {
			// name matches as a substring, as the real server searches
			return (name == "" || strings.Contains(v.Name, name)) && (cat == "" || strings.EqualFold(cat, v.Category)) &&
				rq.keyword(v.Name, v.Description)
		}, configurationOf)
	})
}

// scoped names the scope parameter a request gives, if any.
func scoped(rq *request) string {
	for _, n := range []string{"zoneid", "clusterid", "storageid", "accountid", "domainid", "imagestoreuuid"} {
		if rq.str(n) != "" {
			return n
		}
	}
	return ""
}

func updateConfiguration(rq *request) (any, error) {
	if s := scoped(rq); s != "" {
		return nil, cloud.Invalid("Invalid scope id provided for the parameter %s", rq.str("name"))
	}
	v, err := rq.h.sim.UpdateSetting(rq.ctx, rq.c, rq.str("name"), rq.str("value"))
	if err != nil {
		return nil, err
	}
	return Object{Key: "configuration", Obj: configurationOf(v)}, nil
}
