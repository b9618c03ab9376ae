package cloudstack

// migrateCommands are the admin's VM placement commands.
func migrateCommands() []*command {
	return []*command{
		{Name: "migrateVirtualMachine", Async: true, Role: roleRootAdmin,
			Desc: "Attempts Migration of a VM to a different host or Root volume of the vm to a different storage pool",
			Resp: "virtualmachine", RespOf: vmView{},
			Params: []param{
				p("virtualmachineid*:uuid:UserVm", "the ID of the virtual machine"),
				p("hostid:uuid:Host", "Destination Host ID to migrate VM to."),
				p("storageid:uuid", "Destination storage pool ID to migrate VM volumes to. Required for migrating the root disk volume"),
				p("autoselect:boolean", "Automatically select a destination host which do not require storage migration, if hostId and storageId are not specified. false by default"),
			},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.MigrateVM(rq.ctx, rq.c, rq.str("virtualmachineid"), rq.str("hostid"), rq.className()))
			}},
	}
}
