package cloudstack

import (
	"encoding/json"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// VM snapshots. Accepted and ignored: quiescevm (createVMSnapshot). The list answers
// under "vmSnapshot" and a job's result under "vmsnapshot", as the real
// server names them (Ansible's cs_vmsnapshot reads both spellings).

func vmSnapshotCommands() []*command {
	return []*command{
		{Name: "createVMSnapshot", Async: true, Desc: "Creates snapshot for a vm.", Resp: "vmsnapshot", RespOf: vmSnapshotView{},
			Params: []param{
				p("description:string", "The description of the snapshot"),
				p("name:string", "The display name of the snapshot"),
				p("quiescevm:boolean", "quiesce vm if true"),
				p("snapshotmemory:boolean", "snapshot memory if true"),
				p("virtualmachineid*:uuid:UserVm", "The ID of the vm"),
			}, Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.CreateVMSnapshot(rq.ctx, rq.c, cloud.VMSnapshotRequest{VMID: rq.str("virtualmachineid"),
					DisplayName: rq.str("name"), Description: rq.str("description"), Memory: rq.boolean("snapshotmemory", false), Cmd: rq.className()}))
			}},
		{Name: "listVMSnapshot", Desc: "List virtual machine snapshot by conditions", Resp: "vmSnapshot", RespOf: vmSnapshotView{},
			Params: ownedListParams(pTags,
				p("name:string", "lists snapshot by snapshot name or display name"),
				p("state:string", "state of the virtual machine snapshot"),
				p("virtualmachineid:uuid:UserVm", "the ID of the vm"),
				p("vmsnapshotid:uuid:VMSnapshot", "The ID of the VM snapshot"),
				p("vmsnapshotids:list", "the IDs of the vm snapshots, mutually exclusive with vmsnapshotid")),
			Run: listVMSnapshots},
		{Name: "deleteVMSnapshot", Async: true, Desc: "Deletes a vmsnapshot.", Resp: "success", RespOf: Success{},
			Params: []param{p("vmsnapshotid*:uuid:VMSnapshot", "The ID of the VM snapshot")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DeleteVMSnapshot(rq.ctx, rq.c, rq.str("vmsnapshotid"), rq.className()))
			}},
		{Name: "revertToVMSnapshot", Async: true, Desc: "Revert VM from a vmsnapshot.", Resp: "virtualmachine", RespOf: vmView{},
			Params: []param{p("vmsnapshotid*:uuid:VMSnapshot", "The ID of the vm snapshot")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.RevertToVMSnapshot(rq.ctx, rq.c, rq.str("vmsnapshotid"), rq.className()))
			}},
	}
}

func listVMSnapshots(rq *request) (any, error) {
	id, ids := rq.str("vmsnapshotid"), rq.p.List("vmsnapshotids")
	if id != "" && len(ids) > 0 {
		return nil, cloud.Invalid("vmsnapshotid and vmsnapshotids parameters are mutually exclusive")
	}
	inIDs := func(x string) bool {
		if id != "" {
			return x == id
		}
		if len(ids) == 0 {
			return true
		}
		for _, y := range ids {
			if x == y {
				return true
			}
		}
		return false
	}
	name, state := rq.str("name"), rq.str("state")
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		return listView(rq, "vmSnapshot", r.VMSnapshots(), func(s *cloud.VMSnapshot) bool {
			return keep(s.Owner) && inIDs(s.ID) && (name == "" || s.Name == name || s.DisplayName == name) &&
				(state == "" || strings.EqualFold(state, s.State)) && rq.match("virtualmachineid", s.VMID) &&
				rq.keyword(s.Name, s.DisplayName, s.Description) && rq.tagsMatch(r, s.ID)
		}, func(s *cloud.VMSnapshot) vmSnapshotView { return vmSnapshotOf(r, s) })
	})
}

type vmSnapshotView struct {
	ID                 string    `json:"id"`
	Name               string    `json:"name"`
	DisplayName        string    `json:"displayname"`
	Description        string    `json:"description,omitempty"`
	State              string    `json:"state"`
	Type               string    `json:"type"`
	Current            bool      `json:"current"`
	Parent             string    `json:"parent,omitempty"`
	ParentName         string    `json:"parentName,omitempty"`
	VirtualMachineID   string    `json:"virtualmachineid"`
	VirtualMachineName string    `json:"virtualmachinename"`
	Hypervisor         string    `json:"hypervisor"`
	ZoneID             string    `json:"zoneid"`
	ZoneName           string    `json:"zonename"`
	Created            string    `json:"created"`
	Tags               []tagView `json:"tags"`
	ownerView
}

func vmSnapshotOf(r cloud.Reader, s *cloud.VMSnapshot) vmSnapshotView {
	out := vmSnapshotView{ID: s.ID, Name: s.Name, DisplayName: s.DisplayName, Description: s.Description, State: s.State,
		Type: s.Type, Current: s.Current, Parent: s.ParentID, VirtualMachineID: s.VMID, Hypervisor: "Simulator",
		ZoneID: s.ZoneID, Created: date(s.Created), Tags: tagsOf(r, s.ID), ownerView: owner(r, s.Owner)}
	if p, ok := r.VMSnapshot(s.ParentID); ok {
		out.ParentName = p.DisplayName
	}
	if vm, ok := r.VM(s.VMID); ok {
		out.VirtualMachineName = vm.Name
	}
	if z, ok := r.Zone(s.ZoneID); ok {
		out.ZoneName = z.Name
	}
	return out
}

// vmSnapshotJobResult renders a createVMSnapshot job's result (nil for
// other kinds).
func vmSnapshotJobResult(r cloud.Reader, j *cloud.Job) any {
	if j.ResultKind != cloud.KindVMSnapshot {
		return nil
	}
	var s cloud.VMSnapshot
	if json.Unmarshal(j.Result, &s) != nil {
		return nil
	}
	return Object{Key: "vmsnapshot", Obj: vmSnapshotOf(r, &s)}
}
