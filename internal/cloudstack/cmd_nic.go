package cloudstack

import (
	"strconv"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// NICs and their secondary addresses, and the network commands that
// change a network in place (restart, update).

func nicCommands() []*command {
	return []*command{
		{Name: "listNics", Desc: "list the vm nics  IP to NIC", Resp: "nic", RespOf: listedNICView{},
			Params: listParams(p("virtualmachineid*:uuid:UserVm", "the ID of the vm"), p("nicid:uuid", "the ID of the nic to list IPs"),
				p("networkid:uuid:Network", "list nic of the specific vm's network"), pListDisplay),
			Run: listNics},
		{Name: "removeNicFromVirtualMachine", Async: true, Desc: "Removes VM from specified network by deleting a NIC", Resp: "virtualmachine", RespOf: vmView{},
			Params: []param{p("virtualmachineid*:uuid:UserVm", "Virtual Machine ID"), p("nicid*:uuid:Nic", "NIC ID")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.RemoveNIC(rq.ctx, rq.c, rq.str("virtualmachineid"), rq.str("nicid"), rq.className()))
			}},
		{Name: "addIpToNic", Async: true, Desc: "Assigns secondary IP to NIC", Resp: "nicsecondaryip", RespOf: secondaryIPView{},
			// the real server answers addiptovmnicresponse (its getCommandName)
			Envelope: "addiptovmnicresponse",
			Params:   []param{p("nicid*:uuid:Nic", "the ID of the nic to which you want to assign private IP"), p("ipaddress:string", "Secondary IP Address")},
			Run: func(rq *request) (any, error) {
				s, job, err := rq.h.sim.AddIPToNIC(rq.ctx, rq.c, rq.str("nicid"), rq.str("ipaddress"), rq.className())
				if err != nil {
					return nil, err
				}
				return AsyncAnswer{ID: s.ID, JobID: job.ID}, nil
			}},
		{Name: "removeIpFromNic", Async: true, Desc: "Removes secondary IP from the NIC.", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:NicSecondaryIp", "the ID of the secondary ip address to nic")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.RemoveIPFromNIC(rq.ctx, rq.c, rq.str("id"), rq.className()))
			}},
		{Name: "restartNetwork", Async: true, Desc: "Restarts the network; includes 1) restarting network elements - virtual routers, DHCP servers 2) reapplying all public IPs 3) reapplying loadBalancing/portForwarding rules",
			Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:Network", "The ID of the network to restart."), p("cleanup:boolean", "If cleanup old network elements"),
				p("makeredundant:boolean", "Turn the network into a network with redundant routers."),
				p("livepatch:boolean", "Live patches the router software before restarting it. This parameter will only work when 'cleanup' is false.")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.RestartNetwork(rq.ctx, rq.c, rq.str("id"), rq.className()))
			}},
		{Name: "updateNetwork", Async: true, Desc: "Updates a network", Resp: "network", RespOf: networkView{},
			Params: []param{p("id*:uuid:Network", "the ID of the network"), p("name:string", "the new name for the network"),
				p("displaytext:string", "the new display text for the network"),
				p("displaynetwork:boolean", "an optional field, whether to the display the network to the end user or not."),
				p("networkofferingid:uuid:NetworkOffering", "network offering ID"), p("networkdomain:string", "network domain"),
				p("guestvmcidr:string", "CIDR for guest VMs, CloudStack allocates IPs to guest VMs only from this CIDR"),
				p("changecidr:boolean", "Force update even if CIDR type is different"), p("forced:boolean", "Setting this to true will cause a forced network update,"),
				p("customid:string", "an optional field, in case you want to set a custom id to the resource. Allowed to Root Admins only")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.UpdateNetwork(rq.ctx, rq.c, rq.str("id"), cloud.NetworkUpdate{Name: rq.optStr("name"),
					DisplayText: rq.optStr("displaytext"), OfferingID: rq.str("networkofferingid"), GuestCIDR: rq.str("guestvmcidr"),
					Cmd: rq.className()}))
			}},
	}
}

func listNics(rq *request) (any, error) {
	return rq.read(func(r cloud.Reader) (any, error) {
		vm, ok := r.VM(rq.str("virtualmachineid"))
		if !ok || !r.CanAccess(rq.c, vm.Owner) {
			return nil, rq.invalidValue("virtualmachineid", rq.str("virtualmachineid"))
		}
		views := nicViews(r, vm)
		return listView(rq, "nic", views, func(n listedNICView) bool {
			return rq.match("nicid", n.ID) && rq.match("networkid", n.NetworkID) && rq.keyword(n.IPAddress, n.NetworkName)
		}, func(n listedNICView) listedNICView { return n })
	})
}

// nicViews renders a VM's NICs, with their secondary addresses and the
// static NAT address of each.
func nicViews(r cloud.Reader, vm *cloud.VM) []listedNICView {
	nat, hasNAT := r.StaticNATOf(vm.ID)
	out := make([]listedNICView, 0, len(vm.NICs))
	for i, n := range vm.NICs {
		v := listedNICView{nicView: nicOf(r, vm, i, n)}
		if hasNAT && nat.VMIP == n.IP {
			v.PublicIP, v.PublicIPID = nat.Address, nat.ID
		}
		out = append(out, v)
	}
	return out
}

// nicOf renders one NIC of a VM.
func nicOf(r cloud.Reader, vm *cloud.VM, i int, n cloud.NIC) nicView {
	nv := nicView{ID: n.ID, NetworkID: n.NetworkID, Netmask: n.Netmask, Gateway: n.Gateway, IPAddress: n.IP,
		TrafficType: "Guest", IsDefault: n.Default, MACAddress: n.MAC, DeviceID: strconv.Itoa(i), SecondaryIP: secondaryIPsOf(r, n.ID),
		ExtraDHCPOption: []string{}, VirtualMachineID: vm.ID}
	if net, ok := r.Network(n.NetworkID); ok {
		nv.NetworkName, nv.Type, nv.BroadcastURI, nv.IsolationURI = net.Name, net.Type, net.VLAN, net.VLAN
	}
	return nv
}
