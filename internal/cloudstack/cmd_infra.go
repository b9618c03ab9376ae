package cloudstack

import (
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

var (
	pID       = p("id:uuid", "the ID of the resource")
	pIDs      = p("ids:list", "the IDs of the resources")
	pName     = p("name:string", "the name of the resource")
	pKeyword  = p("keyword:string", "List by keyword")
	pPage     = p("page:integer", "the page number")
	pPageSize = p("pagesize:integer", "the number of items per page")
	pListAll  = p("listall:boolean", "If set to false, list only resources belonging to the command's caller; if set to true - list resources that the caller is authorized to see. Default value is false")
	pAccount  = p("account:string", "list resources by account. Must be used with the domainId parameter.")
	pDomainID = p("domainid:uuid:Domain", "list only resources belonging to the domain specified")
	pRecurse  = p("isrecursive:boolean", "defaults to false, but if true, lists all resources from the parent specified by the domainId till leaves.")
	pTags     = p("tags:map", "List resources by tags (key/value pairs)")
	pZoneID   = p("zoneid:uuid:Zone", "the ID of the zone")
	pProject  = p("projectid:uuid:Project", "list objects by project; if projectid=-1 lists All VMs").orAllProjects()
)

func listParams(extra ...param) []param {
	return append([]param{pKeyword, pPage, pPageSize}, extra...)
}

func ownedListParams(extra ...param) []param {
	return append(listParams(pListAll, pAccount, pDomainID, pRecurse, pProject), extra...)
}

func withID(kind cloud.Kind, extra ...param) []param {
	id := pID
	id.Entity = kind
	return append([]param{id}, extra...)
}

func infraCommands() []*command {
	return []*command{
		{Name: "listCapabilities", Desc: "Lists capabilities", Resp: "capability", RespOf: capabilityView{}, Run: listCapabilities},
		{Name: "listZones", Desc: "Lists zones", Resp: "zone", RespOf: zoneView{},
			Params: listParams(withID(cloud.KindZone, pIDs, pName, p("available:boolean", "true if you want to retrieve all available Zones. False if you only want to return the Zones from which you have at least one VPC. By default it is false."),
				p("networktype:string", "the network type of the zone that the virtual machine belongs to"),
				p("showcapacities:boolean", "flag to display the capacity of the zones"), pTags)...),
			Run: listZones},
		{Name: "listPods", Desc: "Lists all Pods.", Resp: "pod", RespOf: podView{}, Role: roleRootAdmin,
			Params: listParams(withID(cloud.KindPod, pName, pZoneID)...), Run: listPods},
		{Name: "listClusters", Desc: "Lists clusters.", Resp: "cluster", RespOf: clusterView{}, Role: roleRootAdmin,
			Params: listParams(withID(cloud.KindCluster, pName, pZoneID, p("podid:uuid:Pod", "lists clusters by Pod ID"))...), Run: listClusters},
		{Name: "listHosts", Desc: "Lists hosts.", Resp: "host", RespOf: hostView{}, Role: roleRootAdmin,
			Params: listParams(withID(cloud.KindHost, pName, pZoneID, p("podid:uuid:Pod", "the Pod ID for the host"),
				p("clusterid:uuid:Cluster", "lists hosts existing in particular cluster"), p("type:string", "the host type"),
				p("state:string", "the state of the host"))...), Run: listHosts},
		{Name: "listServiceOfferings", Desc: "Lists all available service offerings.", Resp: "serviceoffering", RespOf: serviceOfferingView{},
			Params: listParams(withID(cloud.KindServiceOffering, pName, pZoneID, p("issystem:boolean", "is this a system vm offering"),
				p("virtualmachineid:uuid:UserVm", "the ID of the virtual machine. Pass this in if you want to see the available service offering that a virtual machine can be changed to."))...),
			Run: listServiceOfferings},
		{Name: "listDiskOfferings", Desc: "Lists all available disk offerings.", Resp: "diskoffering", RespOf: diskOfferingView{},
			Params: listParams(withID(cloud.KindDiskOffering, pName, pZoneID)...), Run: listDiskOfferings},
		{Name: "listNetworkOfferings", Desc: "Lists all available network offerings.", Resp: "networkoffering", RespOf: networkOfferingView{},
			Params: listParams(withID(cloud.KindNetworkOffering, pName, pZoneID, p("state:string", "list network offerings by state"),
				p("guestiptype:string", "list network offerings by guest type: shared or isolated"),
				p("forvpc:boolean", "the network offering can be used only for network creation inside the VPC"),
				p("isdefault:boolean", "true if need to list only default network offerings. Default value is false"))...),
			Run: listNetworkOfferings},
		{Name: "listTemplates", Desc: "List all public, private, and privileged templates.", Resp: "template", RespOf: templateView{},
			Params: listParams(withID(cloud.KindTemplate, pIDs, pName, pZoneID, pListAll, pAccount, pDomainID, pTags,
				p("templatefilter*:string", "possible values are \"featured\", \"self\", \"selfexecutable\",\"sharedexecutable\",\"executable\", and \"community\"."),
				p("hypervisor:string", "the hypervisor for which to restrict the search"))...),
			Run: listTemplates},
		{Name: "listOsTypes", Desc: "Lists all supported OS types for this cloud.", Resp: "ostype", RespOf: osTypeView{},
			Params: listParams(withID(cloud.KindOSType, p("description:string", "list os by description"),
				p("oscategoryid:uuid", "list by Os Category id"))...), Run: listOsTypes},
		{Name: "listHypervisors", Desc: "List hypervisors", Resp: "hypervisor", RespOf: hypervisorView{},
			Params: []param{pZoneID}, Run: listHypervisors},
		{Name: "listUsageRecords", Desc: "Lists usage records for accounts", Resp: "usagerecord", RespOf: struct{}{}, Role: roleDomainAdmin,
			Params: listParams(p("startdate*:date", "Start date range for usage record query"), p("enddate*:date", "End date range for usage record query"),
				pAccount, pDomainID), Run: func(rq *request) (any, error) { return List{Key: "usagerecord"}, nil }},
		{Name: "removeRawUsageRecords", Desc: "Safely removes raw records from cloud_usage table", Resp: "success", RespOf: Success{}, Role: roleRootAdmin,
			Params: []param{p("interval*:integer", "Specify the number of days (greater than zero) to remove records that are older than those number of days from today.")},
			Run: func(rq *request) (any, error) {
				if rq.integer("interval", 0) <= 0 {
					return nil, cloud.Invalid("Interval should be greater than 0")
				}
				return Success{Success: true}, nil
			}},
	}
}

type capabilityView struct {
	SecurityGroupsEnabled          bool   `json:"securitygroupsenabled"`
	DynamicRolesEnabled            bool   `json:"dynamicrolesenabled"`
	CloudStackVersion              string `json:"cloudstackversion"`
	UserPublicTemplateEnabled      bool   `json:"userpublictemplateenabled"`
	SupportELB                     string `json:"supportELB"`
	ProjectInviteRequired          bool   `json:"projectinviterequired"`
	AllowUserCreateProjects        bool   `json:"allowusercreateprojects"`
	CustomDiskOfferingMinSize      int64  `json:"customdiskofferingminsize"`
	CustomDiskOfferingMaxSize      int64  `json:"customdiskofferingmaxsize"`
	RegionSecondaryEnabled         bool   `json:"regionsecondaryenabled"`
	KVMSnapshotEnabled             bool   `json:"kvmsnapshotenabled"`
	AllowUserViewDestroyedVM       bool   `json:"allowuserviewdestroyedvm"`
	AllowUserExpungeRecoverVM      bool   `json:"allowuserexpungerecovervm"`
	AllowUserExpungeRecoverVolume  bool   `json:"allowuserexpungerecovervolume"`
	AllowUserViewAllDomainAccounts bool   `json:"allowuserviewalldomainaccounts"`
	AllowUserForceStopVM           bool   `json:"allowuserforcestopvm"`
	KubernetesServiceEnabled       bool   `json:"kubernetesserviceenabled"`
	KubernetesExperimental         bool   `json:"kubernetesclusterexperimentalfeaturesenabled"`
	DefaultUIPageSize              int64  `json:"defaultuipagesize"`
	APILimitInterval               int    `json:"apilimitinterval"`
	APILimitMax                    int    `json:"apilimitmax"`
	DynamicScalingEnabled          bool   `json:"dynamicscalingenabled"`
}

func listCapabilities(rq *request) (any, error) {
	sg := false
	rq.h.sim.Read(func(r cloud.Reader) {
		for _, z := range r.Zones() {
			sg = sg || z.SecurityGroups
		}
	})
	return Object{Key: "capability", Obj: capabilityView{SecurityGroupsEnabled: sg, DynamicRolesEnabled: true, CloudStackVersion: version,
		SupportELB: "false", ProjectInviteRequired: false, AllowUserCreateProjects: true, CustomDiskOfferingMinSize: 1,
		CustomDiskOfferingMaxSize: 1024, KVMSnapshotEnabled: true, AllowUserViewDestroyedVM: true, AllowUserExpungeRecoverVM: true,
		AllowUserExpungeRecoverVolume: true, AllowUserForceStopVM: true, DefaultUIPageSize: 20, APILimitInterval: 1, APILimitMax: 20,
		DynamicScalingEnabled: true}}, nil
}

// read runs f in a read view and returns its answer.
func (rq *request) read(f func(r cloud.Reader) (any, error)) (any, error) {
	var out any
	var err error
	rq.h.sim.Read(func(r cloud.Reader) { out, err = f(r) })
	return out, err
}

func listZones(rq *request) (any, error) {
	ids := rq.idFilter()
	caps := rq.boolean("showcapacities", false)
	var capOf map[string]cloud.Capacity
	if caps {
		capOf = map[string]cloud.Capacity{}
		var zones []string
		rq.h.sim.Read(func(r cloud.Reader) {
			for _, z := range r.Zones() {
				zones = append(zones, z.ID)
			}
		})
		for _, z := range zones {
			capOf[z] = rq.h.sim.Capacity(z)
		}
	}
	return rq.read(func(r cloud.Reader) (any, error) {
		return listView(rq, "zone", r.Zones(), func(z *cloud.Zone) bool {
			return ids(z.ID) && rq.match("name", z.Name) && strings.EqualFold(orAll(rq.str("networktype"), z.NetworkType), z.NetworkType) &&
				rq.keyword(z.Name) && rq.tagsMatch(r, z.ID)
		}, func(z *cloud.Zone) zoneView {
			if caps {
				c := capOf[z.ID]
				return zoneOf(r, z, &c)
			}
			return zoneOf(r, z, nil)
		})
	})
}

func orAll(v, all string) string {
	if v == "" {
		return all
	}
	return v
}

func listPods(rq *request) (any, error) {
	return rq.read(func(r cloud.Reader) (any, error) {
		return listView(rq, "pod", r.Pods(), func(p *cloud.Pod) bool {
			return rq.match("id", p.ID) && rq.match("name", p.Name) && rq.match("zoneid", p.ZoneID) && rq.keyword(p.Name)
		}, func(p *cloud.Pod) podView { return podOf(r, p) })
	})
}

func listClusters(rq *request) (any, error) {
	return rq.read(func(r cloud.Reader) (any, error) {
		return listView(rq, "cluster", r.Clusters(), func(c *cloud.Cluster) bool {
			return rq.match("id", c.ID) && rq.match("name", c.Name) && rq.match("zoneid", c.ZoneID) && rq.match("podid", c.PodID) && rq.keyword(c.Name)
		}, func(c *cloud.Cluster) clusterView { return clusterOf(r, c) })
	})
}

func listHosts(rq *request) (any, error) {
	return rq.read(func(r cloud.Reader) (any, error) {
		return listView(rq, "host", r.Hosts(), func(h *cloud.Host) bool {
			return rq.match("id", h.ID) && rq.match("name", h.Name) && rq.match("zoneid", h.ZoneID) && rq.match("podid", h.PodID) &&
				rq.match("clusterid", h.ClusterID) && rq.match("state", string(h.State)) && strings.EqualFold(orAll(rq.str("type"), "Routing"), "Routing") &&
				rq.keyword(h.Name)
		}, func(h *cloud.Host) hostView { return hostOf(r, h) })
	})
}

func listServiceOfferings(rq *request) (any, error) {
	if rq.boolean("issystem", false) {
		return List{Key: "serviceoffering"}, nil
	}
	return rq.read(func(r cloud.Reader) (any, error) {
		return listView(rq, "serviceoffering", r.ServiceOfferings(), func(o *cloud.ServiceOffering) bool {
			return o.Removed.IsZero() && rq.match("id", o.ID) && rq.match("name", o.Name) && rq.keyword(o.Name, o.DisplayText)
		}, serviceOfferingOf)
	})
}

func listDiskOfferings(rq *request) (any, error) {
	return rq.read(func(r cloud.Reader) (any, error) {
		return listView(rq, "diskoffering", r.DiskOfferings(), func(o *cloud.DiskOffering) bool {
			return o.Removed.IsZero() && rq.match("id", o.ID) && rq.match("name", o.Name) && rq.keyword(o.Name, o.DisplayText)
		}, diskOfferingOf)
	})
}

func listNetworkOfferings(rq *request) (any, error) {
	isDefault, hasDefault := rq.p["isdefault"]
	return rq.read(func(r cloud.Reader) (any, error) {
		return listView(rq, "networkoffering", r.NetworkOfferings(), func(o *cloud.NetworkOffering) bool {
			return rq.match("id", o.ID) && rq.match("name", o.Name) && strings.EqualFold(orAll(rq.str("state"), o.State), o.State) &&
				strings.EqualFold(orAll(rq.str("guestiptype"), o.GuestIPType), o.GuestIPType) && (!rq.p.Has("forvpc") || rq.str("forvpc") == "" || rq.boolean("forvpc", false) == o.ForVPC) &&
				(!hasDefault || parseBool(isDefault) == o.IsDefault) && rq.keyword(o.Name, o.DisplayText)
		}, networkOfferingOf)
	})
}

// templateEntry is a template in one zone (templates are listed per zone).
type templateEntry struct {
	t *cloud.Template
	z *cloud.Zone
}

func listTemplates(rq *request) (any, error) {
	ids := rq.idFilter()
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.imageFilter(r, "templatefilter")
		if err != nil {
			return nil, err
		}
		return listView(rq, "template", imageEntries(r, r.Templates(), rq.str("zoneid")), func(e templateEntry) bool {
			t := e.t
			return t.Format != cloud.FormatISO && keep(t) && ids(t.ID) && rq.match("name", t.Name) && strings.EqualFold(orAll(rq.str("hypervisor"), "Simulator"), "Simulator") &&
				rq.keyword(t.Name, t.DisplayText) && rq.tagsMatch(r, t.ID)
		}, func(e templateEntry) templateView { return templateOf(r, e.t, e.z) })
	})
}

func listOsTypes(rq *request) (any, error) {
	return rq.read(func(r cloud.Reader) (any, error) {
		return listView(rq, "ostype", r.OSTypes(), func(o *cloud.OSType) bool {
			return rq.match("id", o.ID) && rq.match("oscategoryid", o.CategoryID) &&
				(rq.str("description") == "" || strings.Contains(strings.ToLower(o.Description), strings.ToLower(rq.str("description")))) &&
				rq.keyword(o.Description)
		}, osTypeOf)
	})
}

type hypervisorView struct {
	Name string `json:"name"`
}

func listHypervisors(rq *request) (any, error) {
	return List{Key: "hypervisor", Count: 1, Items: []hypervisorView{{Name: "Simulator"}}}, nil
}
