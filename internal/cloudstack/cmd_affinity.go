package cloudstack

import (
	"encoding/json"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// Affinity groups.

type affinityGroupView struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	Description        string   `json:"description,omitempty"`
	Type               string   `json:"type"`
	VirtualMachineIDs  []string `json:"virtualmachineIds"`
	DedicatedResources []any    `json:"dedicatedresources,omitempty"`
	ownerView
}

type affinityGroupTypeView struct {
	Type string `json:"type"`
}

func affinityCommands() []*command {
	return []*command{
		{Name: "createAffinityGroup", Async: true, Desc: "Creates an affinity/anti-affinity group", Resp: "affinitygroup", RespOf: affinityGroupView{},
			Params: []param{
				p("account:string", "an account for the affinity group. Must be used with domainId."),
				p("description:string", "optional description of the affinity group"),
				p("domainid:uuid:Domain", "domainId of the account owning the affinity group"),
				p("name*:string", "name of the affinity group"),
				p("projectid:uuid:Project", "create affinity group for project"),
				p("type*:string", "Type of the affinity group from the available affinity/anti-affinity group types"),
			}, Run: func(rq *request) (any, error) {
				account, domainID, err := rq.owner()
				if err != nil {
					return nil, err
				}
				g, job, err := rq.h.sim.CreateAffinityGroup(rq.ctx, rq.c, rq.str("name"), rq.str("type"), rq.str("description"),
					account, domainID, rq.className())
				if err != nil {
					return nil, err
				}
				return AsyncAnswer{ID: g.ID, JobID: job.ID}, nil
			}},
		{Name: "deleteAffinityGroup", Async: true, Desc: "Deletes affinity group", Resp: "success", RespOf: Success{},
			Params: []param{
				p("account:string", "the account of the affinity group. Must be specified with domain ID"),
				p("domainid:uuid:Domain", "the domain ID of account owning the affinity group"),
				p("id:uuid:AffinityGroup", "The ID of the affinity group. Mutually exclusive with name parameter"),
				p("name:string", "The name of the affinity group. Mutually exclusive with ID parameter"),
				p("projectid:uuid", "the project of the affinity group"),
			}, Run: func(rq *request) (any, error) {
				id := rq.str("id")
				if id == "" {
					name := rq.str("name")
					if name == "" {
						return nil, cloud.Invalid("Either the affinity group's ID or name must be specified")
					}
					rq.h.sim.Read(func(r cloud.Reader) {
						for _, g := range r.AffinityGroups() {
							if g.Name == name && g.AccountID == rq.c.Account.ID {
								id = g.ID
							}
						}
					})
					if id == "" {
						return nil, cloud.Invalid("Unable to find affinity group by name %s", name)
					}
				}
				return asyncJob(rq.h.sim.DeleteAffinityGroup(rq.ctx, rq.c, id, rq.className()))
			}},
		{Name: "listAffinityGroups", Desc: "Lists affinity groups", Resp: "affinitygroup", RespOf: affinityGroupView{},
			Params: ownedListParams(p("id:uuid:AffinityGroup", "list the affinity group by the ID provided"),
				p("name:string", "lists affinity groups by name"), p("type:string", "lists affinity groups by type"),
				p("virtualmachineid:uuid:UserVm", "lists affinity groups by virtual machine ID")),
			Run: listAffinityGroups},
		{Name: "listAffinityGroupTypes", Desc: "Lists affinity group types available", Resp: "affinityGroupType", RespOf: affinityGroupTypeView{},
			Params: listParams(), Run: func(rq *request) (any, error) {
				var out []affinityGroupTypeView
				for _, t := range cloud.AffinityGroupTypes() {
					out = append(out, affinityGroupTypeView{Type: t})
				}
				return List{Key: "affinityGroupType", Count: len(out), Items: out}, nil
			}},
	}
}

func listAffinityGroups(rq *request) (any, error) {
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		var vmGroups []string
		if id := rq.str("virtualmachineid"); id != "" {
			if vm, ok := r.VM(id); ok {
				vmGroups = vm.AffinityGroupIDs
			}
		}
		return listView(rq, "affinitygroup", r.AffinityGroups(), func(g *cloud.AffinityGroup) bool {
			return keep(g.Owner) && rq.match("id", g.ID) && rq.match("name", g.Name) && rq.match("type", g.Type) &&
				(rq.str("virtualmachineid") == "" || contains(vmGroups, g.ID)) && rq.keyword(g.Name, g.Description)
		}, func(g *cloud.AffinityGroup) affinityGroupView { return affinityGroupOf(r, g) })
	})
}

func affinityGroupOf(r cloud.Reader, g *cloud.AffinityGroup) affinityGroupView {
	v := affinityGroupView{ID: g.ID, Name: g.Name, Description: g.Description, Type: g.Type, VirtualMachineIDs: []string{}, ownerView: owner(r, g.Owner)}
	for _, vm := range r.VMsOf(g.AccountID) {
		if contains(vm.AffinityGroupIDs, g.ID) {
			v.VirtualMachineIDs = append(v.VirtualMachineIDs, vm.ID)
		}
	}
	return v
}

// affinityJobResult renders a createAffinityGroup job's result.
func affinityJobResult(r cloud.Reader, j *cloud.Job) any {
	if j.ResultKind != cloud.KindAffinityGroup {
		return nil
	}
	var g cloud.AffinityGroup
	if json.Unmarshal(j.Result, &g) != nil {
		return nil
	}
	return Object{Key: "affinitygroup", Obj: affinityGroupOf(r, &g)}
}
