package cloudstack

import (
	"github.com/stratus-cloud/stratus/internal/cloud"
)

// Offerings root admins create, rename and delete. Accepted and ignored
// (one hypervisor, one storage pool, no rate limits, no domain- or
// zone-scoped offerings): the I/O and byte rate limits, cachemode,
// deploymentplanner, diskofferingid, diskofferingstrictness, domainid,
// dynamicscalingenabled, encryptroot, externaldetails, gpu and vgpu
// settings, hosttags, hypervisorsnapshotreserve, issystem, isvolatile,
// lease settings, limitcpuuse, networkrate, provisioningtype,
// purgeresources, serviceofferingdetails, storagepolicy, storagetype,
// systemvmtype, tags and zoneid (createServiceOffering); the same kinds for
// createDiskOffering; displayoffering, domainid, hosttags, sortkey, state,
// storagetags, tags and zoneid (the updates). Customized compute offerings
// (min/max CPU and memory) are refused.

func offeringCommands() []*command {
	return []*command{
		{Name: "createServiceOffering", Desc: "Creates a service offering.", Resp: "serviceoffering", RespOf: serviceOfferingView{}, Role: roleRootAdmin,
			Params: append([]param{
				p("name*:string", "the name of the service offering"),
				p("displaytext:string", "The display text of the service offering, defaults to 'name'."),
				p("cpunumber:integer", "the CPU number of the service offering"),
				p("cpuspeed:integer", "the CPU speed of the service offering in MHz."),
				p("memory:integer", "the total memory of the service offering in MB"),
				p("offerha:boolean", "the HA for the service offering"),
				p("rootdisksize:long", "the Root disk size in GB."),
				p("customized:boolean", "Whether service offering size is custom or not"),
			}, ignoredParams("cachemode:string", "deploymentplanner:string", "diskofferingid:uuid", "diskofferingstrictness:boolean", "domainid:list",
				"dynamicscalingenabled:boolean", "hosttags:string", "issystem:boolean", "isvolatile:boolean", "limitcpuuse:boolean",
				"maxcpunumber:integer", "maxmemory:integer", "mincpunumber:integer", "minmemory:integer", "networkrate:integer",
				"provisioningtype:string", "storagetype:string", "systemvmtype:string", "tags:string", "zoneid:list")...),
			Run: func(rq *request) (any, error) {
				if rq.boolean("customized", false) {
					return nil, cloud.Invalid("stratus simulates fixed-size compute offerings only: give cpunumber, cpuspeed and memory")
				}
				o, err := rq.h.sim.CreateServiceOffering(rq.ctx, rq.c, cloud.ServiceOfferingRequest{Name: rq.str("name"), DisplayText: rq.str("displaytext"),
					CPUs: int(rq.integer("cpunumber", 0)), CPUSpeed: int(rq.integer("cpuspeed", 0)), MemoryMB: int(rq.integer("memory", 0)),
					HA: rq.boolean("offerha", false), RootDiskSize: rq.integer("rootdisksize", 0)})
				if err != nil {
					return nil, err
				}
				return Object{Key: "serviceoffering", Obj: serviceOfferingOf(o)}, nil
			}},
		{Name: "updateServiceOffering", Desc: "Updates a service offering.", Resp: "serviceoffering", RespOf: serviceOfferingView{}, Role: roleRootAdmin,
			Params: append([]param{
				p("id*:uuid:ServiceOffering", "the ID of the service offering to be updated"),
				p("name:string", "the name of the service offering to be updated"),
				p("displaytext:string", "the display text of the service offering to be updated"),
			}, ignoredParams("domainid:string", "hosttags:string", "sortkey:integer", "state:string", "storagetags:string", "zoneid:string")...),
			Run: func(rq *request) (any, error) {
				o, err := rq.h.sim.UpdateServiceOffering(rq.ctx, rq.c, rq.str("id"), cloud.OfferingUpdate{Name: rq.optStr("name"), DisplayText: rq.optStr("displaytext")})
				if err != nil {
					return nil, err
				}
				return Object{Key: "serviceoffering", Obj: serviceOfferingOf(o)}, nil
			}},
		{Name: "deleteServiceOffering", Desc: "Deletes a service offering.", Resp: "success", RespOf: Success{}, Role: roleRootAdmin,
			Params: []param{p("id*:uuid:ServiceOffering", "the ID of the service offering")},
			Run: func(rq *request) (any, error) {
				if err := rq.h.sim.DeleteServiceOffering(rq.ctx, rq.c, rq.str("id")); err != nil {
					return nil, err
				}
				return Success{Success: true}, nil
			}},
		{Name: "createDiskOffering", Desc: "Creates a disk offering.", Resp: "diskoffering", RespOf: diskOfferingView{}, Role: roleRootAdmin,
			Params: append([]param{
				p("name*:string", "Name of the disk offering"),
				p("displaytext:string", "An alternate display text of the disk offering, defaults to 'name'."),
				p("disksize:long", "size of the disk offering in GB (1GB = 1,073,741,824 bytes)"),
				p("customized:boolean", "whether disk offering size is custom or not"),
			}, ignoredParams("cachemode:string", "customizediops:boolean", "disksizestrictness:boolean", "displayoffering:boolean", "domainid:list",
				"encrypt:boolean", "maxiops:long", "miniops:long", "provisioningtype:string", "storagetype:string", "tags:string", "zoneid:list")...),
			Run: func(rq *request) (any, error) {
				o, err := rq.h.sim.CreateDiskOffering(rq.ctx, rq.c, cloud.DiskOfferingRequest{Name: rq.str("name"), DisplayText: rq.str("displaytext"),
					SizeGB: rq.integer("disksize", 0), Custom: rq.boolean("customized", false)})
				if err != nil {
					return nil, err
				}
				return Object{Key: "diskoffering", Obj: diskOfferingOf(o)}, nil
			}},
		{Name: "updateDiskOffering", Desc: "Updates a disk offering.", Resp: "diskoffering", RespOf: diskOfferingView{}, Role: roleRootAdmin,
			Params: append([]param{
				p("id*:uuid:DiskOffering", "ID of the disk offering"),
				p("name:string", "updates name of the disk offering with this value"),
				p("displaytext:string", "updates alternate display text of the disk offering with this value"),
			}, ignoredParams("cachemode:string", "displayoffering:boolean", "domainid:string", "sortkey:integer", "state:string", "tags:string", "zoneid:string")...),
			Run: func(rq *request) (any, error) {
				o, err := rq.h.sim.UpdateDiskOffering(rq.ctx, rq.c, rq.str("id"), cloud.OfferingUpdate{Name: rq.optStr("name"), DisplayText: rq.optStr("displaytext")})
				if err != nil {
					return nil, err
				}
				return Object{Key: "diskoffering", Obj: diskOfferingOf(o)}, nil
			}},
		{Name: "deleteDiskOffering", Desc: "Updates a disk offering.", Resp: "success", RespOf: Success{}, Role: roleRootAdmin,
			Params: []param{p("id*:uuid:DiskOffering", "ID of the disk offering")},
			Run: func(rq *request) (any, error) {
				if err := rq.h.sim.DeleteDiskOffering(rq.ctx, rq.c, rq.str("id")); err != nil {
					return nil, err
				}
				return Success{Success: true}, nil
			}},
	}
}
