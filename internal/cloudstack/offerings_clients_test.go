package cloudstack_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestSDKOfferings drives offerings with cloudstack-go: a compute and a
// disk offering created, listed, renamed and used; deleted ones vanish
// from lists and refuse new VMs and volumes, while the VM on one keeps it;
// a customized compute offering and a user's create are refused.
func TestSDKOfferings(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	cs := e.cs
	sp := cs.ServiceOffering.NewCreateServiceOfferingParams("c4m8", "c4m8")
	sp.SetCpunumber(4)
	sp.SetCpuspeed(2000)
	sp.SetMemory(8192)
	so, err := cs.ServiceOffering.CreateServiceOffering(sp)
	if err != nil || so.Cpunumber != 4 || so.Memory != 8192 || so.Displaytext != "c4m8" {
		t.Fatalf("createServiceOffering: %v %+v", err, so)
	}
	bad := cs.ServiceOffering.NewCreateServiceOfferingParams("tiny", "tiny")
	bad.SetCpunumber(1)
	bad.SetCpuspeed(100)
	bad.SetMemory(16)
	if _, err := cs.ServiceOffering.CreateServiceOffering(bad); err == nil || !strings.Contains(err.Error(), "specify the memory value between 32") {
		t.Fatalf("16 MB: %v", err)
	}
	dp := cs.DiskOffering.NewCreateDiskOfferingParams("d20", "d20")
	dp.SetDisksize(20)
	do, err := cs.DiskOffering.CreateDiskOffering(dp)
	if err != nil || do.Disksize != 20 {
		t.Fatalf("createDiskOffering: %v %+v", err, do)
	}
	up := cs.ServiceOffering.NewUpdateServiceOfferingParams(so.Id)
	up.SetDisplaytext("four CPUs")
	if u, err := cs.ServiceOffering.UpdateServiceOffering(up); err != nil || u.Displaytext != "four CPUs" {
		t.Fatalf("updateServiceOffering: %v %+v", err, u)
	}
	vp := cs.VirtualMachine.NewDeployVirtualMachineParams(so.Id, e.template, e.advZone)
	vp.SetDiskofferingid(do.Id)
	vm, err := cs.VirtualMachine.DeployVirtualMachine(vp)
	if err != nil || vm.Serviceofferingname != "c4m8" || vm.Cpunumber != 4 {
		t.Fatalf("deploy on the new offering: %v %+v", err, vm)
	}

	if _, err := cs.ServiceOffering.DeleteServiceOffering(cs.ServiceOffering.NewDeleteServiceOfferingParams(so.Id)); err != nil {
		t.Fatalf("deleteServiceOffering: %v", err)
	}
	if _, err := cs.DiskOffering.DeleteDiskOffering(cs.DiskOffering.NewDeleteDiskOfferingParams(do.Id)); err != nil {
		t.Fatalf("deleteDiskOffering: %v", err)
	}
	if _, n, err := cs.ServiceOffering.GetServiceOfferingID("c4m8"); err == nil || n != 0 {
		t.Fatalf("a deleted offering is listed: %v %d", err, n)
	}
	if _, err := cs.VirtualMachine.DeployVirtualMachine(vp); err == nil {
		t.Fatal("deploy on a deleted offering accepted")
	}
	cv := cs.Volume.NewCreateVolumeParams()
	cv.SetDiskofferingid(do.Id)
	cv.SetZoneid(e.advZone)
	cv.SetName("late")
	if _, err := cs.Volume.CreateVolume(cv); err == nil {
		t.Fatal("a volume on a deleted disk offering accepted")
	}
	got, _, err := cs.VirtualMachine.GetVirtualMachineByID(vm.Id)
	if err != nil || got.Serviceofferingid != so.Id || got.State != "Running" {
		t.Fatalf("the VM on a deleted offering: %v %+v", err, got)
	}
	if _, err := cs.VirtualMachine.RebootVirtualMachine(cs.VirtualMachine.NewRebootVirtualMachineParams(vm.Id)); err != nil {
		t.Fatalf("reboot on a deleted offering: %v", err)
	}

	cust := cs.ServiceOffering.NewCreateServiceOfferingParams("custom", "custom")
	cust.SetCustomized(true)
	if _, err := cs.ServiceOffering.CreateServiceOffering(cust); err == nil || !strings.Contains(err.Error(), "fixed-size") {
		t.Fatalf("a customized offering: %v", err)
	}
}

// TestAnsibleOfferings runs Ansible's cs_service_offering and
// cs_disk_offering (Debian ansible: ngine_io.cloudstack).
func TestAnsibleOfferings(t *testing.T) {
	bin := testenv.LookPath(t, "ansible-playbook", "apt-get install ansible")
	python(t, "cs", "cs")
	_, err := os.Stat("/usr/lib/python3/dist-packages/ansible_collections/ngine_io/cloudstack/plugins/modules/cs_service_offering.py")
	testenv.Need(t, err == nil, "ansible's ngine_io.cloudstack collection missing (install: apt-get install ansible)")
	srv := cstest.Start(t, cstest.Options{})
	out, err := runClient(t, srv, 3*time.Minute, bin, "-i", "localhost,", "-e", "ansible_python_interpreter=/usr/bin/python3",
		"testdata/ansible/offerings.yml")
	if err != nil || !strings.Contains(out, "failed=0") {
		t.Fatalf("ansible-playbook offerings: %v\n%s", err, out)
	}
}
