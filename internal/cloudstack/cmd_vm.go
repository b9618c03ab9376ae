package cloudstack

import (
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

func vmIDParam() param { return p("id*:uuid:UserVm", "The ID of the virtual machine") }

func vmCommands() []*command {
	return []*command{
		{Name: "deployVirtualMachine", Async: true, Desc: "Creates and automatically starts a virtual machine based on a service offering, disk offering, and template.",
			Resp: "virtualmachine", RespOf: vmView{}, Params: []param{
				p("zoneid*:uuid:Zone", "availability zone for the virtual machine"),
				p("projectid:uuid:Project", "Deploy vm for the project"),
				p("serviceofferingid*:uuid:ServiceOffering", "the ID of the service offering for the virtual machine"),
				p("templateid:uuid:Template", "the ID of the template for the virtual machine"),
				p("diskofferingid:uuid:DiskOffering", "the ID of the disk offering for the virtual machine."),
				p("name:string", "host name for the virtual machine"),
				p("displayname:string", "an optional user generated name for the virtual machine"),
				p("group:string", "an optional group for the virtual machine"),
				p("networkids:list:Network", "list of network ids used by virtual machine."),
				p("ipaddress:string", "the ip address for default vm's network"),
				p("securitygroupids:list:SecurityGroup", "comma separated list of security groups id that going to be applied to the virtual machine."),
				p("securitygroupnames:list", "comma separated list of security groups names that going to be applied to the virtual machine."),
				p("keypair:string", "name of the ssh key pair used to login to the virtual machine"),
				p("keypairs:list", "names of the ssh key pairs used to login to the virtual machine"),
				p("userdata:string", "an optional binary data that can be sent to the virtual machine upon a successful deployment. This binary data must be base64 encoded before adding it to the request."),
				p("startvm:boolean", "true if start vm after creating; defaulted to true if not specified"),
				p("hostid:uuid:Host", "destination Host ID to deploy the VM to - parameter available for root admin only"),
				p("rootdisksize:long", "Optional field to resize root disk on deploy. Value is in GB.").atLeast(1, "Root disk size should be a positive number."),
				p("hypervisor:string", "the hypervisor on which to deploy the virtual machine."),
				p("details:map", "used to specify the custom parameters."),
				p("size:long", "the arbitrary size for the DATADISK volume. Mutually exclusive with diskOfferingId"),
				p("affinitygroupids:list:AffinityGroup", "comma separated list of affinity groups id that are going to be applied to the virtual machine. Mutually exclusive with affinitygroupnames parameter"),
				p("affinitygroupnames:list", "comma separated list of affinity groups names that are going to be applied to the virtual machine.Mutually exclusive with affinitygroupids parameter"),
				pAccount, pDomainID,
			}, Run: deployVM},
		{Name: "listVirtualMachines", Desc: "List the virtual machines owned by the account.", Resp: "virtualmachine", RespOf: vmView{},
			// (an expunged VM's id still names it: the list is empty, not an error)
			Params: ownedListParams(withID(cloud.KindRemovedVM, pIDs, pName, pZoneID, pTags,
				p("state:string", "state of the virtual machine. Possible values are: Running, Stopped, Present, Destroyed, Expunged. Present is used for the state equal not destroyed."),
				p("templateid:uuid:Template", "list vms by template"),
				p("serviceofferingid:uuid:ServiceOffering", "list by the service offering"),
				p("networkid:uuid:Network", "list by network id"),
				p("hostid:uuid:Host", "the host ID"),
				p("keypair:string", "list vms by ssh keypair name"),
				p("securitygroupid:uuid:SecurityGroup", "the security group ID"),
				p("groupid:uuid:InstanceGroup", "the group ID"),
				p("userdata:boolean", "Whether to return the VMs' user data or not. By default, user data will not be returned."),
				p("details:list", "comma separated list of vm details requested"),
			)...), Run: listVMs},
		{Name: "startVirtualMachine", Async: true, Desc: "Starts a virtual machine.", Resp: "virtualmachine", RespOf: vmView{},
			Params: []param{vmIDParam(), p("hostid:uuid:Host", "destination Host ID to deploy the VM to - parameter available for root admin only")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.StartVM(rq.ctx, rq.c, rq.str("id"), rq.str("hostid"), rq.className()))
			}},
		{Name: "stopVirtualMachine", Async: true, Desc: "Stops a virtual machine.", Resp: "virtualmachine", RespOf: vmView{},
			Params: []param{vmIDParam(), p("forced:boolean", "Force stop the VM (vm is marked as Stopped even when command fails to be send to the backend, otherwise a force poweroff is attempted). The caller knows the VM is stopped.")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.StopVM(rq.ctx, rq.c, rq.str("id"), rq.boolean("forced", false), rq.className()))
			}},
		{Name: "rebootVirtualMachine", Async: true, Desc: "Reboots a virtual machine.", Resp: "virtualmachine", RespOf: vmView{},
			Params: []param{vmIDParam(), p("forced:boolean", "Force reboot the VM")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.RebootVM(rq.ctx, rq.c, rq.str("id"), rq.className()))
			}},
		{Name: "destroyVirtualMachine", Async: true, Desc: "Destroys a virtual machine.", Resp: "virtualmachine", RespOf: vmView{},
			Params: []param{vmIDParam(), p("expunge:boolean", "If true is passed, the vm is expunged immediately. False by default."),
				p("volumeids:list:Volume", "Comma separated list of UUIDs for volumes that will be deleted")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DestroyVM(rq.ctx, rq.c, rq.str("id"), rq.boolean("expunge", false), rq.className()))
			}},
		{Name: "expungeVirtualMachine", Async: true, Desc: "Expunge a virtual machine. Once expunged, it cannot be recoverd.", Resp: "success", RespOf: Success{},
			Params: []param{vmIDParam()},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.ExpungeVM(rq.ctx, rq.c, rq.str("id"), rq.className()))
			}},
		{Name: "recoverVirtualMachine", Desc: "Recovers a virtual machine.", Resp: "virtualmachine", RespOf: vmView{},
			Params: []param{vmIDParam()},
			Run: func(rq *request) (any, error) {
				return rq.vmAnswer(rq.h.sim.RecoverVM(rq.ctx, rq.c, rq.str("id")))
			}},
		{Name: "changeServiceForVirtualMachine", Desc: "Changes the service offering for a virtual machine. The virtual machine must be in a \"Stopped\" state for this command to take effect.",
			Resp: "virtualmachine", RespOf: vmView{},
			Params: []param{vmIDParam(), p("serviceofferingid*:uuid:ServiceOffering", "the service offering ID to apply to the virtual machine"),
				p("details:map", "name value pairs of custom parameters for cpu, memory and cpunumber."),
				p("maxiops:long", "New maximum number of IOPS for the custom disk offering"),
				p("miniops:long", "New minimum number of IOPS for the custom disk offering")},
			Run: func(rq *request) (any, error) {
				return rq.vmAnswer(rq.h.sim.ChangeServiceOffering(rq.ctx, rq.c, rq.str("id"), rq.str("serviceofferingid")))
			}},
		{Name: "updateVirtualMachine", Desc: "Updates properties of a virtual machine.", Resp: "virtualmachine", RespOf: vmView{},
			Params: []param{vmIDParam(), p("displayname:string", "user generated name"), p("group:string", "group of the virtual machine"),
				p("userdata:string", "an optional binary data that can be sent to the virtual machine upon a successful deployment.")},
			Run: func(rq *request) (any, error) {
				return rq.vmAnswer(rq.h.sim.UpdateVM(rq.ctx, rq.c, rq.str("id"), rq.optStr("displayname"), rq.optStr("group"), rq.optStr("userdata")))
			}},
		{Name: "getVirtualMachineUserData", Desc: "Returns user data associated with the VM", Resp: "virtualmachineuserdata", RespOf: userDataView{},
			Params: []param{p("virtualmachineid*:uuid:UserVm", "The ID of the virtual machine")}, Run: getUserData},
		// getVirtualMachineConsoleOutput is stratus's own: CloudStack 4.22
		// has no API for a VM's console text (only createConsoleEndpoint's
		// interactive console). It answers in CloudStack's shape what the
		// VM's guest wrote, e.g. why its join command joined nothing.
		{Name: "getVirtualMachineConsoleOutput", Desc: "Returns the console output of the virtual machine's guest, the most recent 64 KiB (stratus)",
			Resp: "consoleoutput", RespOf: consoleOutputView{},
			Params: []param{vmIDParam()},
			Run: func(rq *request) (any, error) {
				out, err := rq.h.sim.ConsoleOutput(rq.c, rq.str("id"))
				if err != nil {
					return nil, err
				}
				return Object{Key: "consoleoutput", Obj: consoleOutputView{ID: rq.str("id"), Output: out}}, nil
			}},
		{Name: "resetSSHKeyForVirtualMachine", Async: true, Desc: "Resets the SSH Key for virtual machine. The virtual machine must be in a \"Stopped\" state.",
			Resp: "virtualmachine", RespOf: vmView{},
			Params: []param{vmIDParam(), p("keypair:string", "name of the ssh key pair used to login to the virtual machine"),
				p("keypairs:list", "names of the ssh key pairs to be used to login to the virtual machine"), pAccount, pDomainID},
			Run: func(rq *request) (any, error) {
				keys := append(rq.p.List("keypairs"), rq.p.List("keypair")...)
				if len(keys) == 0 {
					return nil, cloud.Invalid("Unable to execute API command resetsshkeyforvirtualmachine due to missing parameter keypair")
				}
				return asyncJob(rq.h.sim.ResetSSHKey(rq.ctx, rq.c, rq.str("id"), keys, rq.className()))
			}},
		{Name: "addNicToVirtualMachine", Async: true, Desc: "Adds VM to specified network by creating a NIC", Resp: "virtualmachine", RespOf: vmView{},
			Params: []param{p("virtualmachineid*:uuid:UserVm", "Virtual Machine ID"), p("networkid*:uuid:Network", "Network ID"),
				p("ipaddress:string", "IP Address for the new network"), p("dhcpoptions:map", "DHCP options which are passed to the nic"),
				p("macaddress:string", "Mac Address for the new network")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.AddNIC(rq.ctx, rq.c, rq.str("virtualmachineid"), rq.str("networkid"), rq.str("ipaddress"), rq.className()))
			}},
		{Name: "listVolumes", Desc: "Lists all volumes.", Resp: "volume", RespOf: volumeView{},
			Params: ownedListParams(withID(cloud.KindVolume, pIDs, pName, pZoneID, pTags, p("type:string", "the type of disk volume"),
				p("virtualmachineid:uuid:UserVm", "the ID of the virtual machine"))...), Run: listVolumes},
	}
}

// asyncJob answers an async command with its job id.
func asyncJob(j *cloud.Job, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return AsyncAnswer{JobID: j.ID}, nil
}

// vmAnswer renders a VM as a sync command's answer.
func (rq *request) vmAnswer(vm *cloud.VM, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return rq.read(func(r cloud.Reader) (any, error) {
		return Object{Key: "virtualmachine", Obj: vmOf(r, vm, false)}, nil
	})
}

func deployVM(rq *request) (any, error) {
	if rq.str("templateid") == "" {
		return nil, cloud.Invalid("Unable to execute API command deployvirtualmachine due to missing parameter templateid")
	}
	keys := rq.p.List("keypairs")
	if k := rq.str("keypair"); k != "" {
		keys = append([]string{k}, keys...)
	}
	details := map[string]string{}
	for _, m := range rq.p.Map("details") {
		for k, v := range m {
			details[k] = v
		}
	}
	if len(details) == 0 {
		details = nil
	}
	if err := checkAffinityGroups(rq); err != nil {
		return nil, err
	}
	if h := rq.str("hypervisor"); h != "" && !strings.EqualFold(h, "Simulator") {
		return nil, cloud.Invalid("Hypervisor type %s is not supported in this zone", h)
	}
	account, domainID, err := rq.owner()
	if err != nil {
		return nil, err
	}
	vm, job, err := rq.h.sim.DeployVM(rq.ctx, rq.c, cloud.DeployRequest{
		ZoneID: rq.str("zoneid"), ServiceOfferingID: rq.str("serviceofferingid"), TemplateID: rq.str("templateid"),
		DiskOfferingID: rq.str("diskofferingid"), Name: rq.str("name"), DisplayName: rq.str("displayname"), Group: rq.str("group"),
		NetworkIDs: rq.p.List("networkids"), IPAddress: rq.str("ipaddress"), SecurityGroupIDs: rq.p.List("securitygroupids"),
		SecurityGroupNames: rq.p.List("securitygroupnames"), KeyPairs: keys, UserData: rq.str("userdata"),
		StartVM: rq.boolean("startvm", true), HostID: rq.str("hostid"), RootDiskSize: rq.integer("rootdisksize", 0), Size: rq.integer("size", 0),
		Account: account, DomainID: domainID, Details: details, Cmd: rq.className(),
		AffinityGroupIDs: rq.p.List("affinitygroupids"), AffinityGroupNames: rq.p.List("affinitygroupnames"),
	})
	if err != nil {
		return nil, err
	}
	return AsyncAnswer{ID: vm.ID, JobID: job.ID}, nil
}

func listVMs(rq *request) (any, error) {
	ids := rq.idFilter()
	state := strings.ToLower(rq.str("state"))
	withUD := rq.boolean("userdata", false)
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		all := r.VMs()
		sc := rq.scope()
		switch {
		case sc.ProjectID != "" && sc.ProjectID != "-1":
			if p, ok := r.Project(sc.ProjectID); ok {
				all = r.VMsOf(p.AccountID)
			}
		case !sc.ListAll && sc.Account == "" && sc.DomainID == "" && sc.ProjectID == "":
			all = r.VMsOf(rq.c.Account.ID) // the common case: the caller's own VMs
		}
		if id := rq.str("id"); id != "" {
			// one VM by id (the SDKs' GetVirtualMachineByID, the cloud-init
			// follower reading a booted VM's user data): a lookup rather
			// than a walk of every VM; the filters below still apply
			all = nil
			if vm, ok := r.VM(id); ok {
				all = []*cloud.VM{vm}
			}
		}
		netID, sgID, kp := rq.str("networkid"), rq.str("securitygroupid"), rq.str("keypair")
		return listView(rq, "virtualmachine", all, func(vm *cloud.VM) bool {
			if !keep(vm.Owner) || !ids(vm.ID) || !rq.match("name", vm.Name) || !rq.match("zoneid", vm.ZoneID) ||
				!rq.match("templateid", vm.TemplateID) || !rq.match("serviceofferingid", vm.ServiceOfferingID) ||
				!rq.match("hostid", vm.HostID) || !rq.match("groupid", vm.GroupID) {
				return false
			}
			switch state {
			case "":
				if vm.State == cloud.VMExpunging {
					return false
				}
			case "present":
				if vm.State == cloud.VMDestroyed || vm.State == cloud.VMExpunging {
					return false
				}
			default:
				if strings.ToLower(string(vm.State)) != state {
					return false
				}
			}
			if netID != "" && !hasNIC(vm, netID) || sgID != "" && !contains(vm.SecurityGroupIDs, sgID) || kp != "" && !contains(vm.KeyPairs, kp) {
				return false
			}
			return rq.keyword(vm.Name, vm.DisplayName) && rq.tagsMatch(r, vm.ID)
		}, func(vm *cloud.VM) vmView { return vmOf(r, vm, withUD) })
	})
}

func hasNIC(vm *cloud.VM, network string) bool {
	for _, n := range vm.NICs {
		if n.NetworkID == network {
			return true
		}
	}
	return false
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

type userDataView struct {
	VirtualMachineID string `json:"virtualmachineid"`
	UserData         string `json:"userdata"`
}

// consoleOutputView is getVirtualMachineConsoleOutput's answer.
type consoleOutputView struct {
	ID     string `json:"id"`
	Output string `json:"output"`
}

func getUserData(rq *request) (any, error) {
	return rq.read(func(r cloud.Reader) (any, error) {
		vm, ok := r.VM(rq.str("virtualmachineid"))
		if !ok || !r.CanAccess(rq.c, vm.Owner) {
			return nil, rq.invalidValue("virtualmachineid", rq.str("virtualmachineid"))
		}
		return Object{Key: "virtualmachineuserdata", Obj: userDataView{VirtualMachineID: vm.ID, UserData: vm.UserData}}, nil
	})
}

func listVolumes(rq *request) (any, error) {
	ids := rq.idFilter()
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		return listView(rq, "volume", r.Volumes(), func(v *cloud.Volume) bool {
			return keep(v.Owner) && ids(v.ID) && rq.match("name", v.Name) && rq.match("zoneid", v.ZoneID) &&
				strings.EqualFold(orAll(rq.str("type"), v.Type), v.Type) && rq.match("virtualmachineid", v.VMID) &&
				rq.keyword(v.Name) && rq.tagsMatch(r, v.ID)
		}, func(v *cloud.Volume) volumeView { return volumeOf(r, v) })
	})
}
