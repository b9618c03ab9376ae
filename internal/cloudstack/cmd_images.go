package cloudstack

import (
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// Registered templates and ISOs. The simulator downloads nothing, so a
// registered image is ready at once. Accepted and ignored: arch, bits,
// checksum, deployasis, details, directdownload, extensionid,
// externaldetails, forcks, imagestoreuuid, isdynamicallyscalable,
// isrouting, projectid, requireshvm, sshkeyenabled, templatetag,
// templatetype (registerTemplate, registerIso); forced (attachIso,
// detachIso); zoneid (deleteIso: an ISO goes from every zone); and the
// store and icon filters of listIsos.

func imageCommands() []*command {
	return []*command{
		{Name: "registerTemplate", Desc: "Registers an existing template into the CloudStack cloud.", Resp: "template", RespOf: templateView{},
			Params: []param{
				p("account:string", "an optional accountName. Must be used with domainId."),
				p("arch:string", "the CPU arch of the template. Valid options are: x86_64, aarch64"),
				p("bits:integer", "32 or 64 bits support. 64 by default"),
				p("checksum:string", "the checksum value of this template."),
				p("deployasis:boolean", "(VMware only) true if VM deployments should preserve all the configurations defined for this template"),
				p("details:map", "Template details in key/value pairs using format details[i].keyname=keyvalue. Example: details[0].hypervisortoolsversion=xenserver61"),
				p("directdownload:boolean", "true if template should bypass Secondary Storage and be downloaded to Primary Storage on deployment"),
				p("displaytext:string", "The display text of the template, defaults to 'name'."),
				p("domainid:uuid:Domain", "an optional domainId. If the account parameter is used, domainId must also be used."),
				p("format*:string", "the format for the template. Possible values include QCOW2, RAW, VHD and OVA."),
				p("hypervisor*:string", "the target hypervisor for the template"),
				p("isdynamicallyscalable:boolean", "true if template contains XS/VMWare tools inorder to support dynamic scaling of VM cpu/memory"),
				p("isextractable:boolean", "true if the template or its derivatives are extractable; default is false"),
				p("isfeatured:boolean", "true if this template is a featured template, false otherwise"),
				p("ispublic:boolean", "true if the template is available to all accounts; default is true"),
				p("isrouting:boolean", "true if the template type is routing i.e., if template is used to deploy router"),
				p("name*:string", "the name of the template"),
				p("ostypeid:uuid:OSType", "the ID of the OS Type that best represents the OS of this template."),
				p("passwordenabled:boolean", "true if the template supports the password reset feature; default is false"),
				p("projectid:uuid", "Register template for the project"),
				p("requireshvm:boolean", "true if this template requires HVM"),
				p("sshkeyenabled:boolean", "true if the template supports the sshkey upload feature; default is false"),
				p("templatetag:string", "the tag for this template."),
				p("templatetype:string", "the type of the template. Valid options are: USER/VNF (for all users) and SYSTEM/ROUTING/BUILTIN (for admins only)."),
				p("url*:string", "the URL of where the template is hosted. Possible URL include http:// and https://"),
				p("zoneid:uuid", "the ID of the zone the template is to be hosted on").orAllZones(),
				p("zoneids:list", "A list of zone ids where the template will be hosted. Passing only -1 to this will cause the template to be registered as a cross zone template and will be copied to all zones."),
			}, Run: func(rq *request) (any, error) {
				zone := rq.str("zoneid")
				if zs := rq.p.List("zoneids"); len(zs) > 0 {
					if zone != "" {
						return nil, cloud.Invalid("Both zoneid and zoneids cannot be specified at the same time")
					}
					if len(zs) > 1 {
						return nil, cloud.Invalid("stratus registers a template in one zone or in all (-1), not in %d zones", len(zs))
					}
					zone = zs[0]
				}
				return rq.registered("template", cloud.RegisterRequest{Name: rq.str("name"), DisplayText: rq.str("displaytext"), URL: rq.str("url"), Checksum: rq.str("checksum"),
					Format: rq.str("format"), OSTypeID: rq.str("ostypeid"), ZoneID: zone, Hypervisor: rq.str("hypervisor"),
					Public: rq.boolean("ispublic", false), Featured: rq.boolean("isfeatured", false), Extractable: rq.boolean("isextractable", false),
					PasswordEnabled: rq.boolean("passwordenabled", false)})
			}},
		{Name: "registerIso", Desc: "Registers an existing ISO into the CloudStack Cloud.", Resp: "iso", RespOf: templateView{},
			Params: []param{
				p("account:string", "an optional account name. Must be used with domainId."),
				p("arch:string", "the CPU arch of the ISO. Valid options are: x86_64, aarch64"),
				p("bootable:boolean", "true if this ISO is bootable. If not passed explicitly its assumed to be true"),
				p("checksum:string", "the checksum value of this ISO."),
				p("directdownload:boolean", "true if ISO should bypass Secondary Storage and be downloaded to Primary Storage on deployment"),
				p("displaytext:string", "the display text of the ISO, defaults to the 'name'"),
				p("domainid:uuid:Domain", "an optional domainId. If the account parameter is used, domainId must also be used."),
				p("imagestoreuuid:string", "Image store UUID"),
				p("isdynamicallyscalable:boolean", "true if ISO contains XS/VMWare tools inorder to support dynamic scaling of VM CPU/memory"),
				p("isextractable:boolean", "true if the ISO or its derivatives are extractable; default is false"),
				p("isfeatured:boolean", "true if you want this ISO to be featured"),
				p("ispublic:boolean", "true if you want to register the ISO to be publicly available to all users, false otherwise."),
				p("name*:string", "the name of the ISO"),
				p("ostypeid:uuid:OSType", "the ID of the OS type that best represents the OS of this ISO. If the ISO is bootable this parameter needs to be passed"),
				p("passwordenabled:boolean", "true if password reset feature is supported; default is false"),
				p("projectid:uuid", "Register ISO for the project"),
				p("url*:string", "the URL to where the ISO is currently being hosted"),
				p("zoneid*:uuid", "the ID of the zone you wish to register the ISO to.").orAllZones(),
			}, Run: func(rq *request) (any, error) {
				zone := rq.str("zoneid")
				bootable := rq.boolean("bootable", true)
				if bootable && rq.str("ostypeid") == "" {
					return nil, cloud.Invalid("Please provide a valid OS type ID for a bootable ISO")
				}
				return rq.registered("iso", cloud.RegisterRequest{Name: rq.str("name"), DisplayText: rq.str("displaytext"), URL: rq.str("url"), Checksum: rq.str("checksum"),
					OSTypeID: rq.str("ostypeid"), ZoneID: zone, Public: rq.boolean("ispublic", false), Featured: rq.boolean("isfeatured", false),
					Extractable: rq.boolean("isextractable", false), PasswordEnabled: rq.boolean("passwordenabled", false),
					Bootable: bootable, ISO: true})
			}},
		{Name: "listIsos", Desc: "Lists all available ISO files.", Resp: "iso", RespOf: templateView{},
			Params: ownedListParams(withID(cloud.KindTemplate, pTags,
				p("arch:string", "the CPU arch of the ISO. Valid options are: x86_64, aarch64"),
				p("bootable:boolean", "true if the ISO is bootable, false otherwise"),
				p("hypervisor:string", "the hypervisor for which to restrict the search"),
				p("imagestoreid:uuid", "ID of the image or image cache store"),
				p("isofilter:string", "possible values are \"featured\", \"self\", \"selfexecutable\",\"sharedexecutable\",\"executable\", and \"community\"."),
				p("ispublic:boolean", "true if the ISO is publicly available to all users, false otherwise."),
				p("isready:boolean", "list ISOs that are ready to be deployed"),
				p("name:string", "list all ISOs by name"),
				p("oscategoryid:uuid", "the ID of the OS category for the ISO"),
				p("showicon:boolean", "flag to display the resource image for the isos"),
				p("showremoved:boolean", "show removed ISOs as well"),
				p("showunique:boolean", "If set to true, list only unique isos across zones"),
				p("storageid:uuid", "ID of the storage pool"),
				p("zoneid:uuid:Zone", "the ID of the zone"))...),
			Run: listIsos},
		{Name: "updateIso", Desc: "Updates an ISO file.", Resp: "iso", RespOf: templateView{}, Params: []param{
			p("bootable:boolean", "true if image is bootable, false otherwise; available only for updateIso API"),
			p("displaytext:string", "the display text of the image"),
			p("format:string", "the format for the image"),
			p("id*:uuid:Template", "the ID of the image file"),
			p("name:string", "the name of the image file"),
			p("ostypeid:uuid:OSType", "the ID of the OS type that best represents the OS of this image."),
			p("passwordenabled:boolean", "true if the image supports the password reset feature; default is false"),
			p("sortkey:integer", "sort key of the template, integer"),
		}, Run: func(rq *request) (any, error) {
			u := cloud.TemplateUpdate{Name: rq.optStr("name"), DisplayText: rq.optStr("displaytext"), OSTypeID: rq.optStr("ostypeid"), ISO: true}
			if rq.p.Has("passwordenabled") {
				b := rq.boolean("passwordenabled", false)
				u.PasswordEnabled = &b
			}
			if rq.p.Has("bootable") {
				b := rq.boolean("bootable", true)
				u.Bootable = &b
			}
			t, err := rq.h.sim.UpdateTemplate(rq.ctx, rq.c, rq.str("id"), u)
			if err != nil {
				return nil, err
			}
			return rq.read(func(r cloud.Reader) (any, error) {
				return Object{Key: "iso", Obj: templateOf(r, t, templateZone(r, t))}, nil
			})
		}},
		{Name: "deleteIso", Async: true, Desc: "Deletes an ISO file.", Resp: "success", RespOf: Success{}, Params: []param{
			p("id*:uuid:Template", "the ID of the ISO file"),
			p("zoneid:uuid:Zone", "the ID of the zone of the ISO file. If not specified, the ISO will be deleted from all the zones"),
		}, Run: func(rq *request) (any, error) {
			return asyncJob(rq.h.sim.DeleteISO(rq.ctx, rq.c, rq.str("id"), rq.className()))
		}},
		{Name: "attachIso", Async: true, Desc: "Attaches an ISO to a virtual machine.", Resp: "virtualmachine", RespOf: vmView{}, Params: []param{
			p("forced:boolean", "If true, ejects existing ISO before attaching on VMware. Default: false"),
			p("id*:uuid", "the ID of the ISO file"),
			p("virtualmachineid*:uuid", "the ID of the virtual machine"),
		}, Run: func(rq *request) (any, error) {
			return asyncJob(rq.h.sim.AttachISO(rq.ctx, rq.c, rq.str("id"), rq.str("virtualmachineid"), rq.className()))
		}},
		{Name: "detachIso", Async: true, Desc: "Detaches any ISO file (if any) currently attached to a virtual machine.", Resp: "virtualmachine", RespOf: vmView{}, Params: []param{
			p("forced:boolean", "If true, ejects the ISO before detaching on VMware. Default: false"),
			p("virtualmachineid*:uuid", "The ID of the virtual machine"),
		}, Run: func(rq *request) (any, error) {
			return asyncJob(rq.h.sim.DetachISO(rq.ctx, rq.c, rq.str("virtualmachineid"), rq.className()))
		}},
	}
}

// registered registers an image and answers as registerTemplate and
// registerIso do: a list of one under key.
func (rq *request) registered(key string, r cloud.RegisterRequest) (any, error) {
	t, err := rq.h.sim.RegisterImage(rq.ctx, rq.c, r)
	if err != nil {
		return nil, err
	}
	return rq.read(func(r cloud.Reader) (any, error) {
		var views []templateView
		for _, e := range imageEntries(r, []*cloud.Template{t}, "") {
			views = append(views, templateOf(r, e.t, e.z))
		}
		return List{Key: key, Count: len(views), Items: views}, nil
	})
}

// imageEntries pairs each image with each zone it is in (every zone for a
// cross-zone one), limited to zoneID when set: lists show one row per zone.
func imageEntries(r cloud.Reader, ts []*cloud.Template, zoneID string) []templateEntry {
	var entries []templateEntry
	for _, t := range ts {
		for _, z := range r.Zones() {
			if (zoneID == "" || zoneID == z.ID) && (t.ZoneID == "" || t.ZoneID == z.ID) {
				entries = append(entries, templateEntry{t, z})
			}
		}
	}
	return entries
}

// imageFilter is listTemplates' templatefilter and listIsos' isofilter.
func (rq *request) imageFilter(r cloud.Reader, name string) (func(t *cloud.Template) bool, error) {
	filter := strings.ToLower(rq.str(name))
	if name == "isofilter" && filter == "" {
		filter = "all"
		if !rq.c.IsAdmin() {
			filter = "executable"
		}
	}
	switch filter {
	case "featured", "self", "selfexecutable", "sharedexecutable", "executable", "community", "all":
	default:
		return nil, cloud.Invalid("Invalid template filter: %s; valid filters are featured, self, selfexecutable, sharedexecutable, executable, community, all", rq.str(name))
	}
	if filter == "all" && !rq.c.IsAdmin() {
		return nil, cloud.Invalid("Only admins can use templatefilter=all")
	}
	return func(t *cloud.Template) bool {
		mine := t.AccountID == rq.c.Account.ID
		switch filter {
		case "featured":
			return t.Featured && t.Public
		case "self", "selfexecutable":
			return mine
		case "community":
			return t.Public && !t.Featured
		case "executable":
			return t.Public || mine
		case "all":
			return r.CanAccess(rq.c, t.Owner) || t.Public
		}
		return false
	}, nil
}

func listIsos(rq *request) (any, error) {
	ids := rq.idFilter()
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.imageFilter(r, "isofilter")
		if err != nil {
			return nil, err
		}
		return listView(rq, "iso", imageEntries(r, r.Templates(), rq.str("zoneid")), func(e templateEntry) bool {
			t := e.t
			return t.Format == cloud.FormatISO && keep(t) && ids(t.ID) && rq.match("name", t.Name) &&
				(!rq.p.Has("bootable") || rq.boolean("bootable", true) == !t.NotBootable) &&
				(!rq.p.Has("ispublic") || rq.boolean("ispublic", false) == t.Public) &&
				strings.EqualFold(orAll(rq.str("hypervisor"), "Simulator"), "Simulator") &&
				rq.keyword(t.Name, t.DisplayText) && rq.tagsMatch(r, t.ID)
		}, func(e templateEntry) templateView { return templateOf(r, e.t, e.z) })
	})
}
