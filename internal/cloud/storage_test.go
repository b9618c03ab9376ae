package cloud

import (
	"context"
	"testing"

	"github.com/stratus-cloud/stratus/internal/store/memory"
)

// TestDeletedAccountTakesItsStorage: deleting an account deletes its data
// volumes (detached, and attached to its VMs) and its snapshots, in the
// same transaction as the rest of the purge.
func TestDeletedAccountTakesItsStorage(t *testing.T) {
	y := smallDC + "templates: [{name: t1, osType: Other, size: 1}]\ndiskOfferings: [{name: d5, size: 5}]\n"
	s := start(t, memory.New(memory.Options{}), y, nil)
	ctx := context.Background()
	zone, so, tpl := ids(s)
	admin := s.Admin()
	var off string
	s.Read(func(r Reader) { off = r.DiskOfferings()[0].ID })
	acc, _, err := s.CreateAccount(ctx, admin, CreateAccountRequest{Username: "bob", Password: "pw", Email: "b@x", FirstName: "b", LastName: "b",
		Account: "bob", DomainID: admin.Account.DomainID})
	if err != nil {
		t.Fatal(err)
	}
	vm, j, err := s.DeployVM(ctx, admin, DeployRequest{ZoneID: zone, ServiceOfferingID: so, TemplateID: tpl, DiskOfferingID: off, StartVM: true,
		Account: "bob", DomainID: admin.Account.DomainID})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, s, j.ID)
	v, _, err := s.CreateVolume(ctx, admin, VolumeRequest{Name: "loose", ZoneID: zone, DiskOfferingID: off, Account: "bob", DomainID: admin.Account.DomainID})
	if err != nil {
		t.Fatal(err)
	}
	var data *Volume
	s.Read(func(r Reader) {
		for _, x := range r.VolumesOf(vm.ID) {
			if x.Type == "DATADISK" {
				data = x
			}
		}
	})
	if data == nil || DeviceOf(data) != 1 {
		t.Fatalf("deploy-time data disk: %+v", data)
	}
	j, err = s.CreateSnapshot(ctx, admin, data.ID, "", "createSnapshot")
	if err != nil {
		t.Fatal(err)
	}
	if got := waitJob(t, s, j.ID); got.Status != JobSucceeded {
		t.Fatalf("snapshot job: %+v", got)
	}
	j, err = s.DeleteAccount(ctx, admin, acc.ID, "deleteAccount")
	if err != nil {
		t.Fatal(err)
	}
	if got := waitJob(t, s, j.ID); got.Status != JobSucceeded {
		t.Fatalf("deleteAccount: %+v", got)
	}
	s.Read(func(r Reader) {
		for _, x := range r.Volumes() {
			if x.AccountID == acc.ID {
				t.Errorf("volume %s (%s) of the deleted account left", x.Name, x.ID)
			}
		}
		if _, ok := r.Volume(v.ID); ok {
			t.Error("detached volume left")
		}
		if n := len(r.Snapshots()); n != 0 {
			t.Errorf("%d snapshots left", n)
		}
	})
}
