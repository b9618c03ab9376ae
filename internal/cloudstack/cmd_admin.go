package cloudstack

import (
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// Admin reads and settings: global configuration (cloud/settings.go has
// the catalog and which settings the simulator honours). Settings are
// global only: a zone, cluster, storage, account, domain or image store
// scope on updateConfiguration is refused as the real server refuses a
// scope a setting does not have.

func adminCommands() []*command {
	return []*command{
		{Name: "listConfigurations", Desc: "Lists all configurations.", Resp: "configuration", RespOf: configurationView{}, Role: roleRootAdmin,
			Params: listParams(pName,
				p("category:string", "lists configurations by category"),
				p("group:string", "lists configuration by group name (primarily used for UI)"),
				p("subgroup:string", "lists configuration by subgroup name (primarily used for UI)"),
				p("parent:string", "lists configuration by parent name (primarily used for UI)"),
				pZoneID, p("clusterid:uuid:Cluster", "the ID of the Cluster to update the parameter value for corresponding cluster"),
				p("storageid:uuid", "the ID of the Storage pool to update the parameter value for corresponding storage pool"),
				p("accountid:uuid:Account", "the ID of the Account to update the parameter value for corresponding account"),
				p("domainid:uuid:Domain", "the ID of the Domain to update the parameter value for corresponding domain"),
				p("imagestoreuuid:uuid", "the ID of the Image Store to update the parameter value for corresponding image store")),
			Run: listConfigurations},
		{Name: "updateConfiguration", Desc: "Updates a configuration.", Resp: "configuration", RespOf: configurationView{}, Role: roleRootAdmin,
			Params: []param{p("name*:string", "the name of the configuration"), p("value:string", "the value of the configuration").maxLength(4096),
				pZoneID, p("clusterid:uuid:Cluster", "the ID of the Cluster to update the parameter value for corresponding cluster"),
				p("storageid:uuid", "the ID of the Storage pool to update the parameter value for corresponding storage pool"),
				p("accountid:uuid:Account", "the ID of the Account to update the parameter value for corresponding account"),
				p("domainid:uuid:Domain", "the ID of the Domain to update the parameter value for corresponding domain"),
				p("imagestoreuuid:uuid", "the ID of the Image Store to update the parameter value for corresponding image store")},
			Run: updateConfiguration},
	}
}

type configurationView struct {
	Category     string `json:"category"`
	Name         string `json:"name"`
	Value        string `json:"value"`
	DefaultValue string `json:"defaultvalue"`
	Description  string `json:"description"`
	DisplayText  string `json:"displaytext"`
	Type         string `json:"type"`
	Scope        string `json:"scope,omitempty"`
	IsDynamic    bool   `json:"isdynamic"`
	Component    string `json:"component"`
	Group        string `json:"group"`
	Subgroup     string `json:"subgroup"`
}

func configurationOf(v cloud.SettingValue) configurationView {
	return configurationView{Category: v.Category, Name: v.Name, Value: v.Value, DefaultValue: v.Default, Description: v.Description,
		DisplayText: displayText(v.Name), Type: v.Type, IsDynamic: true, Component: "management-server", Group: "Miscellaneous", Subgroup: "Others"}
}

// displayText is a setting's name as the UI titles it ("project.invite.required" → "Project invite required").
func displayText(name string) string {
	s := strings.ReplaceAll(name, ".", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func listConfigurations(rq *request) (any, error) {
	if scoped(rq) != "" {
		return List{Key: "configuration"}, nil // no setting is scoped
	}
	name, cat := rq.str("name"), rq.str("category")
	return rq.read(func(r cloud.Reader) (any, error) {
		return listView(rq, "configuration", r.Settings(), func(v cloud.SettingValue) bool {
			// name matches as a substring, as the real server searches
			return (name == "" || strings.Contains(v.Name, name)) && (cat == "" || strings.EqualFold(cat, v.Category)) &&
				rq.keyword(v.Name, v.Description)
		}, configurationOf)
	})
}

// scoped names the scope parameter a request gives, if any.
func scoped(rq *request) string {
	for _, n := range []string{"zoneid", "clusterid", "storageid", "accountid", "domainid", "imagestoreuuid"} {
		if rq.str(n) != "" {
			return n
		}
	}
	return ""
}

func updateConfiguration(rq *request) (any, error) {
	if s := scoped(rq); s != "" {
		return nil, cloud.Invalid("Invalid scope id provided for the parameter %s", rq.str("name"))
	}
	v, err := rq.h.sim.UpdateSetting(rq.ctx, rq.c, rq.str("name"), rq.str("value"))
	if err != nil {
		return nil, err
	}
	return Object{Key: "configuration", Obj: configurationOf(v)}, nil
}
