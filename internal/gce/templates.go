package gce

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stratus-cloud/stratus/internal/store"
)

// Instance templates are the gateway's own records (CloudStack has
// nothing like them): global, immutable, checked on insert as an instance
// made from them would be, and refused deletion while a managed instance
// group uses them.

// InstanceProperties are an instance template's properties.
type InstanceProperties struct {
	Description       string             `json:"description,omitempty"`
	MachineType       string             `json:"machineType,omitempty"`
	CanIPForward      bool               `json:"canIpForward,omitempty"`
	NetworkInterfaces []NetworkInterface `json:"networkInterfaces,omitempty"`
	Disks             []AttachedDisk     `json:"disks,omitempty"`
	Metadata          *Metadata          `json:"metadata,omitempty"`
	ServiceAccounts   []ServiceAccount   `json:"serviceAccounts,omitempty"`
	Scheduling        *Scheduling        `json:"scheduling,omitempty"`
	Labels            map[string]string  `json:"labels,omitempty"`
	Tags              *Tags              `json:"tags,omitempty"`
}

// InstanceTemplate is compute#instanceTemplate.
type InstanceTemplate struct {
	Kind              string              `json:"kind,omitempty"`
	ID                uint64              `json:"id,string,omitempty"`
	CreationTimestamp string              `json:"creationTimestamp,omitempty"`
	Name              string              `json:"name"`
	Description       string              `json:"description,omitempty"`
	Properties        *InstanceProperties `json:"properties,omitempty"`
	SelfLink          string              `json:"selfLink,omitempty"`
}

// templateRecord is a stored instance template.
type templateRecord struct {
	ID          uint64             `json:"id"`
	Description string             `json:"description,omitempty"`
	Properties  InstanceProperties `json:"properties"`
	Created     time.Time          `json:"created"`
}

func (g *Gateway) templatesOf(project string) store.Typed[templateRecord] {
	return store.Typed[templateRecord]{S: g.st, Prefix: "/gce/instancetemplates/" + project + "/"}
}

func (c *call) templatePath(name string) string {
	return "projects/" + c.project + "/global/instanceTemplates/" + name
}

func (c *call) renderTemplate(name string, rec *templateRecord) *InstanceTemplate {
	p := rec.Properties
	if p.Metadata == nil {
		p.Metadata = &Metadata{}
	}
	p.Metadata.Kind = "compute#metadata"
	p.Metadata.Fingerprint = fingerprint(p.Metadata.Items)
	p.Scheduling = renderScheduling(p.Scheduling)
	return &InstanceTemplate{Kind: "compute#instanceTemplate", ID: rec.ID, CreationTimestamp: gceTime(rec.Created),
		Name: name, Description: rec.Description, Properties: &p, SelfLink: c.link("global", "instanceTemplates", name)}
}

// findTemplate loads a template by name or URL.
func (c *call) findTemplate(ref string) (string, *templateRecord, error) {
	name := lastSegment(ref)
	rec, _, err := c.g.templatesOf(c.project).Get(c.ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return name, nil, errNotFound(c.templatePath(name))
	}
	return name, rec, err
}

// instanceFromTemplate is the instances.insert body a template makes, for
// an instance of that name in zone.
func (c *call) instanceFromTemplate(p *InstanceProperties, zone, name string) *Instance {
	in := &Instance{Name: name, Description: p.Description, CanIPForward: p.CanIPForward,
		NetworkInterfaces: p.NetworkInterfaces, Metadata: p.Metadata, ServiceAccounts: p.ServiceAccounts,
		Scheduling: p.Scheduling, Labels: p.Labels, Tags: p.Tags}
	if p.MachineType != "" {
		in.MachineType = "zones/" + zone + "/machineTypes/" + lastSegment(p.MachineType)
	}
	in.Disks = append([]AttachedDisk(nil), p.Disks...)
	if p.Scheduling != nil {
		s := *p.Scheduling
		in.Scheduling = &s
	}
	return in
}

func (g *Gateway) insertTemplate(c *call) (any, error) {
	var in InstanceTemplate
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if !validName(in.Name) {
		return nil, errInvalid("Invalid value for field 'resource.name': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", in.Name)
	}
	if in.Properties == nil {
		return nil, errInvalid("Required field 'resource.properties' not specified")
	}
	if in.Properties.MachineType == "" {
		return nil, errInvalid("Required field 'resource.properties.machineType' not specified")
	}
	// The template is checked as an instance made from it in the first
	// zone would be (GCE checks a template's machine type and image when
	// it is made).
	zs, err := c.zones()
	if err != nil {
		return nil, err
	}
	if len(zs) == 0 {
		return nil, errUnsupported("An instance template without a zone")
	}
	probe := c.instanceFromTemplate(in.Properties, zs[0].name, in.Name)
	if _, err := c.planInstance(zs[0], probe); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Code == http.StatusBadRequest {
			ae2 := *ae
			ae2.Message = templateField(ae.Message)
			return nil, &ae2
		}
		return nil, err
	}
	rec := &templateRecord{ID: idOf("instanceTemplate", c.tok.AccountID+"/"+in.Name+"/"+strconv.FormatInt(c.g.now().UnixNano(), 10)),
		Description: in.Description, Properties: *in.Properties, Created: c.g.now()}
	if _, err := c.g.templatesOf(c.project).Create(c.ctx, in.Name, rec); errors.Is(err, store.ErrConflict) {
		return nil, errAlreadyExists(c.templatePath(in.Name))
	} else if err != nil {
		return nil, err
	}
	return c.startOp(opScope{}, "insert", "global/instanceTemplates/"+in.Name, rec.ID, nil, nil)
}

// templateField names the template's field in an error about the
// instance made from it ('resource.machineType' is
// 'resource.properties.machineType' in a template).
func templateField(msg string) string {
	return strings.ReplaceAll(msg, "field 'resource.", "field 'resource.properties.")
}

func (g *Gateway) getTemplate(c *call) (any, error) {
	name, rec, err := c.findTemplate(c.r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	return c.renderTemplate(name, rec), nil
}

func (c *call) templateEntries() ([]entry, error) {
	items, _, err := c.g.templatesOf(c.project).List(c.ctx)
	if err != nil {
		return nil, err
	}
	es := make([]entry, 0, len(items))
	for _, it := range items {
		t := c.renderTemplate(it.Name, it.Val)
		es = append(es, entry{scope: "global", name: it.Name, created: t.CreationTimestamp, v: t})
	}
	return es, nil
}

func (g *Gateway) listTemplates(c *call) (any, error) {
	es, err := c.templateEntries()
	if err != nil {
		return nil, err
	}
	for i := range es {
		es[i].scope = ""
	}
	return c.list("compute#instanceTemplateList", c.link("global", "instanceTemplates"), es)
}

func (g *Gateway) aggregatedTemplates(c *call) (any, error) {
	es, err := c.templateEntries()
	if err != nil {
		return nil, err
	}
	return c.aggregated("compute#instanceTemplateAggregatedList", "instanceTemplates", c.link("aggregated", "instanceTemplates"), es, []string{"global"})
}

func (g *Gateway) deleteTemplate(c *call) (any, error) {
	name, rec, err := c.findTemplate(c.r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	groups, _, err := c.g.groupsOf(c.project, "").List(c.ctx)
	if err != nil {
		return nil, err
	}
	for _, it := range groups {
		if it.Val.Template == name && !it.Val.Deleted {
			zone, group := splitScoped(it.Name)
			return nil, &apiError{Code: http.StatusBadRequest, Reason: "resourceInUseByAnotherResource",
				Message: "The instance_template resource '" + c.templatePath(name) + "' is already being used by 'projects/" + c.project + "/zones/" + zone + "/instanceGroupManagers/" + group + "'"}
		}
	}
	if err := c.g.templatesOf(c.project).Delete(c.ctx, name); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return c.startOp(opScope{}, "delete", "global/instanceTemplates/"+name, rec.ID, nil, nil)
}
