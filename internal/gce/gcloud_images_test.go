package gce

import (
	"net/http"
	"strings"
	"testing"

	compute "google.golang.org/api/compute/v1"
)

// TestGcloudImages makes and deletes images with the real gcloud: from an
// instance's boot disk (refused while it runs unless --force, as GCE
// does), from a snapshot, and from a gs:// file with a family; lists them
// apart from the standard images, boots an instance from one, and deletes
// them.
func TestGcloudImages(t *testing.T) {
	if testing.Short() {
		t.Skip("the gcloud scenario takes a minute")
	}
	e := newRealEnv(t)
	const zone = "sandbox-simulator-a"
	g := newGcloud(t, e, zone)
	defer func() { t.Logf("%d gcloud invocations", g.runs) }()

	g.ok("compute", "instances", "create", "vm1")
	g.fails("is already being used by", "compute", "images", "create", "img1", "--source-disk", "vm1", "--source-disk-zone", zone)
	g.ok("compute", "images", "create", "img1", "--source-disk", "vm1", "--source-disk-zone", zone, "--force", "--description", "vm1's disk")
	g.fails("already exists", "compute", "images", "create", "img1", "--source-disk", "vm1", "--source-disk-zone", zone, "--force")
	g.ok("compute", "disks", "snapshot", "vm1", "--snapshot-names", "s1")
	g.ok("compute", "images", "create", "img2", "--source-snapshot", "s1")
	g.ok("compute", "images", "create", "img3", "--source-uri", "gs://my-bucket/disk.tar.gz", "--family", "myfam")

	mustContain(t, "images list", g.ok("compute", "images", "list", "--no-standard-images", "--format=value(name,status)"),
		"img1\tREADY", "img2\tREADY", "img3\tREADY")
	mustContain(t, "images describe", g.ok("compute", "images", "describe", "img1"), "name: img1", "description: vm1's disk", "status: READY")
	mustContain(t, "describe-from-family", g.ok("compute", "images", "describe-from-family", "myfam"), "name: img3", "family: myfam")
	if out := g.ok("compute", "images", "list", "--no-standard-images", "--format=value(name,family)"); !strings.Contains(out, "img1\t\n") {
		t.Errorf("an image made without a family has none (GCE's families are only given): %q", out)
	}
	if out := g.ok("compute", "snapshots", "list", "--format=value(name)"); out != "s1\n" {
		t.Fatalf("the image's own snapshot was left behind: %q", out)
	}

	g.ok("compute", "instances", "create", "vm2", "--image", "img1")
	mustContain(t, "vm2", g.ok("compute", "instances", "describe", "vm2", "--format=value(status)"), "RUNNING")

	g.ok("compute", "images", "delete", "img2", "img3", "--quiet")
	g.fails("was not found", "compute", "images", "describe", "img2")
	g.fails("was not found", "compute", "images", "delete", "nosuch", "--quiet")
	g.ok("compute", "instances", "delete", "vm1", "vm2", "--quiet")
	g.ok("compute", "images", "delete", "img1", "--quiet")
	g.ok("compute", "snapshots", "delete", "s1", "--quiet")
}

// TestGoClientImages makes images with Google's compute/v1 client: from a
// file with a family, from a detached disk, and the refusals (two sources,
// a bad name, copying an image, deleting what does not exist).
func TestGoClientImages(t *testing.T) {
	e := newRealEnv(t)
	svc := e.service(t, e.token)
	p, zone := e.project, "sandbox-simulator-a"

	waitOp(t, svc, p, mustOp(t)(svc.Images.Insert(p, &compute.Image{Name: "ubuntu-custom", Family: "custom",
		RawDisk: &compute.ImageRawDisk{Source: "https://storage.googleapis.com/b/ubuntu.qcow2"}}).Do()))
	im, err := svc.Images.GetFromFamily(p, "custom").Do()
	if err != nil || im.Name != "ubuntu-custom" || im.Status != "READY" {
		t.Fatalf("from family: %v %+v", err, im)
	}
	waitOp(t, svc, p, mustOp(t)(svc.Disks.Insert(p, zone, &compute.Disk{Name: "data", SizeGb: 5}).Do()))
	_, err = svc.Images.Insert(p, &compute.Image{Name: "from-data", SourceDisk: "zones/" + zone + "/disks/data"}).Do()
	wantAPIError(t, err, http.StatusBadRequest, "invalid") // never attached: nothing to snapshot yet
	waitOp(t, svc, p, mustOp(t)(svc.Instances.Insert(p, zone, &compute.Instance{Name: "vm1", MachineType: "zones/" + zone + "/machineTypes/small",
		Disks: []*compute.AttachedDisk{{Boot: true, InitializeParams: &compute.AttachedDiskInitializeParams{SourceImage: "projects/debian-cloud/global/images/family/debian-12"}}}}).Do()))
	waitOp(t, svc, p, mustOp(t)(svc.Instances.AttachDisk(p, zone, "vm1", &compute.AttachedDisk{Source: "zones/" + zone + "/disks/data"}).Do()))
	_, err = svc.Images.Insert(p, &compute.Image{Name: "from-data", SourceDisk: "zones/" + zone + "/disks/data"}).Do()
	wantAPIError(t, err, http.StatusBadRequest, "resourceInUseByAnotherResource")
	waitOp(t, svc, p, mustOp(t)(svc.Images.Insert(p, &compute.Image{Name: "from-data", SourceDisk: "zones/" + zone + "/disks/data"}).ForceCreate(true).Do()))
	if im, err := svc.Images.Get(p, "from-data").Do(); err != nil || im.DiskSizeGb != 5 {
		t.Fatalf("from a disk: %v %+v", err, im)
	}
	_, err = svc.Images.Insert(p, &compute.Image{Name: "two", SourceDisk: "zones/" + zone + "/disks/data",
		RawDisk: &compute.ImageRawDisk{Source: "gs://b/o"}}).Do()
	wantAPIError(t, err, http.StatusBadRequest, "invalid")
	_, err = svc.Images.Insert(p, &compute.Image{Name: "Bad_Name", RawDisk: &compute.ImageRawDisk{Source: "gs://b/o"}}).Do()
	wantAPIError(t, err, http.StatusBadRequest, "invalid")
	_, err = svc.Images.Insert(p, &compute.Image{Name: "copy", SourceImage: "global/images/from-data"}).Do()
	wantAPIError(t, err, http.StatusBadRequest, "unsupported")
	_, err = svc.Images.Delete(p, "nosuch").Do()
	wantAPIError(t, err, http.StatusNotFound, "notFound")
	for _, n := range []string{"ubuntu-custom", "from-data"} {
		waitOp(t, svc, p, mustOp(t)(svc.Images.Delete(p, n).Do()))
	}
	_, err = svc.Images.Get(p, "from-data").Do()
	wantAPIError(t, err, http.StatusNotFound, "notFound")
}
