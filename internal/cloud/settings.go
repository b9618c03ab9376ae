package cloud

import (
	"context"
	"strconv"
	"strings"
)

// Global settings (CloudStack's configuration table): a fixed catalog of
// real setting names with their categories, types and defaults, and the
// values root admins set with updateConfiguration, kept in the store. The
// simulator honours those marked Honoured; the others are listed and
// stored, for tools that read or set them, and change nothing.

// KindSetting names global settings.
const KindSetting Kind = "Configuration"

// SettingDef is one setting of the catalog.
type SettingDef struct {
	Name, Category, Description, Default string
	// Type is the value's type as listConfigurations shows it (Boolean,
	// Integer, Long, String).
	Type string
	// Honoured marks settings the simulator acts on.
	Honoured bool
}

// settingCatalog is the catalog, in listing order.
var settingCatalog = []SettingDef{
	{Name: "allow.user.create.projects", Category: "Project Defaults", Type: "Boolean", Default: "true", Honoured: true,
		Description: "If regular user can create a project; true by default"},
	{Name: "project.invite.required", Category: "Project Defaults", Type: "Boolean", Default: "false", Honoured: true,
		Description: "If invitation confirmation is required when add account to project. Default value is false"},
	{Name: "project.invitation.expiration.time", Category: "Project Defaults", Type: "Long", Default: "86400", Honoured: true,
		Description: "Invitation expiration time (in seconds). Default is 1 day - 86400 seconds"},
	{Name: "vmsnapshot.max", Category: "Advanced", Type: "Integer", Default: "10", Honoured: true,
		Description: "Maximum vm snapshots for a single vm"},
	{Name: "snapshot.max.hourly", Category: "Snapshots", Type: "Integer", Default: "8", Honoured: true,
		Description: "Maximum recurring hourly snapshots to be retained for a volume. If the limit is reached, early snapshots from the start of the hour are deleted so that newer ones can be saved. This limit does not apply to manual snapshots. If set to 0, recurring hourly snapshots can not be scheduled."},
	{Name: "snapshot.max.daily", Category: "Snapshots", Type: "Integer", Default: "8", Honoured: true,
		Description: "Maximum recurring daily snapshots to be retained for a volume. If the limit is reached, snapshots from the start of the day are deleted so that newer ones can be saved. This limit does not apply to manual snapshots. If set to 0, recurring daily snapshots can not be scheduled."},
	{Name: "snapshot.max.weekly", Category: "Snapshots", Type: "Integer", Default: "8", Honoured: true,
		Description: "Maximum recurring weekly snapshots to be retained for a volume. If the limit is reached, snapshots from the beginning of the week are deleted so that newer ones can be saved. This limit does not apply to manual snapshots. If set to 0, recurring weekly snapshots can not be scheduled."},
	{Name: "snapshot.max.monthly", Category: "Snapshots", Type: "Integer", Default: "8", Honoured: true,
		Description: "Maximum recurring monthly snapshots to be retained for a volume. If the limit is reached, snapshots from the beginning of the month are deleted so that newer ones can be saved. This limit does not apply to manual snapshots. If set to 0, recurring monthly snapshots can not be scheduled."},
	{Name: "cpu.overprovisioning.factor", Category: "Advanced", Type: "Float", Default: "1", Honoured: false,
		Description: "Used for CPU overprovisioning calculation; available CPU will be (actualCpuCapacity * cpu.overprovisioning.factor)"},
	{Name: "mem.overprovisioning.factor", Category: "Advanced", Type: "Float", Default: "1", Honoured: false,
		Description: "Used for memory overprovisioning calculation"},
	{Name: "default.page.size", Category: "Advanced", Type: "Long", Default: "500", Honoured: false,
		Description: "Default page size for API list* commands"},
	{Name: "expunge.delay", Category: "Advanced", Type: "Integer", Default: "86400", Honoured: false,
		Description: "Determines how long (in seconds) to wait before actually expunging destroyed vm. The default value = the default value of expunge.interval"},
	{Name: "expunge.interval", Category: "Advanced", Type: "Integer", Default: "86400", Honoured: false,
		Description: "The interval (in seconds) to wait before running the expunge thread."},
	{Name: "job.expire.minutes", Category: "Advanced", Type: "Long", Default: "1440", Honoured: false,
		Description: "Time (in minutes) for async-jobs to be kept in system"},
	{Name: "event.purge.delay", Category: "Advanced", Type: "Integer", Default: "15", Honoured: false,
		Description: "Events older than specified number days will be purged. Set this value to 0 to never delete events"},
	{Name: "network.gc.interval", Category: "Advanced", Type: "Integer", Default: "600", Honoured: false,
		Description: "Seconds to wait before checking for networks to shutdown"},
	{Name: "max.account.user.vms", Category: "Account Defaults", Type: "Long", Default: "20", Honoured: false,
		Description: "The default maximum number of user VMs that can be deployed for an account"},
	{Name: "max.project.user.vms", Category: "Project Defaults", Type: "Long", Default: "20", Honoured: false,
		Description: "The default maximum number of user VMs that can be deployed for a project"},
	{Name: "api.throttling.enabled", Category: "Advanced", Type: "Boolean", Default: "false", Honoured: false,
		Description: "Enable/disable Api rate limit"},
	{Name: "router.template.kvm", Category: "Advanced", Type: "String", Default: "SystemVM Template (KVM)", Honoured: false,
		Description: "Name of the default router template on KVM."},
}

// Setting is a value a root admin set (the store keeps only those).
type Setting struct {
	// ID is the setting's name (settings are keyed by name).
	ID    string `json:"id"`
	Seq   int64  `json:"seq"`
	Value string `json:"value"`
}

// SettingValue is a setting of the catalog with its current value.
type SettingValue struct {
	SettingDef
	Value string
	// IsDefault reports whether the value is the default (never set).
	IsDefault bool
}

func settingDef(name string) (SettingDef, bool) {
	for _, d := range settingCatalog {
		if d.Name == name {
			return d, true
		}
	}
	return SettingDef{}, false
}

// setting returns a setting's current value.
func (ix *index) setting(name string) string {
	if s, ok := ix.settings.get(name); ok {
		return s.Value
	}
	d, _ := settingDef(name)
	return d.Default
}

func (ix *index) settingBool(name string) bool { return strings.EqualFold(ix.setting(name), "true") }

func (ix *index) settingInt(name string) int64 {
	n, _ := strconv.ParseInt(ix.setting(name), 10, 64)
	return n
}

// Settings lists the catalog with current values.
func (r Reader) Settings() []SettingValue {
	out := make([]SettingValue, 0, len(settingCatalog))
	for _, d := range settingCatalog {
		v := SettingValue{SettingDef: d, Value: d.Default, IsDefault: true}
		if s, ok := r.ix.settings.get(d.Name); ok {
			v.Value, v.IsDefault = s.Value, false
		}
		out = append(out, v)
	}
	return out
}

// UpdateSetting sets a global setting (root admins only); the value is
// checked against the setting's type. An empty value puts back the default.
func (s *Sim) UpdateSetting(ctx context.Context, c Caller, name, value string) (SettingValue, error) {
	if !c.IsRootAdmin() {
		return SettingValue{}, Denied("Account %s does not have permission to update configurations", c.Account.Name)
	}
	d, ok := settingDef(name)
	if !ok {
		return SettingValue{}, Invalid("Configuration %s does not exist", name)
	}
	switch d.Type {
	case "Boolean":
		if value != "" && !strings.EqualFold(value, "true") && !strings.EqualFold(value, "false") {
			return SettingValue{}, Invalid("Please enter either 'true' or 'false'.")
		}
		value = strings.ToLower(value)
	case "Integer", "Long":
		if value != "" {
			if _, err := strconv.ParseInt(value, 10, 64); err != nil {
				return SettingValue{}, Invalid("There was error in trying to parse value: %s. Please enter a valid integer value for parameter %s", value, name)
			}
		}
	case "Float":
		if value != "" {
			if _, err := strconv.ParseFloat(value, 64); err != nil {
				return SettingValue{}, Invalid("There was error in trying to parse value: %s. Please enter a valid float value for parameter %s", value, name)
			}
		}
	}
	out := SettingValue{SettingDef: d, Value: value}
	if value == "" {
		out.Value, out.IsDefault = d.Default, true
	}
	err := s.write(func(ix *index) error {
		b := &batch{}
		if out.IsDefault {
			del(b, ix.settings, name)
		} else {
			old, ok := ix.settings.get(name)
			seq := int64(0)
			if ok {
				seq = old.Seq
			} else {
				seq = ix.nextSeq()
			}
			put(b, ix.settings, &Setting{ID: name, Seq: seq, Value: value})
		}
		ix.event(b, s, c.Owner(), c, "CONFIGURATION.VALUE.EDIT", "Successfully edited configuration value", name, KindSetting)
		return s.commit(ctx, b)
	})
	return out, err
}
