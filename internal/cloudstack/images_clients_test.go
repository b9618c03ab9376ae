package cloudstack_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestSDKImages drives registered images with cloudstack-go: a template
// registered from a URL and deployed from, an ISO registered in every
// zone that listTemplates does not show, attached to and detached from a
// VM (listVirtualMachines names it), refused for deletion while in use,
// a VM installed from a bootable ISO onto a disk offering's root disk,
// and the real server's refusals.
func TestSDKImages(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	cs := e.cs
	osTypes, err := cs.GuestOS.ListOsTypes(cs.GuestOS.NewListOsTypesParams())
	if err != nil || len(osTypes.OsTypes) == 0 {
		t.Fatalf("listOsTypes: %v", err)
	}
	osType := osTypes.OsTypes[0].Id

	rp := cs.Template.NewRegisterTemplateParams("alpine", "QCOW2", "Simulator", "alpine", "http://images.example.com/alpine.qcow2")
	rp.SetOstypeid(osType)
	rp.SetZoneid(e.advZone)
	reg, err := cs.Template.RegisterTemplate(rp)
	if err != nil || reg.Count != 1 || !reg.RegisterTemplate[0].Isready || reg.RegisterTemplate[0].Zoneid != e.advZone {
		t.Fatalf("registerTemplate: %v %+v", err, reg)
	}
	tpl := reg.RegisterTemplate[0].Id
	bad := cs.Template.NewRegisterTemplateParams("x", "EXE", "Simulator", "x", "http://images.example.com/x")
	bad.SetOstypeid(osType)
	if _, err := cs.Template.RegisterTemplate(bad); err == nil || !strings.Contains(err.Error(), "Image format: EXE is incorrect") {
		t.Fatalf("a bad format: %v", err)
	}
	bad = cs.Template.NewRegisterTemplateParams("x", "QCOW2", "Simulator", "x", "ftp://images.example.com/x")
	bad.SetOstypeid(osType)
	if _, err := cs.Template.RegisterTemplate(bad); err == nil || !strings.Contains(err.Error(), "Unsupported scheme for url") {
		t.Fatalf("a bad scheme: %v", err)
	}
	dp := cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, tpl, e.advZone)
	dp.SetName("from-registered")
	vm, err := cs.VirtualMachine.DeployVirtualMachine(dp)
	if err != nil || vm.Templateid != tpl {
		t.Fatalf("deploy from a registered template: %v", err)
	}

	ip := cs.ISO.NewRegisterIsoParams("rescue disk", "rescue", "http://images.example.com/rescue.iso", "-1")
	ip.SetOstypeid(osType)
	isoReg, err := cs.ISO.RegisterIso(ip)
	if err != nil || isoReg.Format != "ISO" || !isoReg.Bootable || !isoReg.CrossZones {
		t.Fatalf("registerIso: %v %+v", err, isoReg)
	}
	iso := isoReg.Id
	lp := cs.Template.NewListTemplatesParams("self")
	lp.SetName("alpine")
	if l, err := cs.Template.ListTemplates(lp); err != nil || l.Count != 1 || l.Templates[0].Id != tpl {
		t.Fatalf("listTemplates self: %v %+v", err, l)
	}
	lp.SetName("rescue")
	if l, err := cs.Template.ListTemplates(lp); err != nil || l.Count != 0 {
		t.Fatalf("listTemplates shows an ISO: %v %+v", err, l)
	}
	li := cs.ISO.NewListIsosParams()
	li.SetIsofilter("self")
	if l, err := cs.ISO.ListIsos(li); err != nil || l.Count != 2 || l.Isos[0].Id != iso {
		t.Fatalf("listIsos self (one row per zone): %v %+v", err, l)
	}
	if _, err := cs.Template.DeleteTemplate(cs.Template.NewDeleteTemplateParams(iso)); err == nil || !strings.Contains(err.Error(), "Please specify a valid template.") {
		t.Fatalf("deleteTemplate of an ISO: %v", err)
	}

	// into the CD-ROM and out
	att, err := cs.ISO.AttachIso(cs.ISO.NewAttachIsoParams(iso, vm.Id))
	if err != nil || att.Isoid != iso || att.Isoname != "rescue" {
		t.Fatalf("attachIso: %v %+v", err, att)
	}
	if _, err := cs.ISO.AttachIso(cs.ISO.NewAttachIsoParams(iso, vm.Id)); err == nil || !strings.Contains(err.Error(), "already has an ISO attached") {
		t.Fatalf("a second attach: %v", err)
	}
	if _, err := cs.ISO.DeleteIso(cs.ISO.NewDeleteIsoParams(iso)); err == nil || !strings.Contains(err.Error(), "Unable to delete iso, as it's used by other vms") {
		t.Fatalf("deleteIso in use: %v", err)
	}
	if det, err := cs.ISO.DetachIso(cs.ISO.NewDetachIsoParams(vm.Id)); err != nil || det.Isoid != "" {
		t.Fatalf("detachIso: %v %+v", err, det)
	}
	if _, err := cs.ISO.DetachIso(cs.ISO.NewDetachIsoParams(vm.Id)); err == nil || !strings.Contains(err.Error(), "The specified VM has no ISO attached to it.") {
		t.Fatalf("a second detach: %v", err)
	}

	// installing from the ISO takes a disk offering for the root disk
	small, _, err := cs.DiskOffering.GetDiskOfferingID("Small")
	if err != nil {
		t.Fatalf("disk offering: %v", err)
	}
	dp = cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, iso, e.advZone)
	if _, err := cs.VirtualMachine.DeployVirtualMachine(dp); err == nil || !strings.Contains(err.Error(), "requires a disk offering") {
		t.Fatalf("deploy from an ISO without a disk offering: %v", err)
	}
	dp.SetDiskofferingid(small)
	dp.SetName("installed")
	ivm, err := cs.VirtualMachine.DeployVirtualMachine(dp)
	if err != nil || ivm.Isoid != iso || ivm.State != "Running" {
		t.Fatalf("deploy from an ISO: %v %+v", err, ivm)
	}
	vp := cs.Volume.NewListVolumesParams()
	vp.SetVirtualmachineid(ivm.Id)
	if vols, err := cs.Volume.ListVolumes(vp); err != nil || vols.Count != 1 || vols.Volumes[0].Type != "ROOT" {
		t.Fatalf("the installed VM's disks: %v %+v", err, vols)
	}
}

// TestAnsibleImages runs Ansible's cs_template and cs_iso (Debian ansible:
// ngine_io.cloudstack): register from a URL, idempotence, removal.
func TestAnsibleImages(t *testing.T) {
	bin := testenv.LookPath(t, "ansible-playbook", "apt-get install ansible")
	python(t, "cs", "cs")
	_, err := os.Stat("/usr/lib/python3/dist-packages/ansible_collections/ngine_io/cloudstack/plugins/modules/cs_iso.py")
	testenv.Need(t, err == nil, "ansible's ngine_io.cloudstack collection missing (install: apt-get install ansible)")
	srv := cstest.Start(t, cstest.Options{})
	out, err := runClient(t, srv, 3*time.Minute, bin, "-i", "localhost,", "-e", "ansible_python_interpreter=/usr/bin/python3",
		"testdata/ansible/images.yml")
	if err != nil || !strings.Contains(out, "failed=0") {
		t.Fatalf("ansible-playbook images: %v\n%s", err, out)
	}
}
