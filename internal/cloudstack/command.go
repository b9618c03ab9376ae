package cloudstack

import (
	"strconv"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// role is who may call a command.
type role int

const (
	roleUser role = iota
	roleDomainAdmin
	roleRootAdmin
)

// command is one API command: its metadata (what listApis says) and its
// implementation.
type command struct {
	Name   string
	Async  bool
	Desc   string
	Params []param
	// Resp is the response's object name (for listApis' "related" and
	// documentation); RespOf a value of the view type its fields come from.
	Resp   string
	RespOf any
	Role   role
	Run    func(rq *request) (any, error)
	// Envelope, when set, is the answer's top-level key instead of
	// lower(Name)+"response" (addIpToNic answers addiptovmnicresponse).
	Envelope string
}

// param is one declared parameter.
type param struct {
	Name     string
	Type     string
	Desc     string
	Required bool
	// Entity is the kind of object a uuid names; unknown ids are rejected
	// with CloudStack's "entity does not exist" text before the command runs.
	Entity cloud.Kind
	// Length is the longest value a string parameter takes (CloudStack's
	// @Parameter length, 255 unless declared).
	Length int
	// Min, with MinText, is the smallest value a number parameter takes
	// and the service's own text for one below it (MinText "": no bound).
	Min     int64
	MinText string
	// AllZones lets a uuid be -1: "every zone" (registerTemplate,
	// registerIso), "every project" (projectid of lists).
	AllZones bool
}

// p declares a parameter from "name[*]:type[:Entity]" (* = required).
func p(spec, desc string) param {
	parts := strings.Split(spec, ":")
	pr := param{Name: parts[0], Type: "string", Desc: desc, Length: 255}
	if strings.HasSuffix(pr.Name, "*") {
		pr.Name, pr.Required = strings.TrimSuffix(pr.Name, "*"), true
	}
	if len(parts) > 1 {
		pr.Type = parts[1]
	}
	if len(parts) > 2 {
		pr.Entity = cloud.Kind(parts[2])
	}
	switch pr.Name {
	case "userdata":
		pr.Length = 1048576
	case "publickey":
		pr.Length = 5120
	}
	return pr
}

// orAllZones lets a zone id parameter take -1.
func (pr param) orAllZones() param {
	pr.AllZones = true
	return pr
}

// maxLength sets the longest value a string parameter takes.
func (pr param) maxLength(n int) param {
	pr.Length = n
	return pr
}

// orAllProjects lets a project id parameter take -1.
func (pr param) orAllProjects() param { return pr.orAllZones() }

// atLeast bounds a number parameter from below; text is the service's
// error for a smaller value.
func (pr param) atLeast(n int64, text string) param {
	pr.Min, pr.MinText = n, text
	return pr
}

func (c *command) allowed(caller cloud.Caller) bool {
	switch c.Role {
	case roleRootAdmin:
		return caller.IsRootAdmin()
	case roleDomainAdmin:
		return caller.IsAdmin()
	}
	return true
}

// check validates the declared parameters: required ones are present,
// numbers parse, named entities exist.
func (c *command) check(rq *request) error {
	// The server matches a command's parameter names without regard to
	// case (libcloud sends diskOfferingId, zoneId, virtualMachineId;
	// Marvin's tests send domainId): a declared name given in another
	// case counts as given.
	for _, pr := range c.Params {
		if !rq.p.Has(pr.Name) {
			if v, ok := rq.p.getFold(pr.Name); ok {
				rq.p[pr.Name] = v
			}
		}
	}
	for _, pr := range c.Params {
		v, ok := rq.p[pr.Name]
		if pr.Required && (!ok || v == "") && !(pr.Type == "map" && len(rq.p.Map(pr.Name)) > 0) {
			return cloud.Invalid("Unable to execute API command %s due to missing parameter %s", strings.ToLower(c.Name), pr.Name)
		}
		if !ok || v == "" {
			continue
		}
		if err := pr.validate(c.Name, v, rq.p); err != nil {
			return err
		}
	}
	var err error
	rq.h.sim.Read(func(r cloud.Reader) {
		for _, pr := range c.Params {
			if pr.Entity == "" {
				continue
			}
			ids := rq.p.List(pr.Name)
			if pr.Type == "uuid" {
				ids = nil
				if v := rq.p.Get(pr.Name); v != "" {
					ids = []string{v}
				}
			}
			for _, id := range ids {
				if pr.AllZones && id == "-1" {
					continue
				}
				if !r.Exists(pr.Entity, id) {
					err = rq.invalidValue(pr.Name, id)
					return
				}
			}
		}
	})
	return err
}

// Helpers commands use on their parameters.

func (rq *request) str(name string) string { return rq.p.Get(name) }

func (rq *request) optStr(name string) *string {
	if v, ok := rq.p[name]; ok {
		return &v
	}
	return nil
}

func (rq *request) boolean(name string, def bool) bool {
	v, ok := rq.p[name]
	if !ok || v == "" {
		return def
	}
	return parseBool(v)
}

func (rq *request) integer(name string, def int64) int64 {
	v, ok := rq.p[name]
	if !ok || v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return def
	}
	return n
}

// scope reads the list scope parameters.
func (rq *request) scope() cloud.Scope {
	return cloud.Scope{ListAll: rq.boolean("listall", false), Account: rq.str("account"), DomainID: rq.str("domainid"),
		Recursive: rq.boolean("isrecursive", false), ProjectID: rq.str("projectid")}
}

// owner reads the owner parameters of a create command: account and
// domainid, or projectid, which stands for the project's own account.
func (rq *request) owner() (account, domainID string, err error) {
	if rq.str("projectid") == "" {
		return rq.str("account"), rq.str("domainid"), nil
	}
	rq.h.sim.Read(func(r cloud.Reader) {
		account, domainID, err = r.ProjectOwner(rq.c, rq.str("account"), rq.str("projectid"))
	})
	return account, domainID, err
}

// className is the Java class queryAsyncJobResult shows in cmd.
func (rq *request) className() string {
	return "org.apache.cloudstack.api.command." + map[bool]string{true: "admin", false: "user"}[rq.c.IsRootAdmin()] + "." + rq.cmd.Name
}

// ignoredParams declares parameters a command accepts and ignores (named
// "name:type"), so they are known to the parameter check and the coverage
// table without being honoured.
func ignoredParams(names ...string) []param {
	ps := make([]param, 0, len(names))
	for _, n := range names {
		ps = append(ps, p(n, "accepted and ignored by stratus"))
	}
	return ps
}
