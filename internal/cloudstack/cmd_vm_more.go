package cloudstack

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// The VM family's further commands: instance groups, passwords, restore,
// affinity group changes. Accepted and ignored: restoreVirtualMachine's
// expunge (the old root volume is always removed at once) and its details
// other than rootdisksize.

func vmMoreCommands() []*command {
	return []*command{
		{Name: "createInstanceGroup", Desc: "Creates a vm group", Resp: "instancegroup", RespOf: instanceGroupView{},
			Params: []param{
				p("account:string", "the account of the instance group. The account parameter must be used with the domainId parameter."),
				p("domainid:uuid:Domain", "the domain ID of account owning the instance group"),
				p("name*:string", "the name of the instance group"),
				p("projectid:uuid:Project", "The project of the instance group"),
			}, Run: func(rq *request) (any, error) {
				account, domainID, err := rq.owner()
				if err != nil {
					return nil, err
				}
				return rq.instanceGroupAnswer(rq.h.sim.CreateInstanceGroup(rq.ctx, rq.c, rq.str("name"), account, domainID))
			}},
		{Name: "listInstanceGroups", Desc: "Lists vm groups", Resp: "instancegroup", RespOf: instanceGroupView{},
			Params: ownedListParams(p("id:uuid:InstanceGroup", "list instance groups by ID"), p("name:string", "list instance groups by name")),
			Run:    listInstanceGroups},
		{Name: "updateInstanceGroup", Desc: "Updates a vm group", Resp: "instancegroup", RespOf: instanceGroupView{},
			Params: []param{p("id*:uuid:InstanceGroup", "Instance group ID"), p("name:string", "new instance group name")},
			Run: func(rq *request) (any, error) {
				return rq.instanceGroupAnswer(rq.h.sim.UpdateInstanceGroup(rq.ctx, rq.c, rq.str("id"), rq.optStr("name")))
			}},
		{Name: "deleteInstanceGroup", Desc: "Deletes a vm group", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:InstanceGroup", "the ID of the instance group")},
			Run: func(rq *request) (any, error) {
				if err := rq.h.sim.DeleteInstanceGroup(rq.ctx, rq.c, rq.str("id")); err != nil {
					return nil, err
				}
				return Success{Success: true}, nil
			}},
		{Name: "resetPasswordForVirtualMachine", Async: true, Desc: "Resets the password for virtual machine. The virtual machine must be in a \"Stopped\" state and the template must already support this feature for this command to take effect.",
			Resp: "virtualmachine", RespOf: vmView{},
			Params: []param{vmIDParam(), p("password:string", "The new password of the virtual machine. If null, a random password will be generated for the VM.")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.ResetVMPassword(rq.ctx, rq.c, rq.str("id"), rq.str("password"), rq.className()))
			}},
		{Name: "getVMPassword", Desc: "Returns an encrypted password for the VM", Resp: "password", RespOf: vmPasswordView{},
			Params: []param{vmIDParam()},
			Run: func(rq *request) (any, error) {
				pw, err := rq.h.sim.VMPassword(rq.c, rq.str("id"))
				if err != nil {
					return nil, err
				}
				return Object{Key: "password", Obj: vmPasswordView{EncryptedPassword: pw}}, nil
			}},
		{Name: "restoreVirtualMachine", Async: true, Desc: "Restore a VM to original template/ISO or new template/ISO", Resp: "virtualmachine", RespOf: vmView{},
			Params: []param{
				p("virtualmachineid*:uuid:UserVm", "Virtual Machine ID"),
				p("templateid:uuid:Template", "an optional template Id to restore vm from the new template. This can be an ISO id in case of restore vm deployed using ISO"),
				p("diskofferingid:uuid:DiskOffering", "Override root volume's diskoffering."),
				p("rootdisksize:long", "Override root volume's size (in GB). Analogous to details[0].rootdisksize, which takes precedence over this parameter if both are provided").atLeast(1, "Root disk size should be a positive number."),
				p("expunge:boolean", "Optional field to expunge old root volume after restore."),
				p("details:map", "used to specify the custom parameters"),
			}, Run: func(rq *request) (any, error) {
				size := rq.integer("rootdisksize", 0)
				for _, m := range rq.p.Map("details") {
					if v, ok := m["rootdisksize"]; ok {
						n, err := strconv.ParseInt(v, 10, 64)
						if err != nil || n < 1 {
							return nil, cloud.Invalid("Root disk size should be a positive number.")
						}
						size = n
					}
				}
				return asyncJob(rq.h.sim.RestoreVM(rq.ctx, rq.c, cloud.RestoreVMRequest{VMID: rq.str("virtualmachineid"),
					TemplateID: rq.str("templateid"), DiskOfferingID: rq.str("diskofferingid"), RootDiskSize: size, Cmd: rq.className()}))
			}},
		{Name: "updateVMAffinityGroup", Async: true, Desc: "Updates the affinity/anti-affinity group associations of a virtual machine. The VM has to be stopped and restarted for the new properties to take effect.",
			Resp: "virtualmachine", RespOf: vmView{},
			Params: []param{vmIDParam(),
				p("affinitygroupids:list:AffinityGroup", "comma separated list of affinity groups id that are going to be applied to the virtual machine. Should be passed only when vm is created from a zone with Basic Network support. Mutually exclusive with securitygroupnames parameter"),
				p("affinitygroupnames:list", "comma separated list of affinity groups names that are going to be applied to the virtual machine. Should be passed only when vm is created from a zone with Basic Network support. Mutually exclusive with securitygroupids parameter")},
			Run: func(rq *request) (any, error) {
				if err := checkAffinityGroups(rq); err != nil {
					return nil, err
				}
				return asyncJob(rq.h.sim.UpdateVMAffinityGroups(rq.ctx, rq.c, rq.str("id"), rq.p.List("affinitygroupids"),
					rq.p.List("affinitygroupnames"), rq.className()))
			}},
		{Name: "updateDefaultNicForVirtualMachine", Async: true, Desc: "Changes the default NIC on a VM", Resp: "virtualmachine", RespOf: vmView{},
			Params: []param{p("nicid*:uuid:Nic", "NIC ID"), p("virtualmachineid*:uuid:UserVm", "Virtual Machine ID")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.UpdateDefaultNIC(rq.ctx, rq.c, rq.str("virtualmachineid"), rq.str("nicid"), rq.className()))
			}},
		{Name: "updateVmNicIp", Async: true, Desc: "Update the default Ip of a VM Nic", Resp: "virtualmachine", RespOf: vmView{},
			Params: []param{p("nicid*:uuid:Nic", "the ID of the nic to which you want to assign private IP"), p("ipaddress:string", "Secondary IP Address")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.UpdateNICIP(rq.ctx, rq.c, rq.str("nicid"), rq.str("ipaddress"), rq.className()))
			}},
		// The simulator has one storage model: volumes go with the VM, so
		// migrateto is checked for its form and otherwise accepted and
		// ignored; a Running VM moves host as migrateVirtualMachine does.
		{Name: "migrateVirtualMachineWithVolume", Async: true, Role: roleRootAdmin,
			Desc: "Attempts Migration of a VM with its volumes to a different host", Resp: "virtualmachine", RespOf: vmView{},
			Params: []param{
				p("virtualmachineid*:uuid:UserVm", "the ID of the virtual machine"),
				p("hostid:uuid:Host", "Destination Host ID to migrate VM to."),
				p("autoselect:boolean", "Automatically select a destination host for a running instance, if hostId is not specified. false by default"),
				p("migrateto:map", "Storage to pool mapping. This parameter specifies the mapping between a volume and a pool where you want to migrate that volume."),
			}, Run: func(rq *request) (any, error) {
				if rq.str("hostid") == "" && len(rq.p.Map("migrateto")) == 0 && !rq.boolean("autoselect", false) {
					return nil, cloud.Invalid("Either hostid or migrateto must be passed or autoselect must be true for migrating the VM.")
				}
				return asyncJob(rq.h.sim.MigrateVM(rq.ctx, rq.c, rq.str("virtualmachineid"), rq.str("hostid"), rq.className()))
			}},
		{Name: "listVirtualMachinesUsageHistory", Desc: "Lists VM stats", Resp: "virtualmachine", RespOf: vmUsageHistoryView{},
			Params: listParams(p("id:uuid:UserVm", "the ID of the virtual machine."), p("ids:list:UserVm", "the IDs of the virtual machines, mutually exclusive with id."),
				p("name:string", "name of the virtual machine (a substring match is made against the parameter value returning the data for all matching VMs)."),
				p("startdate:date", "start date to filter stats.Use format \"yyyy-MM-dd hh:mm:ss\")"),
				p("enddate:date", "end date to filter stats.Use format \"yyyy-MM-dd hh:mm:ss\")")),
			Run: listVMUsageHistory},
		metricsCommand("listVirtualMachinesMetrics", "listVirtualMachines", "Lists VM metrics", vmMetricsView{}, func(items any) any {
			vms, _ := items.([]vmView)
			out := make([]vmMetricsView, len(vms))
			for i, v := range vms {
				out[i] = vmMetricsOf(v)
			}
			return out
		}),
		metricsCommand("listVolumesMetrics", "listVolumes", "Lists volume metrics", volumeMetricsView{}, func(items any) any {
			vols, _ := items.([]volumeView)
			out := make([]volumeMetricsView, len(vols))
			for i, v := range vols {
				out[i] = volumeMetricsView{volumeView: v, SizeGB: fmt.Sprintf("%.2f GB", float64(v.Size)/(1<<30))}
			}
			return out
		}),
	}
}

// metricsCommand declares a list…Metrics command: the base list command's
// parameters and answer, each item with the metrics the real server adds
// (the simulator's VMs do no I/O, so the counters are its zero figures).
func metricsCommand(name, base, desc string, respOf any, conv func(items any) any) *command {
	var b *command
	for _, c := range vmCommands() {
		if c.Name == base {
			b = c
		}
	}
	return &command{Name: name, Desc: desc, Resp: b.Resp, RespOf: respOf, Params: b.Params,
		Run: func(rq *request) (any, error) {
			res, err := b.Run(rq)
			if err != nil {
				return nil, err
			}
			l, ok := res.(List)
			if !ok {
				return res, nil
			}
			l.Items = conv(l.Items)
			return l, nil
		}}
}

// vmMetricsView is a VM as listVirtualMachinesMetrics shows it.
type vmMetricsView struct {
	vmView
	IPAddress     string `json:"ipaddress,omitempty"`
	CPUTotal      string `json:"cputotal"`
	MemoryTotal   string `json:"memorytotal"`
	NetworkRead   string `json:"networkread"`
	NetworkWrite  string `json:"networkwrite"`
	DiskRead      string `json:"diskread"`
	DiskWrite     string `json:"diskwrite"`
	DiskIOPSTotal int64  `json:"diskiopstotal"`
}

// vmMetricsOf adds the real server's formatted totals to a VM.
func vmMetricsOf(v vmView) vmMetricsView {
	m := vmMetricsView{vmView: v,
		CPUTotal:     fmt.Sprintf("%.2f Ghz", float64(v.CPUNumber)*float64(v.CPUSpeed)/1000),
		MemoryTotal:  fmt.Sprintf("%.2f GB", float64(v.Memory)/1024),
		NetworkRead:  fmt.Sprintf("%.2f MB", float64(v.NetworkKbsRead)/1024),
		NetworkWrite: fmt.Sprintf("%.2f MB", float64(v.NetworkKbsWrite)/1024),
		DiskRead:     fmt.Sprintf("%.2f MB", float64(v.DiskKbsRead)/1024),
		DiskWrite:    fmt.Sprintf("%.2f MB", float64(v.DiskKbsWrite)/1024), DiskIOPSTotal: v.DiskIORead + v.DiskIOWrite}
	for _, n := range v.Nic {
		if n.IsDefault {
			m.IPAddress = n.IPAddress
		}
	}
	return m
}

// volumeMetricsView is a volume as listVolumesMetrics shows it.
type volumeMetricsView struct {
	volumeView
	SizeGB        string `json:"sizegb"`
	DiskIOPSTotal int64  `json:"diskiopstotal"`
}

// instanceGroupView is an instance group as the API shows it.
type instanceGroupView struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Created        string `json:"created"`
	HasAnnotations bool   `json:"hasannotations"`
	ownerView
}

// vmPasswordView is getVMPassword's answer.
type vmPasswordView struct {
	EncryptedPassword string `json:"encryptedpassword"`
}

func instanceGroupOf(r cloud.Reader, g *cloud.InstanceGroup) instanceGroupView {
	return instanceGroupView{ID: g.ID, Name: g.Name, Created: date(g.Created), ownerView: owner(r, g.Owner)}
}

func (rq *request) instanceGroupAnswer(g *cloud.InstanceGroup, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return rq.read(func(r cloud.Reader) (any, error) {
		return Object{Key: "instancegroup", Obj: instanceGroupOf(r, g)}, nil
	})
}

func listInstanceGroups(rq *request) (any, error) {
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		return listView(rq, "instancegroup", r.InstanceGroups(), func(g *cloud.InstanceGroup) bool {
			return keep(g.Owner) && rq.match("id", g.ID) && rq.match("name", g.Name) && rq.keyword(g.Name)
		}, func(g *cloud.InstanceGroup) instanceGroupView { return instanceGroupOf(r, g) })
	})
}

// vmUsageHistoryView is a VM's stats as listVirtualMachinesUsageHistory
// shows them.
type vmUsageHistoryView struct {
	ID          string        `json:"id"`
	Name        string        `json:"name"`
	DisplayName string        `json:"displayname"`
	Stats       []vmStatsView `json:"stats"`
}

// vmStatsView is one sample of a VM's stats.
type vmStatsView struct {
	CPUUsed          string `json:"cpuused"`
	DiskIORead       int64  `json:"diskioread"`
	DiskIOWrite      int64  `json:"diskiowrite"`
	DiskIOPSTotal    int64  `json:"diskiopstotal"`
	DiskKbsRead      int64  `json:"diskkbsread"`
	DiskKbsWrite     int64  `json:"diskkbswrite"`
	MemoryKbs        int64  `json:"memorykbs"`
	MemoryIntFreeKbs int64  `json:"memoryintfreekbs"`
	MemoryTargetKbs  int64  `json:"memorytargetkbs"`
	NetworkKbsRead   int64  `json:"networkkbsread"`
	NetworkKbsWrite  int64  `json:"networkkbswrite"`
	NetworkRead      string `json:"networkread"`
	NetworkWrite     string `json:"networkwrite"`
	Timestamp        string `json:"timestamp"`
}

// listVMUsageHistory answers the stats of the VMs the caller may see. The
// simulator keeps no history: a Running VM has one sample, taken now (when
// now is within startdate and enddate), a VM not running none.
func listVMUsageHistory(rq *request) (any, error) {
	if rq.str("id") != "" && rq.str("ids") != "" {
		return nil, cloud.Invalid("id and ids parameters are mutually exclusive")
	}
	var from, to time.Time
	for _, d := range []struct {
		name string
		t    *time.Time
	}{{"startdate", &from}, {"enddate", &to}} {
		if v := rq.str(d.name); v != "" {
			t, err := parseDate(v)
			if err != nil {
				return nil, rq.invalidValue(d.name, v)
			}
			*d.t = t
		}
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return nil, cloud.Invalid("Start date specified is greater than end date")
	}
	now := rq.h.sim.Now()
	ids := rq.idFilter()
	name := strings.ToLower(rq.str("name"))
	return rq.read(func(r cloud.Reader) (any, error) {
		return listView(rq, "virtualmachine", r.VMs(), func(vm *cloud.VM) bool {
			return r.CanAccess(rq.c, vm.Owner) && vm.State != cloud.VMDestroyed && vm.State != cloud.VMExpunging && ids(vm.ID) &&
				strings.Contains(strings.ToLower(vm.Name), name) && rq.keyword(vm.Name, vm.DisplayName)
		}, func(vm *cloud.VM) vmUsageHistoryView {
			v := vmUsageHistoryView{ID: vm.ID, Name: vm.Name, DisplayName: vm.DisplayName, Stats: []vmStatsView{}}
			if vm.State != cloud.VMRunning || !from.IsZero() && now.Before(from) || !to.IsZero() && now.After(to) {
				return v
			}
			var mem int64
			if so, ok := r.ServiceOffering(vm.ServiceOfferingID); ok {
				mem = int64(so.MemoryMB) * 1024
			}
			v.Stats = append(v.Stats, vmStatsView{CPUUsed: "10%", MemoryKbs: mem, MemoryTargetKbs: mem,
				NetworkRead: "0.00 MB", NetworkWrite: "0.00 MB", Timestamp: date(now)})
			return v
		})
	})
}
