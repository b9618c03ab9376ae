package gce

import (
	"sort"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// imageInfo is a template as an image of some project.
type imageInfo struct {
	t       csclient.Template
	project string
	name    string
	family  string
}

// Template tags an operator may set to place a template explicitly.
const (
	tagImageProject = "gce-project"
	tagImageFamily  = "gce-family"
)

// catalog sorts every executable template the caller sees into image
// projects: public templates of a known OS into the public image project
// of that OS (debian-cloud, …), the others into the caller's project.
// Names are unique within a project.
func (c *call) catalog() ([]imageInfo, error) {
	if c.imageCache != nil {
		return c.imageCache, nil
	}
	ts, err := c.cs.ListTemplates(c.ctx, "executable")
	if err != nil {
		return nil, err
	}
	sort.SliceStable(ts, func(i, j int) bool {
		if ts[i].Created != ts[j].Created {
			return ts[i].Created < ts[j].Created
		}
		return ts[i].ID < ts[j].ID
	})
	seenID := map[string]bool{}
	seenName := map[string]bool{}
	out := make([]imageInfo, 0, len(ts))
	for _, t := range ts {
		if seenID[t.ID] {
			continue
		}
		seenID[t.ID] = true
		im := imageInfo{t: t, project: c.tok.Project}
		// A public template of a known OS is a standard image of its OS's
		// image project and family. A project's own images have a family
		// only when one was given (the gce-family tag), as on GCE.
		if p, f, ok := osImage(t.OSTypeName, t.Name, t.DisplayText); ok && bool(t.IsPublic) {
			im.project, im.family = p, f
		}
		for _, tag := range t.Tags {
			switch tag.Key {
			case tagImageProject:
				if validName(tag.Value) {
					im.project = tag.Value
				}
			case tagImageFamily:
				if validName(tag.Value) {
					im.family = tag.Value
				}
			}
		}
		im.name = gceName(t.Name)
		if seenName[im.project+"/"+im.name] {
			im.name = gceName(im.name + "-" + strings.SplitN(t.ID, "-", 2)[0])
		}
		seenName[im.project+"/"+im.name] = true
		out = append(out, im)
	}
	c.imageCache = out
	return out, nil
}

func (c *call) renderImage(im imageInfo) *Image {
	status := "READY"
	if !im.t.IsReady {
		status = "PENDING"
	}
	size := int64(im.t.Size)
	diskGb := max((size+gib-1)/gib, 1)
	desc := im.t.DisplayText
	if desc == "" {
		desc = im.t.Name
	}
	return &Image{Kind: "compute#image", ID: idOf("image", im.t.ID), CreationTimestamp: csTime(im.t.Created),
		Name: im.name, Description: desc, SourceType: "RAW", Status: status, ArchiveSizeBytes: size,
		DiskSizeGb: diskGb, Family: im.family, Architecture: "X86_64",
		SelfLink: c.linkIn(im.project, "global", "images", im.name)}
}

func (g *Gateway) listImages(c *call) (any, error) {
	cat, err := c.catalog()
	if err != nil {
		return nil, err
	}
	var es []entry
	for _, im := range cat {
		if im.project == c.project {
			es = append(es, entry{name: im.name, created: csTime(im.t.Created), v: c.renderImage(im)})
		}
	}
	return c.list("compute#imageList", c.link("global", "images"), es)
}

// findImage finds an image by name in a project.
func (c *call) findImage(project, name string) (imageInfo, bool, error) {
	cat, err := c.catalog()
	if err != nil {
		return imageInfo{}, false, err
	}
	for _, im := range cat {
		if im.project == project && im.name == name {
			return im, true, nil
		}
	}
	return imageInfo{}, false, nil
}

// findFamily returns the newest ready image of a family in a project.
func (c *call) findFamily(project, family string) (imageInfo, bool, error) {
	cat, err := c.catalog()
	if err != nil {
		return imageInfo{}, false, err
	}
	var best imageInfo
	found := false
	for _, im := range cat {
		if im.project != project || im.family != family || !im.t.IsReady {
			continue
		}
		if !found || im.t.Created >= best.t.Created {
			best, found = im, true
		}
	}
	return best, found, nil
}

func (g *Gateway) getImage(c *call) (any, error) {
	name := c.r.PathValue("name")
	im, ok, err := c.findImage(c.project, name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNotFound("projects/" + c.project + "/global/images/" + name)
	}
	return c.renderImage(im), nil
}

func (g *Gateway) getImageFromFamily(c *call) (any, error) {
	fam := c.r.PathValue("family")
	im, ok, err := c.findFamily(c.project, fam)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNotFound("projects/" + c.project + "/global/images/family/" + fam)
	}
	return c.renderImage(im), nil
}

func (g *Gateway) getImageFamilyView(c *call) (any, error) {
	fam := c.r.PathValue("family")
	im, ok, err := c.findFamily(c.project, fam)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNotFound("projects/" + c.project + "/zones/" + c.r.PathValue("zone") + "/imageFamilyViews/" + fam)
	}
	return &ImageFamilyView{Image: c.renderImage(im)}, nil
}

// resolveImage finds the template of a sourceImage: projects/P/global/
// images/NAME, …/global/images/family/FAM or …/zones/Z/imageFamilyViews/FAM,
// as a URL or a path relative to the caller's project. An image name
// without a project that is not in the caller's project is looked up in
// the public image projects too, as gcloud's --image NAME expects.
func (c *call) resolveImage(ref string) (imageInfo, error) {
	p := relPath(ref)
	project := c.project
	if strings.HasPrefix(p, "projects/") {
		parts := strings.SplitN(p, "/", 3)
		if len(parts) < 3 {
			return imageInfo{}, errInvalid("Invalid value for field 'resource.disks[0].initializeParams.sourceImage': '%s'.", ref)
		}
		project, p = parts[1], parts[2]
	}
	notFound := errNotFound("projects/" + project + "/" + p)
	if project != c.project && !publicImageProject(project) {
		return imageInfo{}, notFound
	}
	parts := strings.Split(p, "/")
	var im imageInfo
	var ok bool
	var err error
	switch {
	case len(parts) == 4 && parts[0] == "global" && parts[1] == "images" && parts[2] == "family":
		im, ok, err = c.findFamily(project, parts[3])
	case len(parts) == 4 && parts[0] == "zones" && parts[2] == "imageFamilyViews":
		im, ok, err = c.findFamily(project, parts[3])
	case len(parts) == 3 && parts[0] == "global" && parts[1] == "images":
		im, ok, err = c.findImage(project, parts[2])
		if err == nil && !ok && project == c.project {
			cat, _ := c.catalog()
			for _, cand := range cat {
				if cand.name == parts[2] && publicImageProject(cand.project) {
					im, ok = cand, true
					break
				}
			}
		}
	default:
		return imageInfo{}, errInvalid("Invalid value for field 'resource.disks[0].initializeParams.sourceImage': '%s'.", ref)
	}
	if err != nil {
		return imageInfo{}, err
	}
	if !ok {
		return imageInfo{}, notFound
	}
	return im, nil
}
