package cloud

import (
	"context"
	"net/url"
	"slices"
	"strings"
)

// Registered images: templates and ISOs registered from a URL
// (registerTemplate, registerIso), and ISOs attached to and detached from
// VMs. The simulator downloads nothing: a registered image is "Download
// Complete" and ready at once, sized by its format's usual size. Both are
// rows of the templates table, as both are rows of the real server's
// vm_template; an ISO is one whose format is ISO.

// FormatISO is the format of an ISO image.
const FormatISO = "ISO"

// imageFormats are the formats registerTemplate takes (Storage.ImageFormat
// without ISO), with the size the simulator gives such an image.
var imageFormats = map[string]int64{"QCOW2": 5, "RAW": 5, "VHD": 5, "VHDX": 5, "OVA": 5, "VMDK": 5, "TAR": 5, "BAREMETAL": 1, "DIR": 1}

// isoSizeGB is the size the simulator gives a registered ISO.
const isoSizeGB = 1

// RegisterRequest is what registerTemplate and registerIso ask for.
type RegisterRequest struct {
	Name        string
	DisplayText string
	URL         string
	Checksum    string
	// Format is the image format (registerTemplate); ISO for registerIso.
	Format          string
	OSTypeID        string
	ZoneID          string // "" or "-1": every zone
	Hypervisor      string // registerTemplate: must be the simulator's
	Public          bool
	Featured        bool
	Extractable     bool
	PasswordEnabled bool
	Bootable        bool // registerIso
	ISO             bool
}

// RegisterImage registers a template or ISO from a URL. It is ready at
// once and returned.
func (s *Sim) RegisterImage(ctx context.Context, c Caller, r RegisterRequest) (*Template, error) {
	what := "template"
	if r.ISO {
		what, r.Format = "iso", FormatISO
	}
	u, err := url.Parse(r.URL)
	if err != nil || u.Host == "" {
		return nil, Invalid("Please specify a valid URL. URL:%s is invalid", r.URL)
	}
	if !slices.Contains([]string{"http", "https", "nfs"}, strings.ToLower(u.Scheme)) {
		return nil, Invalid("Unsupported scheme for url: %s", r.URL)
	}
	size := int64(isoSizeGB)
	if !r.ISO {
		r.Format = strings.ToUpper(r.Format)
		var ok bool
		if size, ok = imageFormats[r.Format]; !ok {
			return nil, Invalid("Image format: %s is incorrect. Supported formats are %s", r.Format, supportedFormats())
		}
		if !strings.EqualFold(r.Hypervisor, "Simulator") {
			return nil, Invalid("Hypervisor Type: %s is invalid. Supported Hypervisor types are Simulator", r.Hypervisor)
		}
	}
	if r.Featured && !c.IsRootAdmin() {
		return nil, Denied("Only admins can create featured %ss", what)
	}
	if r.ZoneID == "-1" {
		r.ZoneID = ""
	}
	var out *Template
	err = s.write(func(ix *index) error {
		if _, ok := ix.osTypes.get(r.OSTypeID); !ok {
			return notFound(KindOSType, r.OSTypeID)
		}
		if r.ZoneID != "" {
			if _, ok := ix.zones.get(r.ZoneID); !ok {
				return notFound(KindZone, r.ZoneID)
			}
		}
		t := &Template{Name: r.Name, DisplayText: orDefault(r.DisplayText, r.Name), OSTypeID: r.OSTypeID, Format: r.Format,
			SizeGB: size, Public: r.Public, Featured: r.Featured, PasswordEnabled: r.PasswordEnabled, Type: "USER",
			ZoneID: r.ZoneID, URL: r.URL, Checksum: r.Checksum, Extractable: r.Extractable, NotBootable: r.ISO && !r.Bootable, Owner: c.Owner()}
		b := &batch{}
		if err := ix.checkLimits(b, t.Owner, map[Resource]int64{ResTemplate: 1}); err != nil {
			return err
		}
		t.ID, t.Seq, t.Created = newID(), ix.nextSeq(), s.clock.Now().UTC()
		put(b, ix.templates, t)
		typ := "TEMPLATE.CREATE"
		if r.ISO {
			typ = "ISO.CREATE"
		}
		ix.event(b, s, t.Owner, c, typ, "Successfully registered "+what+" "+t.Name+" from "+r.URL, t.ID, KindTemplate)
		out = t
		return s.commit(ctx, b)
	})
	return out, err
}

func supportedFormats() string {
	var fs []string
	for f := range imageFormats {
		fs = append(fs, f)
	}
	slices.Sort(fs)
	return strings.Join(fs, ", ")
}

// isoFor finds an ISO c may use (its own or a public one).
func (ix *index) isoFor(c Caller, id string) (*Template, error) {
	t, ok := ix.templates.get(id)
	if !ok || t.Format != FormatISO || !(t.Public || ix.canAccess(c, t.Owner)) {
		return nil, Invalid("Unable to find an ISO with id %s", id)
	}
	return t, nil
}

// AttachISO inserts an ISO into a Running or Stopped VM's CD-ROM, in an
// async job whose result is the VM.
func (s *Sim) AttachISO(ctx context.Context, c Caller, isoID, vmID, cmd string) (*Job, error) {
	return s.isoJob(ctx, c, vmID, cmd, func(ix *index, c Caller, vm *VM) (string, error) {
		iso, err := ix.isoFor(c, isoID)
		if err != nil {
			return "", err
		}
		if vm.ISOID != "" {
			return "", Invalid("The specified VM already has an ISO attached. Please detach it first")
		}
		return iso.ID, nil
	}, "ISO.ATTACH", "Successfully attached ISO")
}

// DetachISO ejects a VM's ISO, in an async job whose result is the VM.
func (s *Sim) DetachISO(ctx context.Context, c Caller, vmID, cmd string) (*Job, error) {
	return s.isoJob(ctx, c, vmID, cmd, func(ix *index, c Caller, vm *VM) (string, error) {
		if vm.ISOID == "" {
			return "", Invalid("The specified VM has no ISO attached to it.")
		}
		return "", nil
	}, "ISO.DETACH", "Successfully detached ISO")
}

// isoJob is attach and detach: check decides the VM's new ISO id.
func (s *Sim) isoJob(ctx context.Context, c Caller, vmID, cmd string, check func(ix *index, c Caller, vm *VM) (string, error), typ, desc string) (*Job, error) {
	find := func(ix *index, c Caller) (*VM, string, error) {
		vm, ok := ix.vms.get(vmID)
		if !ok || !ix.canAccess(c, vm.Owner) {
			return nil, "", Invalid("Unable to find a virtual machine with id %s", vmID)
		}
		iso, err := check(ix, c, vm)
		if err != nil {
			return nil, "", err
		}
		if vm.State != VMRunning && vm.State != VMStopped {
			return nil, "", Invalid("Please specify a VM that is either Stopped or Running.")
		}
		return vm, iso, nil
	}
	var err error
	s.read(func(ix *index) { _, _, err = find(ix, c) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindVM, InstanceID: vmID}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			caller := jc.caller(ix)
			vm, iso, err := find(ix, caller)
			if err != nil {
				return err
			}
			b := &batch{}
			n := *vm
			n.ISOID = iso
			put(b, ix.vms, &n)
			ix.event(b, s, vm.Owner, caller, typ, desc+" for VM "+vm.Name, vm.ID, KindVM)
			jc.complete(b, KindVM, &n)
			return s.commit(ctx, b)
		})
	})
}

// DeleteISO deletes an ISO no VM holds, in an async job.
func (s *Sim) DeleteISO(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	return s.deleteImage(ctx, c, id, true, false, cmd)
}
