package gce

import (
	"net/url"
	"path"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// Images a project makes (images.insert) and deletes (images.delete). An
// image is a CloudStack template in every zone of the project's account:
//   - from a disk (sourceDisk): a snapshot of the volume, a template from
//     that snapshot, then the snapshot removed, so a disk of a running
//     instance needs forceCreate as on GCE;
//   - from a snapshot (sourceSnapshot): a template from it;
//   - from a file (rawDisk.source, gs://BUCKET/OBJECT or an https URL):
//     registerTemplate from that URL (the simulator fetches nothing).
// Copying another image (sourceImage) is not supported.

// imageInsert is the part of compute#image an insert reads.
type imageInsert struct {
	Name           string `json:"name"`
	Description    string `json:"description"`
	Family         string `json:"family"`
	SourceDisk     string `json:"sourceDisk"`
	SourceSnapshot string `json:"sourceSnapshot"`
	SourceImage    string `json:"sourceImage"`
	RawDisk        *struct {
		Source string `json:"source"`
	} `json:"rawDisk"`
}

func (c *call) imagePath(name string) string {
	return "projects/" + c.project + "/global/images/" + name
}

func (g *Gateway) insertImage(c *call) (any, error) {
	var in imageInsert
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if !validName(in.Name) {
		return nil, errInvalid("Invalid value for field 'resource.name': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", in.Name)
	}
	if in.Family != "" && !validName(in.Family) {
		return nil, errInvalid("Invalid value for field 'resource.family': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", in.Family)
	}
	raw := ""
	if in.RawDisk != nil {
		raw = in.RawDisk.Source
	}
	sources := 0
	for _, s := range []string{in.SourceDisk, in.SourceSnapshot, in.SourceImage, raw} {
		if s != "" {
			sources++
		}
	}
	if sources != 1 {
		return nil, errInvalid("Invalid value for field 'resource': '%s'. Exactly one of rawDisk.source, sourceDisk, sourceImage or sourceSnapshot must be specified.", in.Name)
	}
	if in.SourceImage != "" {
		return nil, errUnsupported("Creating an image from another image (sourceImage)")
	}
	if _, ok, err := c.findImage(c.project, in.Name); err != nil {
		return nil, err
	} else if ok {
		return nil, errAlreadyExists(c.imagePath(in.Name))
	}
	desc := in.Description
	if desc == "" {
		desc = in.Name
	}
	var (
		tplID string
		jobs  []string
		err   error
	)
	switch {
	case raw != "":
		tplID, err = c.registerImage(in.Name, desc, raw)
	case in.SourceSnapshot != "":
		tplID, jobs, err = c.imageFromSnapshot(in.Name, desc, in.SourceSnapshot)
	default:
		tplID, jobs, err = c.imageFromDisk(in.Name, desc, in.SourceDisk, strings.EqualFold(c.r.URL.Query().Get("forceCreate"), "true"))
	}
	if err != nil {
		return nil, err
	}
	if in.Family != "" {
		res, err := c.cs.Async(c.ctx, "createTags", csclient.Params("resourcetype", "Template", "resourceids", tplID,
			"tags[0].key", tagImageFamily, "tags[0].value", in.Family))
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, res.JobID)
	}
	return c.startOp(opScope{}, "insert", "global/images/"+in.Name, idOf("image", tplID), jobs, nil)
}

// registerImage registers a template from a gs:// or https:// URL.
func (c *call) registerImage(name, desc, source string) (string, error) {
	u, err := url.Parse(source)
	if err != nil || u.Host == "" {
		return "", errInvalid("Invalid value for field 'resource.rawDisk.source': '%s'. The URL is malformed.", source)
	}
	switch u.Scheme {
	case "gs":
		u = &url.URL{Scheme: "https", Host: "storage.googleapis.com", Path: "/" + u.Host + u.Path}
	case "https", "http":
	default:
		return "", errInvalid("Invalid value for field 'resource.rawDisk.source': '%s'. The URL is malformed.", source)
	}
	format := "RAW"
	switch strings.ToLower(path.Ext(u.Path)) {
	case ".qcow2":
		format = "QCOW2"
	case ".vhd":
		format = "VHD"
	case ".ova":
		format = "OVA"
	case ".vmdk":
		format = "VMDK"
	}
	osType, err := c.osTypeID(name)
	if err != nil {
		return "", err
	}
	var out struct {
		Template []csclient.Template `json:"template"`
	}
	if err := c.cs.Do(c.ctx, "registerTemplate", csclient.Params("name", name, "displaytext", desc, "url", u.String(), "format", format,
		"hypervisor", "Simulator", "zoneid", "-1", "ostypeid", osType), &out); err != nil {
		return "", err
	}
	if len(out.Template) == 0 {
		return "", errInvalid("registerTemplate answered no template")
	}
	return out.Template[0].ID, nil
}

// imageFromSnapshot makes a template of a snapshot (…/global/snapshots/S).
func (c *call) imageFromSnapshot(name, desc, ref string) (string, []string, error) {
	snapName := afterSegment(ref, "snapshots")
	if snapName == "" {
		return "", nil, errInvalid("Invalid value for field 'resource.sourceSnapshot': '%s'. The URL is malformed.", ref)
	}
	s, err := c.findSnapshot(snapName)
	if err != nil {
		return "", nil, err
	}
	osType, err := c.osTypeOfVolume(s.VolumeID, name)
	if err != nil {
		return "", nil, err
	}
	res, err := c.cs.Async(c.ctx, "createTemplate", csclient.Params("name", name, "displaytext", desc, "snapshotid", s.ID, "ostypeid", osType))
	if err != nil {
		return "", nil, err
	}
	return res.ID, []string{res.JobID}, nil
}

// imageFromDisk makes a template of a disk (…/zones/Z/disks/D) through a
// snapshot that is removed afterwards. A disk of a running instance needs
// force, as GCE asks.
func (c *call) imageFromDisk(name, desc, ref string, force bool) (string, []string, error) {
	zone, disk := afterSegment(ref, "zones"), afterSegment(ref, "disks")
	if zone == "" || disk == "" {
		return "", nil, errInvalid("Invalid value for field 'resource.sourceDisk': '%s'. The URL is malformed.", ref)
	}
	z, err := c.zoneByName(zone)
	if err != nil {
		return "", nil, err
	}
	v, err := c.findDisk(z, disk)
	if err != nil {
		return "", nil, err
	}
	if v.VirtualMachineID != "" && !force {
		vms, err := c.cs.ListVirtualMachines(c.ctx, csclient.Params("id", v.VirtualMachineID))
		if err != nil {
			return "", nil, err
		}
		if len(vms) == 1 && vms[0].State == "Running" {
			return "", nil, c.errDiskInUse(z.name, disk, gceName(vms[0].Name))
		}
	}
	if v.State == "Allocated" {
		// A CloudStack volume never attached has no storage yet and cannot
		// be snapshotted: a stratus shortcut GCE does not have.
		return "", nil, errInvalid("The disk resource '%s' has never been attached to an instance, so there is nothing to make an image of yet.", c.diskPath(z.name, disk))
	}
	osType, err := c.osTypeOfVolume(v.ID, name)
	if err != nil {
		return "", nil, err
	}
	var snap csclient.Snapshot
	if err := c.cs.AsyncWait(c.ctx, "createSnapshot", csclient.Params("volumeid", v.ID, "name", "image-"+name), "snapshot", &snap); err != nil {
		return "", nil, err
	}
	res, err := c.cs.Async(c.ctx, "createTemplate", csclient.Params("name", name, "displaytext", desc, "snapshotid", snap.ID, "ostypeid", osType))
	del, delErr := c.cs.Async(c.ctx, "deleteSnapshot", csclient.Params("id", snap.ID)) // the snapshot goes either way
	if err != nil {
		return "", nil, err
	}
	if delErr != nil {
		return "", nil, delErr
	}
	return res.ID, []string{res.JobID, del.JobID}, nil
}

// osTypeOfVolume is the OS type of the template a volume came from, or a
// guess from the image name for a blank disk.
func (c *call) osTypeOfVolume(volumeID, name string) (string, error) {
	vols, err := c.cs.ListVolumes(c.ctx, csclient.Params("id", volumeID))
	if err != nil {
		return "", err
	}
	if len(vols) == 1 && vols[0].TemplateID != "" {
		ts, err := c.cs.ListTemplates(c.ctx, "executable")
		if err != nil {
			return "", err
		}
		for _, t := range ts {
			if t.ID == vols[0].TemplateID && t.OSTypeID != "" {
				return t.OSTypeID, nil
			}
		}
	}
	return c.osTypeID(name)
}

// osTypeID picks the CloudStack OS type an image name suggests (debian-…
// is Debian), else a generic Linux one, else the first there is.
func (c *call) osTypeID(name string) (string, error) {
	var out struct {
		OSType []struct {
			ID          string `json:"id"`
			Description string `json:"description"`
		} `json:"ostype"`
	}
	if err := c.cs.Do(c.ctx, "listOsTypes", nil, &out); err != nil {
		return "", err
	}
	if len(out.OSType) == 0 {
		return "", errInvalid("the cloud has no OS types to give image '%s'", name)
	}
	first := strings.SplitN(name, "-", 2)[0]
	best := ""
	for _, o := range out.OSType {
		d := strings.ToLower(o.Description)
		if strings.HasPrefix(d, first) {
			return o.ID, nil
		}
		if best == "" && strings.Contains(d, "other linux") {
			best = o.ID
		}
	}
	if best == "" {
		best = out.OSType[0].ID
	}
	return best, nil
}

func (g *Gateway) deleteImage(c *call) (any, error) {
	name := c.r.PathValue("name")
	im, ok, err := c.findImage(c.project, name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNotFound(c.imagePath(name))
	}
	res, err := c.cs.Async(c.ctx, "deleteTemplate", csclient.Params("id", im.t.ID))
	if err != nil {
		return nil, err
	}
	return c.startOp(opScope{}, "delete", "global/images/"+name, idOf("image", im.t.ID), []string{res.JobID}, nil)
}
