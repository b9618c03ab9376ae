package cloudstack_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestLibcloudStorage drives the storage family with Debian's
// python3-libcloud (testdata/libcloud_storage.py): volumes from a fixed and
// a custom disk offering, attach and detach, snapshots, and the refusals
// of a second attach and of deleting an attached volume.
func TestLibcloudStorage(t *testing.T) {
	py := python(t, "python3-libcloud", "libcloud")
	srv := cstest.Start(t, cstest.Options{})
	out, err := runClient(t, srv, 2*time.Minute, py, "testdata/libcloud_storage.py")
	if err != nil || !strings.HasSuffix(strings.TrimSpace(out), "OK") {
		t.Fatalf("libcloud: %v\n%s", err, out)
	}
}

// TestSDKStorage drives volumes and snapshots with cloudstack-go, the
// library Terraform's provider uses: a data disk at deploy is device 1,
// attached volumes take the next free device (skipping 3, the CD-ROM's),
// resize refuses to shrink without shrinkok, a snapshot makes a volume of
// its size, revert needs the VM stopped, and a detach by VM and device id
// finds the volume.
func TestSDKStorage(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	cs := e.cs
	offering := func(name string) string {
		id, _, err := cs.DiskOffering.GetDiskOfferingID(name)
		if err != nil {
			t.Fatalf("disk offering %s: %v", name, err)
		}
		return id
	}
	small, custom := offering("Small"), offering("Custom")
	dp := cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.advZone)
	dp.SetName("disks")
	dp.SetDiskofferingid(small)
	vm, err := cs.VirtualMachine.DeployVirtualMachine(dp)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	devices := func() map[int64]string {
		lp := cs.Volume.NewListVolumesParams()
		lp.SetVirtualmachineid(vm.Id)
		l, err := cs.Volume.ListVolumes(lp)
		if err != nil {
			t.Fatalf("listVolumes: %v", err)
		}
		out := map[int64]string{}
		for _, v := range l.Volumes {
			out[v.Deviceid] = v.Type
		}
		return out
	}
	if d := devices(); d[0] != "ROOT" || d[1] != "DATADISK" || len(d) != 2 {
		t.Fatalf("deployed with a disk offering: %v", d)
	}

	var vols []string
	for i := 0; i < 3; i++ {
		cp := cs.Volume.NewCreateVolumeParams()
		cp.SetName("extra")
		cp.SetDiskofferingid(custom)
		cp.SetSize(int64(10 + i))
		cp.SetZoneid(e.advZone)
		v, err := cs.Volume.CreateVolume(cp)
		if err != nil {
			t.Fatalf("createVolume: %v", err)
		}
		if v.State != "Allocated" || v.Size != int64(10+i)<<30 || v.Diskofferingid != custom {
			t.Fatalf("new volume: %+v", v)
		}
		if _, err := cs.Volume.AttachVolume(cs.Volume.NewAttachVolumeParams(v.Id, vm.Id)); err != nil {
			t.Fatalf("attachVolume: %v", err)
		}
		vols = append(vols, v.Id)
	}
	if d := devices(); d[2] != "DATADISK" || d[3] != "" || d[4] != "DATADISK" || d[5] != "DATADISK" {
		t.Fatalf("device ids: %v", d)
	}

	// resize: growing works, shrinking needs shrinkok
	rp := cs.Volume.NewResizeVolumeParams(vols[0])
	rp.SetSize(8)
	if _, err := cs.Volume.ResizeVolume(rp); err == nil || !strings.Contains(err.Error(), "shrinkok") {
		t.Fatalf("shrink without shrinkok: %v", err)
	}
	rp.SetSize(30)
	if v, err := cs.Volume.ResizeVolume(rp); err != nil || v.Size != 30<<30 {
		t.Fatalf("resize: %v %+v", err, v)
	}

	// a snapshot, a volume from it, attached at creation
	snap, err := cs.Snapshot.CreateSnapshot(cs.Snapshot.NewCreateSnapshotParams(vols[0]))
	if err != nil || snap.State != "BackedUp" || snap.Volumeid != vols[0] || snap.Virtualsize != 30<<30 {
		t.Fatalf("createSnapshot: %v %+v", err, snap)
	}
	if !strings.HasPrefix(snap.Name, "disks_extra_") {
		t.Errorf("default snapshot name %q", snap.Name)
	}
	cp := cs.Volume.NewCreateVolumeParams()
	cp.SetSnapshotid(snap.Id)
	cp.SetName("restored")
	restored, err := cs.Volume.CreateVolume(cp)
	if err != nil || restored.Size != 30<<30 || restored.State != "Ready" || restored.Snapshotid != snap.Id {
		t.Fatalf("volume from snapshot: %v %+v", err, restored)
	}

	// revert needs the VM stopped
	if _, err := cs.Snapshot.RevertSnapshot(cs.Snapshot.NewRevertSnapshotParams(snap.Id)); err == nil {
		t.Fatal("revert with the VM running accepted")
	}
	if _, err := cs.VirtualMachine.StopVirtualMachine(cs.VirtualMachine.NewStopVirtualMachineParams(vm.Id)); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := cs.Snapshot.RevertSnapshot(cs.Snapshot.NewRevertSnapshotParams(snap.Id)); err != nil {
		t.Fatalf("revertSnapshot: %v", err)
	}

	// a template from the stopped VM's root volume: listed as the
	// account's own (USER, in the volume's zone), updated, then deleted
	lv := cs.Volume.NewListVolumesParams()
	lv.SetVirtualmachineid(vm.Id)
	lv.SetType("ROOT")
	roots, err := cs.Volume.ListVolumes(lv)
	if err != nil || roots.Count != 1 {
		t.Fatalf("root volume: %v %+v", err, roots)
	}
	ct := cs.Template.NewCreateTemplateParams("golden", "golden", vm.Guestosid)
	ct.SetVolumeid(roots.Volumes[0].Id)
	tpl, err := cs.Template.CreateTemplate(ct)
	if err != nil || tpl.Templatetype != "USER" || tpl.Zoneid != e.advZone || !tpl.Isready || tpl.Ispublic {
		t.Fatalf("createTemplate: %v %+v", err, tpl)
	}
	lt := cs.Template.NewListTemplatesParams("self")
	lt.SetId(tpl.Id)
	if l, err := cs.Template.ListTemplates(lt); err != nil || l.Count != 1 || l.Templates[0].Zoneid != e.advZone {
		t.Fatalf("listTemplates self: %v %+v", err, l)
	}
	ut := cs.Template.NewUpdateTemplateParams(tpl.Id)
	ut.SetDisplaytext("golden image")
	// (cloudstack-go decodes a sync command's object from one level too
	// high, as against a real server: the update is checked by a list)
	if _, err := cs.Template.UpdateTemplate(ut); err != nil {
		t.Fatalf("updateTemplate: %v", err)
	}
	if l, err := cs.Template.ListTemplates(lt); err != nil || l.Count != 1 || l.Templates[0].Displaytext != "golden image" {
		t.Fatalf("after updateTemplate: %v %+v", err, l)
	}
	dp2 := cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, tpl.Id, e.advZone)
	dp2.SetStartvm(false)
	if _, err := cs.VirtualMachine.DeployVirtualMachine(dp2); err != nil {
		t.Fatalf("deploy from the new template: %v", err)
	}
	if _, err := cs.Template.DeleteTemplate(cs.Template.NewDeleteTemplateParams(tpl.Id)); err == nil || !strings.Contains(err.Error(), "forced=true") {
		t.Fatalf("delete of a template in use: %v", err)
	}
	dt0 := cs.Template.NewDeleteTemplateParams(tpl.Id)
	dt0.SetForced(true)
	if _, err := cs.Template.DeleteTemplate(dt0); err != nil {
		t.Fatalf("deleteTemplate forced: %v", err)
	}

	// detach by VM and device id
	dt := cs.Volume.NewDetachVolumeParams()
	dt.SetVirtualmachineid(vm.Id)
	dt.SetDeviceid(4)
	if v, err := cs.Volume.DetachVolume(dt); err != nil || v.Id != vols[1] || v.Virtualmachineid != "" {
		t.Fatalf("detach by device: %v %+v", err, v)
	}
	if _, err := cs.Volume.DeleteVolume(cs.Volume.NewDeleteVolumeParams(vols[1])); err != nil {
		t.Fatalf("deleteVolume: %v", err)
	}
	if _, err := cs.Volume.DeleteVolume(cs.Volume.NewDeleteVolumeParams(vols[2])); err == nil {
		t.Fatal("attached volume deleted")
	}
	ls := cs.Snapshot.NewListSnapshotsParams()
	ls.SetVolumeid(vols[0])
	if l, err := cs.Snapshot.ListSnapshots(ls); err != nil || l.Count != 1 {
		t.Fatalf("listSnapshots: %v %+v", err, l)
	}
	if _, err := cs.Snapshot.DeleteSnapshot(cs.Snapshot.NewDeleteSnapshotParams(snap.Id)); err != nil {
		t.Fatalf("deleteSnapshot: %v", err)
	}
	if l, err := cs.Snapshot.ListSnapshots(cs.Snapshot.NewListSnapshotsParams()); err != nil || l.Count != 0 {
		t.Fatalf("snapshots after delete: %v %+v", err, l)
	}
}

// TestCloudstackCLIStorage drives volumes and snapshots with the Debian
// `cloudstack` CLI, which waits for each async job (polling every 2 s):
// createVolume with the camel-case names users type, createSnapshot,
// listSnapshots, deleteSnapshot and deleteVolume.
func TestCloudstackCLIStorage(t *testing.T) {
	bin := testenv.LookPath(t, "cloudstack", "apt-get install cs")
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	off, _, err := e.cs.DiskOffering.GetDiskOfferingID("Custom")
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) map[string]any {
		t.Helper()
		out, err := runClient(t, srv, time.Minute, bin, args...)
		var m map[string]any
		if err != nil || json.Unmarshal([]byte(out), &m) != nil {
			t.Fatalf("cloudstack %v: %v\n%s", args, err, out)
		}
		return m
	}
	vol := run("createVolume", "name=cli-data", "diskOfferingId="+off, "zoneId="+e.advZone, "size=12")["volume"].(map[string]any)
	if vol["name"] != "cli-data" || vol["size"] != float64(12<<30) || vol["state"] != "Allocated" {
		t.Fatalf("createVolume: %v", vol)
	}
	id := vol["id"].(string)
	if l := run("listVolumes", "id="+id); l["count"] != float64(1) {
		t.Fatalf("listVolumes: %v", l)
	}
	// a volume never attached is not on primary storage: no snapshot
	out, err := runClient(t, srv, time.Minute, bin, "createSnapshot", "volumeid="+id)
	if err == nil || !strings.Contains(out, "is not in Ready state but Allocated") {
		t.Fatalf("snapshot of an Allocated volume: %v\n%s", err, out)
	}
	dp := e.cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.advZone)
	vm, err := e.cs.VirtualMachine.DeployVirtualMachine(dp)
	if err != nil {
		t.Fatal(err)
	}
	run("attachVolume", "id="+id, "virtualMachineId="+vm.Id)
	snap := run("createSnapshot", "volumeid="+id, "name=cli-snap")["snapshot"].(map[string]any)
	if snap["name"] != "cli-snap" || snap["state"] != "BackedUp" || snap["volumeid"] != id {
		t.Fatalf("createSnapshot: %v", snap)
	}
	if l := run("listSnapshots", "volumeid="+id); l["count"] != float64(1) {
		t.Fatalf("listSnapshots: %v", l)
	}
	run("deleteSnapshot", "id="+snap["id"].(string))
	run("detachVolume", "id="+id)
	if r := run("deleteVolume", "id="+id); r["success"] != true {
		t.Fatalf("deleteVolume: %v", r)
	}
}
