package cloudstack

import (
	"encoding/json"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// Templates users make from volumes and snapshots, and their updates and
// deletes. Accepted and ignored (one hypervisor, nothing to boot from):
// account, arch, bits, details, domainid, isdynamicallyscalable, projectid,
// requireshvm, sshkeyenabled, templatetag, url, virtualmachineid, zoneid
// (createTemplate); arch, bootable, cleanupdetails, details,
// forceupdateostype, forcks, format, isdynamicallyscalable, isrouting,
// requireshvm, sortkey, sshkeyenabled, templatetag, templatetype
// (updateTemplate); issystem, zoneid (deleteTemplate).

func templateCommands() []*command {
	return []*command{
		{Name: "createTemplate", Async: true, Desc: "Creates a template of a virtual machine. The virtual machine must be in a STOPPED state. A template created from this command is automatically designated as a private template visible to the account that created it.",
			Resp: "template", RespOf: templateView{}, Params: []param{
				p("account:string", "an optional accountName. Must be used with domainId."),
				p("arch:string", "the CPU arch of the template. Valid options are: x86_64, aarch64. Defaults to x86_64"),
				p("bits:integer", "32 or 64 bit"),
				p("details:map", "Template details in key/value pairs using format details[i].keyname=keyvalue. Example: details[0].hypervisortoolsversion=xenserver61"),
				p("displaytext:string", "The display text of the template, defaults to the 'name'."),
				p("domainid:uuid:Domain", "an optional domainId. If the account parameter is used, domainId must also be used."),
				p("isdynamicallyscalable:boolean", "true if template contains XS/VMWare tools inorder to support dynamic scaling of VM cpu/memory"),
				p("isfeatured:boolean", "true if this template is a featured template, false otherwise"),
				p("ispublic:boolean", "true if this template is a public template, false otherwise"),
				p("name*:string", "the name of the template"),
				p("ostypeid*:uuid:OSType", "the ID of the OS Type that best represents the OS of this template."),
				p("passwordenabled:boolean", "true if the template supports the password reset feature; default is false"),
				p("projectid:uuid", "create template for the project"),
				p("requireshvm:boolean", "true if the template requires HVM, false otherwise"),
				p("snapshotid:uuid:Snapshot", "the ID of the snapshot the template is being created from. Either this parameter, or volumeId has to be passed in"),
				p("sshkeyenabled:boolean", "true if the template supports the sshkey upload feature; default is false"),
				p("templatetag:string", "the tag for this template."),
				p("url:string", "Optional, only for baremetal hypervisor. The directory name where template stored on CIFS server"),
				p("virtualmachineid:uuid:UserVm", "Optional, VM ID. If this presents, it is going to create a baremetal template for VM this ID refers to. This is only for VM whose hypervisor type is BareMetal"),
				p("volumeid:uuid:Volume", "the ID of the disk volume the template is being created from. Either this parameter, or snapshotId has to be passed in"),
				p("zoneid:uuid:Zone", "the zone for the template. Can be specified with snapshot only"),
			}, Run: func(rq *request) (any, error) {
				t, job, err := rq.h.sim.CreateTemplate(rq.ctx, rq.c, cloud.TemplateRequest{Name: rq.str("name"), DisplayText: rq.str("displaytext"),
					OSTypeID: rq.str("ostypeid"), VolumeID: rq.str("volumeid"), SnapshotID: rq.str("snapshotid"), Public: rq.boolean("ispublic", false),
					Featured: rq.boolean("isfeatured", false), PasswordEnabled: rq.boolean("passwordenabled", false), Cmd: rq.className()})
				if err != nil {
					return nil, err
				}
				return AsyncAnswer{ID: t.ID, JobID: job.ID}, nil
			}},
		{Name: "updateTemplate", Desc: "Updates attributes of a template.", Resp: "template", RespOf: templateView{}, Params: []param{
			p("arch:string", "the CPU arch of the template/ISO. Valid options are: x86_64, aarch64"),
			p("bootable:boolean", "true if image is bootable, false otherwise; available only for updateIso API"),
			p("cleanupdetails:boolean", "optional boolean field, which indicates if details should be cleaned up or not (if set to true, details removed for this resource, details field ignored; if false or not set, no action)"),
			p("details:map", "Details in key/value pairs using format details[i].keyname=keyvalue. Example: details[0].hypervisortoolsversion=xenserver61"),
			p("displaytext:string", "the display text of the image"),
			p("forceupdateostype:boolean", "Force OS type update. Warning: Updating OS type will update the guest OS configuration for all the existing Instances deployed with this template/iso, which may affect their behavior."),
			p("forcks:boolean", "indicates that the template can be used for deployment of CKS clusters"),
			p("format:string", "the format for the image"),
			p("id*:uuid:Template", "the ID of the image file"),
			p("isdynamicallyscalable:boolean", "true if template/ISO contains XS/VMWare tools inorder to support dynamic scaling of VM cpu/memory"),
			p("isrouting:boolean", "true if the template type is routing i.e., if template is used to deploy router"),
			p("name:string", "the name of the image file"),
			p("ostypeid:uuid:OSType", "the ID of the OS type that best represents the OS of this image."),
			p("passwordenabled:boolean", "true if the image supports the password reset feature; default is false"),
			p("requireshvm:boolean", "true if the template requires HVM, false otherwise; available only for updateTemplate API"),
			p("sortkey:integer", "sort key of the template, integer"),
			p("sshkeyenabled:boolean", "true if the template supports the sshkey upload feature; default is false"),
			p("templatetag:string", "the tag for this template."),
			p("templatetype:string", "the type of the template. Valid options are: USER/VNF (for all users) and SYSTEM/ROUTING/BUILTIN (for admins only)."),
		}, Run: func(rq *request) (any, error) {
			u := cloud.TemplateUpdate{Name: rq.optStr("name"), DisplayText: rq.optStr("displaytext"), OSTypeID: rq.optStr("ostypeid")}
			if rq.p.Has("passwordenabled") {
				b := rq.boolean("passwordenabled", false)
				u.PasswordEnabled = &b
			}
			t, err := rq.h.sim.UpdateTemplate(rq.ctx, rq.c, rq.str("id"), u)
			if err != nil {
				return nil, err
			}
			return rq.read(func(r cloud.Reader) (any, error) {
				return Object{Key: "template", Obj: templateOf(r, t, templateZone(r, t))}, nil
			})
		}},
		{Name: "deleteTemplate", Async: true, Desc: "Deletes a template from the system. All virtual machines using the deleted template will not be affected.",
			Resp: "success", RespOf: Success{}, Params: []param{
				p("forced:boolean", "Force delete a template."),
				p("id*:uuid:Template", "the ID of the template"),
				p("issystem:boolean", "Necessary if the template's type is system."),
				p("zoneid:uuid:Zone", "the ID of zone of the template"),
			}, Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DeleteTemplate(rq.ctx, rq.c, rq.str("id"), rq.boolean("forced", false), rq.className()))
			}},
	}
}

// templateZone is the zone of a zonal (USER) template, nil for others.
func templateZone(r cloud.Reader, t *cloud.Template) *cloud.Zone {
	if z, ok := r.Zone(t.ZoneID); ok {
		return z
	}
	return nil
}

// templateJobResult renders a createTemplate job's result (nil for other
// kinds).
func templateJobResult(r cloud.Reader, j *cloud.Job) any {
	if j.ResultKind != cloud.KindTemplate {
		return nil
	}
	var t cloud.Template
	if json.Unmarshal(j.Result, &t) != nil {
		return nil
	}
	return Object{Key: "template", Obj: templateOf(r, &t, templateZone(r, &t))}
}
