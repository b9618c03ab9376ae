package marathon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// App is a Marathon app definition as Marathon writes it back: what was
// posted, with Marathon's defaults for what was not.
type App struct {
	ID                         string            `json:"id"`
	Cmd                        *string           `json:"cmd"`
	Args                       []string          `json:"args"`
	User                       *string           `json:"user"`
	Env                        map[string]string `json:"env"`
	Instances                  int               `json:"instances"`
	Cpus                       float64           `json:"cpus"`
	Mem                        float64           `json:"mem"`
	Disk                       float64           `json:"disk"`
	Gpus                       float64           `json:"gpus"`
	Executor                   string            `json:"executor"`
	Constraints                [][]string        `json:"constraints"`
	URIs                       []string          `json:"uris"`
	Fetch                      []Fetch           `json:"fetch"`
	StoreUrls                  []string          `json:"storeUrls"`
	BackoffSeconds             float64           `json:"backoffSeconds"`
	BackoffFactor              float64           `json:"backoffFactor"`
	MaxLaunchDelaySeconds      float64           `json:"maxLaunchDelaySeconds"`
	Container                  *Container        `json:"container"`
	HealthChecks               []HealthCheck     `json:"healthChecks"`
	ReadinessChecks            []json.RawMessage `json:"readinessChecks"`
	Dependencies               []string          `json:"dependencies"`
	UpgradeStrategy            UpgradeStrategy   `json:"upgradeStrategy"`
	Labels                     map[string]string `json:"labels"`
	IPAddress                  json.RawMessage   `json:"ipAddress"`
	Version                    string            `json:"version"`
	VersionInfo                *VersionInfo      `json:"versionInfo,omitempty"`
	KillSelection              string            `json:"killSelection"`
	TaskKillGracePeriodSeconds *float64          `json:"taskKillGracePeriodSeconds"`
	Ports                      []int             `json:"ports"`
	PortDefinitions            []PortDefinition  `json:"portDefinitions"`
	RequirePorts               bool              `json:"requirePorts"`
	AcceptedResourceRoles      []string          `json:"acceptedResourceRoles,omitempty"`
}

// Fetch is a URI fetched into the sandbox (kept, not fetched).
type Fetch struct {
	URI        string `json:"uri"`
	Executable bool   `json:"executable"`
	Extract    bool   `json:"extract"`
	Cache      bool   `json:"cache"`
}

// Container is an app's container.
type Container struct {
	Type         string          `json:"type"`
	Docker       *Docker         `json:"docker,omitempty"`
	Volumes      []Volume        `json:"volumes"`
	PortMappings []PortMapping   `json:"portMappings,omitempty"`
	Extra        json.RawMessage `json:"mesos,omitempty"`
}

// Volume is a container volume (kept, not mounted).
type Volume struct {
	ContainerPath string `json:"containerPath"`
	HostPath      string `json:"hostPath,omitempty"`
	Mode          string `json:"mode"`
}

// Docker is the docker part of a container.
type Docker struct {
	Image          string          `json:"image"`
	Network        string          `json:"network,omitempty"`
	PortMappings   []PortMapping   `json:"portMappings,omitempty"`
	Privileged     bool            `json:"privileged"`
	Parameters     []KeyValue      `json:"parameters"`
	ForcePullImage bool            `json:"forcePullImage"`
	Extra          json.RawMessage `json:"credential,omitempty"`
}

// KeyValue is a docker parameter.
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// PortMapping maps a container port to a host port (0: assigned) and a
// service port (0: assigned).
type PortMapping struct {
	ContainerPort int               `json:"containerPort"`
	HostPort      int               `json:"hostPort"`
	ServicePort   int               `json:"servicePort"`
	Protocol      string            `json:"protocol"`
	Name          string            `json:"name,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
}

// PortDefinition is a port of an app on host networking.
type PortDefinition struct {
	Port     int               `json:"port"`
	Protocol string            `json:"protocol"`
	Name     string            `json:"name,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
}

// HealthCheck is a Marathon health check; it becomes the pods' probes.
type HealthCheck struct {
	Protocol               string     `json:"protocol"`
	Path                   string     `json:"path,omitempty"`
	PortIndex              *int       `json:"portIndex,omitempty"`
	Port                   *int       `json:"port,omitempty"`
	Command                *HealthCmd `json:"command,omitempty"`
	GracePeriodSeconds     int        `json:"gracePeriodSeconds"`
	IntervalSeconds        int        `json:"intervalSeconds"`
	TimeoutSeconds         int        `json:"timeoutSeconds"`
	MaxConsecutiveFailures *int       `json:"maxConsecutiveFailures"` // nil: 3; 0: never killed
	IgnoreHTTP1xx          bool       `json:"ignoreHttp1xx"`
	DelaySeconds           int        `json:"delaySeconds"`
}

// HealthCmd is a COMMAND health check's command.
type HealthCmd struct {
	Value string `json:"value"`
}

// UpgradeStrategy bounds capacity during a rolling upgrade.
type UpgradeStrategy struct {
	MinimumHealthCapacity float64 `json:"minimumHealthCapacity"`
	MaximumOverCapacity   float64 `json:"maximumOverCapacity"`
}

// VersionInfo says when the app last scaled and last changed otherwise.
type VersionInfo struct {
	LastScalingAt      string `json:"lastScalingAt"`
	LastConfigChangeAt string `json:"lastConfigChangeAt"`
}

// newApp is an app holding Marathon's defaults, for a definition to be
// decoded over.
func newApp() App {
	return App{
		Args: []string{}, Env: map[string]string{}, Instances: 1, Cpus: 1, Mem: 128,
		Constraints: [][]string{}, URIs: []string{}, Fetch: []Fetch{}, StoreUrls: []string{},
		BackoffSeconds: 1, BackoffFactor: 1.15, MaxLaunchDelaySeconds: 3600,
		HealthChecks: []HealthCheck{}, ReadinessChecks: []json.RawMessage{}, Dependencies: []string{},
		UpgradeStrategy: UpgradeStrategy{MinimumHealthCapacity: 1, MaximumOverCapacity: 1},
		Labels:          map[string]string{}, KillSelection: "YOUNGEST_FIRST", IPAddress: json.RawMessage("null"),
	}
}

// decodeObject parses body as a JSON object, with Marathon's "Invalid
// JSON" answer when it is not one.
func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return nil, invalidJSON(err, "")
	}
	return obj, nil
}

// invalidJSON turns a decoding error into Marathon's 400, with the JSON
// path (below prefix) of a value of the wrong type.
func invalidJSON(err error, prefix string) *apiError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		path := prefix
		if te.Field != "" {
			path += "/" + strings.ReplaceAll(te.Field, ".", "/")
		}
		if path == "" {
			path = "/"
		}
		return errInvalidJSON(Detail{Path: path, Errors: []string{expectedError(te.Type.Kind().String())}})
	}
	msg := "error.expected.jsobject"
	var se *json.SyntaxError
	if errors.As(err, &se) {
		msg = "Unexpected character at offset " + strconv.FormatInt(se.Offset, 10) + ": " + se.Error()
	} else if err != nil && strings.Contains(err.Error(), "unexpected end") {
		msg = "Unexpected end-of-input"
	}
	if prefix == "" {
		prefix = "/"
	}
	return errInvalidJSON(Detail{Path: prefix, Errors: []string{msg}})
}

// expectedError is Play JSON's error key for a value that should have had
// the Go kind k.
func expectedError(k string) string {
	switch k {
	case "string":
		return "error.expected.jsstring"
	case "int", "int64", "int32", "float64", "float32", "uint", "uint64":
		return "error.expected.jsnumber"
	case "bool":
		return "error.expected.jsboolean"
	case "slice", "array":
		return "error.expected.jsarray"
	default:
		return "error.expected.jsobject"
	}
}

// decodeApp decodes an app definition (the fields of obj) over base: a
// full definition over newApp(), a partial update over the current app.
func decodeApp(obj map[string]json.RawMessage, base App, prefix string) (App, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return App{}, invalidJSON(err, prefix)
	}
	// A deep copy: decoding reuses slices and maps it finds, and the
	// base may be a cached app others read.
	app := base.clone()
	for k := range obj {
		switch k {
		case "env":
			app.Env = map[string]string{}
		case "labels":
			app.Labels = map[string]string{}
		case "container":
			app.Container = nil
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&app); err != nil {
		return App{}, invalidJSON(err, prefix)
	}
	normalize(&app, obj)
	return app, nil
}

// clone returns a deep copy of a.
func (a *App) clone() App {
	b, err := json.Marshal(a)
	c := newApp()
	if err == nil && json.Unmarshal(b, &c) == nil {
		return c
	}
	return *a
}

// normalize fills what Marathon derives: nil lists as empty, the docker
// network, port mappings at both of their places, port definitions from
// the deprecated "ports".
func normalize(a *App, obj map[string]json.RawMessage) {
	if a.Args == nil {
		a.Args = []string{}
	}
	if a.Env == nil {
		a.Env = map[string]string{}
	}
	if a.Labels == nil {
		a.Labels = map[string]string{}
	}
	for _, l := range []*[]string{&a.URIs, &a.StoreUrls, &a.Dependencies} {
		if *l == nil {
			*l = []string{}
		}
	}
	if a.Constraints == nil {
		a.Constraints = [][]string{}
	}
	if a.Fetch == nil {
		a.Fetch = []Fetch{}
	}
	if a.HealthChecks == nil {
		a.HealthChecks = []HealthCheck{}
	}
	if a.ReadinessChecks == nil {
		a.ReadinessChecks = []json.RawMessage{}
	}
	if len(a.IPAddress) == 0 {
		a.IPAddress = json.RawMessage("null")
	}
	for i := range a.HealthChecks {
		h := &a.HealthChecks[i]
		if h.Protocol == "" {
			h.Protocol = "HTTP"
		}
		h.Protocol = strings.ToUpper(h.Protocol)
		if h.GracePeriodSeconds == 0 {
			h.GracePeriodSeconds = 300
		}
		if h.IntervalSeconds == 0 {
			h.IntervalSeconds = 60
		}
		if h.TimeoutSeconds == 0 {
			h.TimeoutSeconds = 20
		}
		if h.MaxConsecutiveFailures == nil {
			three := 3
			h.MaxConsecutiveFailures = &three
		}
		if h.PortIndex == nil && h.Port == nil && h.Protocol != "COMMAND" {
			zero := 0
			h.PortIndex = &zero
		}
		if h.Protocol == "HTTP" && h.Path == "" {
			h.Path = "/"
		}
	}
	if c := a.Container; c != nil {
		if c.Type == "" {
			c.Type = "DOCKER"
		}
		if c.Volumes == nil {
			c.Volumes = []Volume{}
		}
		if d := c.Docker; d != nil {
			if d.Network == "" {
				d.Network = "HOST"
			}
			if d.Parameters == nil {
				d.Parameters = []KeyValue{}
			}
			// Clients before Marathon 1.5 put the mappings under docker,
			// later ones beside it: both see them.
			if len(c.PortMappings) == 0 {
				c.PortMappings = d.PortMappings
			}
			d.PortMappings = c.PortMappings
		}
		for i := range c.PortMappings {
			if c.PortMappings[i].Protocol == "" {
				c.PortMappings[i].Protocol = "tcp"
			}
		}
	}
	_, hasDefs := obj["portDefinitions"]
	if !hasDefs && len(a.Ports) > 0 {
		a.PortDefinitions = nil
		for _, p := range a.Ports {
			a.PortDefinitions = append(a.PortDefinitions, PortDefinition{Port: p, Protocol: "tcp"})
		}
	}
	if a.PortDefinitions == nil {
		if a.usesPortMappings() {
			a.PortDefinitions = []PortDefinition{}
		} else if !hasDefs {
			a.PortDefinitions = []PortDefinition{{Port: 0, Protocol: "tcp"}}
		} else {
			a.PortDefinitions = []PortDefinition{}
		}
	}
	for i := range a.PortDefinitions {
		if a.PortDefinitions[i].Protocol == "" {
			a.PortDefinitions[i].Protocol = "tcp"
		}
	}
}

// usesPortMappings reports whether the app's ports are its container's
// port mappings (bridge networking) rather than port definitions.
func (a *App) usesPortMappings() bool {
	c := a.Container
	return c != nil && (len(c.PortMappings) > 0 || c.Docker != nil && (c.Docker.Network == "BRIDGE" || c.Docker.Network == "USER"))
}

// validate checks a decoded app as Marathon does and lists every
// violation by JSON path.
func (a *App) validate() []Detail {
	var ds []Detail
	add := func(path, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		for i := range ds {
			if ds[i].Path == path {
				ds[i].Errors = append(ds[i].Errors, msg)
				return
			}
		}
		ds = append(ds, Detail{Path: path, Errors: []string{msg}})
	}
	if a.ID == "" || a.ID == "/" {
		add("/id", "error.path.missing")
	}
	if a.Instances < 0 {
		add("/instances", "got %d, expected 0 or more", a.Instances)
	}
	for _, f := range []struct {
		path string
		v    float64
	}{{"/cpus", a.Cpus}, {"/mem", a.Mem}, {"/disk", a.Disk}, {"/gpus", a.Gpus}} {
		if f.v < 0 {
			add(f.path, "got %v, expected 0.0 or more", f.v)
		}
	}
	if a.Cmd != nil && len(a.Args) > 0 {
		add("/", "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.")
	}
	if a.Cmd == nil && len(a.Args) == 0 && a.Container == nil {
		add("/", "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.")
	}
	if a.BackoffSeconds < 0 {
		add("/backoffSeconds", "got %v, expected 0 or more", a.BackoffSeconds)
	}
	if a.BackoffFactor < 1 {
		add("/backoffFactor", "got %v, expected 1.0 or more", a.BackoffFactor)
	}
	if u := a.UpgradeStrategy; u.MinimumHealthCapacity < 0 || u.MinimumHealthCapacity > 1 {
		add("/upgradeStrategy/minimumHealthCapacity", "got %v, expected between 0.0 and 1.0", u.MinimumHealthCapacity)
	}
	if u := a.UpgradeStrategy; u.MaximumOverCapacity < 0 || u.MaximumOverCapacity > 1 {
		add("/upgradeStrategy/maximumOverCapacity", "got %v, expected between 0.0 and 1.0", u.MaximumOverCapacity)
	}
	if c := a.Container; c != nil {
		switch c.Type {
		case "DOCKER":
			if c.Docker == nil {
				add("/container/docker", "error.path.missing")
			} else if strings.TrimSpace(c.Docker.Image) == "" {
				add("/container/docker/image", "must not be empty")
			}
		case "MESOS":
		default:
			add("/container/type", "error.unknown.enum.literal")
		}
		if d := c.Docker; d != nil {
			switch d.Network {
			case "HOST", "BRIDGE", "USER", "NONE":
			default:
				add("/container/docker/network", "error.unknown.enum.literal")
			}
			if d.Network == "HOST" && len(c.PortMappings) > 0 {
				add("/container/docker/portMappings", "Port mappings are not allowed with HOST networking")
			}
		}
		for i, pm := range c.PortMappings {
			p := fmt.Sprintf("/container/portMappings(%d)", i)
			if pm.ContainerPort < 0 || pm.ContainerPort > 65535 {
				add(p+"/containerPort", "got %d, expected between 0 and 65535", pm.ContainerPort)
			}
			if pm.HostPort < 0 || pm.HostPort > 65535 {
				add(p+"/hostPort", "got %d, expected between 0 and 65535", pm.HostPort)
			}
			if pm.ServicePort < 0 || pm.ServicePort > 65535 {
				add(p+"/servicePort", "got %d, expected between 0 and 65535", pm.ServicePort)
			}
			if pr := pm.Protocol; pr != "tcp" && pr != "udp" && pr != "udp,tcp" && pr != "tcp,udp" {
				add(p+"/protocol", "is not one of (tcp,udp,udp,tcp)")
			}
		}
	}
	for i, pd := range a.PortDefinitions {
		if pd.Port < 0 || pd.Port > 65535 {
			add(fmt.Sprintf("/portDefinitions(%d)/port", i), "got %d, expected between 0 and 65535", pd.Port)
		}
	}
	if len(a.PortDefinitions) > 0 && a.usesPortMappings() {
		add("/portDefinitions", "portDefinitions are not allowed with BRIDGE or USER networking; use portMappings")
	}
	for i, c := range a.Constraints {
		if msg := checkConstraint(c); msg != "" {
			add(fmt.Sprintf("/constraints(%d)", i), "%s", msg)
		}
	}
	for i, h := range a.HealthChecks {
		p := fmt.Sprintf("/healthChecks(%d)", i)
		switch h.Protocol {
		case "HTTP", "HTTPS", "TCP", "MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP":
		case "COMMAND":
			if h.Command == nil || h.Command.Value == "" {
				add(p+"/command", "error.path.missing")
			}
		default:
			add(p+"/protocol", "error.unknown.enum.literal")
		}
		if n := h.MaxConsecutiveFailures; n != nil && *n < 0 {
			add(p+"/maxConsecutiveFailures", "got %d, expected 0 or more", *n)
		}
		if h.PortIndex != nil && (*h.PortIndex < 0 || *h.PortIndex >= max(a.portCount(), 1) && h.Protocol != "COMMAND") {
			add(p+"/portIndex", "Health check port indices must address an element of the ports array or container port mappings.")
		}
	}
	for i, d := range a.Dependencies {
		if _, ok := canonicalID(d, parentID(a.ID)); !ok {
			add(fmt.Sprintf("/dependencies(%d)", i), errIDPattern)
		}
	}
	if a.KillSelection != "YOUNGEST_FIRST" && a.KillSelection != "OLDEST_FIRST" {
		add("/killSelection", "error.unknown.enum.literal")
	}
	return ds
}

// portCount is the number of ports a task of the app gets.
func (a *App) portCount() int {
	if a.usesPortMappings() {
		return len(a.Container.PortMappings)
	}
	return len(a.PortDefinitions)
}

// checkConstraint returns Marathon's complaint about a constraint
// ([field, operator] or [field, operator, value]), or "".
func checkConstraint(c []string) string {
	if len(c) < 2 || len(c) > 3 {
		return "Each constraint must have either 2 or 3 fields"
	}
	value, hasValue := "", len(c) == 3
	if hasValue {
		value = c[2]
	}
	switch c[1] {
	case "UNIQUE":
		if hasValue {
			return "Value specified but not used"
		}
	case "CLUSTER", "IS":
		if !hasValue {
			return "Missing value"
		}
	case "GROUP_BY":
		if _, err := strconv.Atoi(value); hasValue && err != nil {
			return "Value was specified but is not a number"
		}
	case "MAX_PER":
		if _, err := strconv.Atoi(value); hasValue && err != nil {
			return "Value was not specified or is not a number"
		}
	case "LIKE", "UNLIKE":
		if !hasValue {
			return "A regular expression value must be provided"
		}
		if _, err := constraintPattern(value); err != nil {
			return "'" + value + "' is not a valid regular expression"
		}
	default:
		return "Constraint operator must be one of the following UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER or UNLIKE"
	}
	return ""
}

// constraintPattern compiles a LIKE or UNLIKE value: Marathon matches it
// against the whole attribute value.
func constraintPattern(v string) (*regexp.Regexp, error) {
	return regexp.Compile("^(?:" + v + ")$")
}
