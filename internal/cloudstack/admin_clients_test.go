package cloudstack_test

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestSDKAdminReads drives the admin reads with cloudstack-go: global
// settings listed with their categories and one of them honoured once
// changed (vmsnapshot.max), refused values; capacity by zone from the
// hosts and IP ranges, moving with a deploy, by type and sorted by usage;
// an alert when a host goes down, archived; event types; and the routers
// and system VMs a zone shows.
func TestSDKAdminReads(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	cs := e.cs

	// settings
	lc := cs.Configuration.NewListConfigurationsParams()
	lc.SetName("vmsnapshot.max")
	confs, err := cs.Configuration.ListConfigurations(lc)
	if err != nil || confs.Count != 1 || confs.Configurations[0].Value != "10" || confs.Configurations[0].Category != "Advanced" {
		t.Fatalf("listConfigurations: %v %+v", err, confs)
	}
	lc = cs.Configuration.NewListConfigurationsParams()
	lc.SetCategory("Project Defaults")
	if confs, err := cs.Configuration.ListConfigurations(lc); err != nil || confs.Count < 3 {
		t.Fatalf("listConfigurations category: %v %+v", err, confs)
	}
	for _, c := range []struct{ name, value, want string }{
		{"no.such.setting", "1", "Configuration no.such.setting does not exist"},
		{"project.invite.required", "maybe", "Please enter either 'true' or 'false'."},
		{"vmsnapshot.max", "ten", "Please enter a valid integer value for parameter vmsnapshot.max"},
	} {
		uc := cs.Configuration.NewUpdateConfigurationParams(c.name)
		uc.SetValue(c.value)
		if _, err := cs.Configuration.UpdateConfiguration(uc); err == nil || !strings.Contains(err.Error(), "431") || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("updateConfiguration %s=%s: %v", c.name, c.value, err)
		}
	}
	uc := cs.Configuration.NewUpdateConfigurationParams("vmsnapshot.max")
	uc.SetValue("1")
	if _, err := cs.Configuration.UpdateConfiguration(uc); err != nil {
		t.Fatalf("updateConfiguration: %v", err)
	}
	vm, err := cs.VirtualMachine.DeployVirtualMachine(cs.VirtualMachine.NewDeployVirtualMachineParams(e.small, e.template, e.advZone))
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if _, err := cs.Snapshot.CreateVMSnapshot(cs.Snapshot.NewCreateVMSnapshotParams(vm.Id)); err != nil {
		t.Fatalf("createVMSnapshot: %v", err)
	}
	if _, err := cs.Snapshot.CreateVMSnapshot(cs.Snapshot.NewCreateVMSnapshotParams(vm.Id)); err == nil ||
		!strings.Contains(err.Error(), "can just have : 1 Instance Snapshots") {
		t.Fatalf("a second VM snapshot past vmsnapshot.max=1: %v", err)
	}

	// capacity
	capacity := func(zone string, typ int) (total, used int64, pct string) {
		t.Helper()
		p := cs.SystemCapacity.NewListCapacityParams()
		p.SetZoneid(zone)
		p.SetType(typ)
		l, err := cs.SystemCapacity.ListCapacity(p)
		if err != nil || l.Count != 1 {
			t.Fatalf("listCapacity zone %s type %d: %v %+v", zone, typ, err, l)
		}
		c := l.Capacity[0]
		return c.Capacitytotal, c.Capacityused, c.Percentused
	}
	memTotal, memUsed, _ := capacity(e.advZone, 0)
	if memTotal == 0 || memUsed == 0 {
		t.Fatalf("memory capacity with a VM running: %d/%d", memUsed, memTotal)
	}
	cpuTotal, cpuUsed, _ := capacity(e.advZone, 1)
	if cpuTotal == 0 || cpuUsed == 0 {
		t.Fatalf("CPU capacity: %d/%d", cpuUsed, cpuTotal)
	}
	if ipTotal, ipUsed, _ := capacity(e.advZone, 4); ipTotal == 0 || ipUsed == 0 {
		t.Fatalf("public IPs (the network's source NAT is one): %d/%d", ipUsed, ipTotal)
	}
	if total, _, _ := capacity(e.basicZone, 8); total == 0 {
		t.Fatal("a Basic zone's direct attached addresses")
	}
	vm2, err := cs.VirtualMachine.DeployVirtualMachine(cs.VirtualMachine.NewDeployVirtualMachineParams(e.small, e.template, e.advZone))
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if _, used, _ := capacity(e.advZone, 0); used <= memUsed {
		t.Fatalf("memory used after a second deploy: %d, was %d", used, memUsed)
	}
	sp := cs.SystemCapacity.NewListCapacityParams()
	sp.SetSortby("usage")
	all, err := cs.SystemCapacity.ListCapacity(sp)
	if err != nil || all.Count < 8 {
		t.Fatalf("listCapacity: %v %+v", err, all)
	}
	for i := 1; i < len(all.Capacity); i++ {
		a, _ := strconv.ParseFloat(all.Capacity[i-1].Percentused, 64)
		b, _ := strconv.ParseFloat(all.Capacity[i].Percentused, 64)
		if a < b {
			t.Fatalf("sortby=usage: %s before %s", all.Capacity[i-1].Percentused, all.Capacity[i].Percentused)
		}
	}

	// alerts: a host goes down
	v2, _, err := cs.VirtualMachine.GetVirtualMachineByID(vm2.Id)
	if err != nil {
		t.Fatal(err)
	}
	configure(t, cs, map[string]string{"name": "PingCommand", "value": "result:fail", "hostid": v2.Hostid})
	var alertID string
	testenv.Eventually(t, 10*time.Second, "the host-down alert", func() bool {
		l, err := cs.Alert.ListAlerts(cs.Alert.NewListAlertsParams())
		if err != nil || l.Count == 0 {
			return false
		}
		a := l.Alerts[0]
		alertID = a.Id
		return a.Type == 7 && a.Name == "ALERT.COMPUTE.HOST" && strings.HasPrefix(a.Description, "Host is down, name: ") && a.Sent != ""
	})
	ap := cs.Alert.NewArchiveAlertsParams()
	ap.SetIds([]string{alertID})
	if _, err := cs.Alert.ArchiveAlerts(ap); err != nil {
		t.Fatalf("archiveAlerts: %v", err)
	}
	if l, err := cs.Alert.ListAlerts(cs.Alert.NewListAlertsParams()); err != nil || l.Count != 0 {
		t.Fatalf("an archived alert is listed: %v %+v", err, l)
	}
	if _, err := cs.Alert.ArchiveAlerts(cs.Alert.NewArchiveAlertsParams()); err == nil || !strings.Contains(err.Error(), "431") {
		t.Fatalf("archiveAlerts with nothing named: %v", err)
	}
	if ts, err := cs.Alert.ListAlertTypes(cs.Alert.NewListAlertTypesParams()); err != nil || ts.Count < 20 {
		t.Fatalf("listAlertTypes: %v %+v", err, ts)
	}

	// event types
	et, err := cs.Event.ListEventTypes(cs.Event.NewListEventTypesParams())
	if err != nil {
		t.Fatalf("listEventTypes: %v", err)
	}
	names := map[string]bool{}
	for _, x := range et.EventTypes {
		names[x.Name] = true
	}
	for _, want := range []string{"VM.CREATE", "PROJECT.CREATE", "SNAPSHOTPOLICY.CREATE", "CONFIGURATION.VALUE.EDIT"} {
		if !names[want] {
			t.Fatalf("listEventTypes lacks %s", want)
		}
	}

	// routers and system VMs
	lr := cs.Router.NewListRoutersParams()
	lr.SetListall(true)
	routers, err := cs.Router.ListRouters(lr)
	if err != nil || routers.Count != 1 || routers.Routers[0].Role != "VIRTUAL_ROUTER" || routers.Routers[0].Publicip == "" ||
		routers.Routers[0].Guestnetworkid == "" || routers.Routers[0].Zoneid != e.advZone {
		t.Fatalf("listRouters (the VMs' isolated network has one): %v %+v", err, routers)
	}
	again, err := cs.Router.ListRouters(lr)
	if err != nil || again.Routers[0].Id != routers.Routers[0].Id {
		t.Fatalf("a router's id changed: %v", err)
	}
	svms, err := cs.SystemVM.ListSystemVms(cs.SystemVM.NewListSystemVmsParams())
	if err != nil || svms.Count != 4 {
		t.Fatalf("listSystemVms (two per zone): %v %+v", err, svms)
	}
	sv := cs.SystemVM.NewListSystemVmsParams()
	sv.SetSystemvmtype("consoleproxy")
	sv.SetZoneid(e.basicZone)
	if l, err := cs.SystemVM.ListSystemVms(sv); err != nil || l.Count != 1 || !strings.HasPrefix(l.SystemVms[0].Name, "v-") {
		t.Fatalf("listSystemVms consoleproxy: %v %+v", err, l)
	}
}

// TestCloudstackCLIAdminReads reads capacity, settings, event types and
// system VMs with the Debian `cloudstack` CLI, and changes a setting.
func TestCloudstackCLIAdminReads(t *testing.T) {
	bin := testenv.LookPath(t, "cloudstack", "apt-get install cs")
	srv := cstest.Start(t, cstest.Options{})
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"listCapacity", "type=0"}, `"name": "MEMORY"`},
		{[]string{"updateConfiguration", "name=project.invite.required", "value=true"}, `"value": "true"`},
		{[]string{"listConfigurations", "name=project.invite.required"}, `"value": "true"`},
		{[]string{"listEventTypes"}, `"VM.CREATE"`},
		{[]string{"listSystemVms", "systemvmtype=secondarystoragevm"}, `"systemvmtype": "secondarystoragevm"`},
	} {
		out, err := runClient(t, srv, time.Minute, bin, c.args...)
		if err != nil || !strings.Contains(out, c.want) {
			t.Fatalf("cloudstack %v: %v\n%s", c.args, err, out)
		}
	}
}

// TestAnsibleConfiguration runs Ansible's cs_configuration (Debian
// ansible: ngine_io.cloudstack): a global setting set, set again with no
// change, and put back.
func TestAnsibleConfiguration(t *testing.T) {
	bin := testenv.LookPath(t, "ansible-playbook", "apt-get install ansible")
	python(t, "cs", "cs")
	_, err := os.Stat("/usr/lib/python3/dist-packages/ansible_collections/ngine_io/cloudstack/plugins/modules/cs_configuration.py")
	testenv.Need(t, err == nil, "ansible's ngine_io.cloudstack collection missing (install: apt-get install ansible)")
	srv := cstest.Start(t, cstest.Options{})
	out, err := runClient(t, srv, 3*time.Minute, bin, "-i", "localhost,", "-e", "ansible_python_interpreter=/usr/bin/python3",
		"testdata/ansible/configuration.yml")
	if err != nil || !strings.Contains(out, "failed=0") {
		t.Fatalf("ansible-playbook configuration: %v\n%s", err, out)
	}
}
