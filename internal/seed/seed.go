// Package seed reads a stratus seed file and applies it: one YAML file of
// several documents that says what a test wants to exist at start, in both
// layers. Documents of apiVersion seed.stratus.io/v1 are cloud state
// (CloudStack accounts with fixed API keys, GCE projects, key pairs,
// security groups, networks, VMs); every other document is a Kubernetes
// manifest of any kind the API serves.
//
// It is a client of the public APIs (CloudStack, the GCE gateway's token
// endpoint, the Kubernetes API), with one exception named in Clients:
// CloudStack only generates API keys, so fixed keys are set through a hook
// the caller provides. Parse checks every document's shape, Validate
// checks what they name against the running cloud (and dry-runs the
// manifests), and only then Apply writes, idempotently: a cloud object
// that exists by name is left as it is, manifests are server-side applied.
package seed

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// APIVersion marks the cloud documents.
const APIVersion = "seed.stratus.io/v1"

// File is a parsed seed file.
type File struct {
	Name string
	Docs []*Doc
}

// Doc is one document of the file.
type Doc struct {
	// N is the document's number (1-based) and Line its first line.
	N, Line int
	Kind    string
	// Cloud is a cloud document's value (one of the *…Spec types), nil
	// for a manifest.
	Cloud any
	// Object is a Kubernetes manifest.
	Object *unstructured.Unstructured
}

// Name is the document's object name.
func (d *Doc) Name() string {
	if d.Object != nil {
		return d.Object.GetName()
	}
	if n, ok := d.Cloud.(interface{ name() string }); ok {
		return n.name()
	}
	return ""
}

// Error names the document and field a problem is in.
type Error struct {
	File  string
	Doc   int
	Line  int
	Kind  string
	Name  string
	Field string
	Err   error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: document %d", e.File, e.Line, e.Doc)
	if e.Kind != "" {
		fmt.Fprintf(&b, " (%s", e.Kind)
		if e.Name != "" {
			fmt.Fprintf(&b, " %q", e.Name)
		}
		b.WriteString(")")
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ", field %s", e.Field)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

func (f *File) errorf(d *Doc, field, format string, args ...any) *Error {
	return &Error{File: f.Name, Doc: d.N, Line: d.Line, Kind: d.Kind, Name: d.Name(), Field: field, Err: fmt.Errorf(format, args...)}
}

// The cloud kinds.

// AccountSpec is a CloudStack account with its first user.
type AccountSpec struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	// Type is user (default), domain-admin or admin.
	Type      string `json:"type,omitempty"`
	Username  string `json:"username,omitempty"`
	Password  string `json:"password,omitempty"`
	Email     string `json:"email,omitempty"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	// APIKey and SecretKey, when set, are the user's keys (so CI can
	// hard-code them); else keys are generated once.
	APIKey    string `json:"apiKey,omitempty"`
	SecretKey string `json:"secretKey,omitempty"`
}

func (s *AccountSpec) name() string { return s.Name }

// GCEProjectSpec is a GCE project: an account of the project's name
// (the gateway maps each account to a project).
type GCEProjectSpec struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	APIKey     string `json:"apiKey,omitempty"`
	SecretKey  string `json:"secretKey,omitempty"`
}

func (s *GCEProjectSpec) name() string { return s.Name }

// KeyPairSpec is an SSH key pair.
type KeyPairSpec struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Account    string `json:"account,omitempty"`
	PublicKey  string `json:"publicKey"`
}

func (s *KeyPairSpec) name() string { return s.Name }

// SecurityGroupSpec is a security group with its ingress rules.
type SecurityGroupSpec struct {
	APIVersion  string     `json:"apiVersion"`
	Kind        string     `json:"kind"`
	Name        string     `json:"name"`
	Account     string     `json:"account,omitempty"`
	Description string     `json:"description,omitempty"`
	Ingress     []RuleSpec `json:"ingress,omitempty"`
}

func (s *SecurityGroupSpec) name() string { return s.Name }

// RuleSpec is an ingress rule.
type RuleSpec struct {
	Protocol  string `json:"protocol"`
	StartPort int    `json:"startPort,omitempty"`
	EndPort   int    `json:"endPort,omitempty"`
	CIDR      string `json:"cidr,omitempty"`
}

// NetworkSpec is a guest network.
type NetworkSpec struct {
	APIVersion  string `json:"apiVersion"`
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	Account     string `json:"account,omitempty"`
	Zone        string `json:"zone"`
	Offering    string `json:"offering,omitempty"`
	DisplayText string `json:"displayText,omitempty"`
	Gateway     string `json:"gateway,omitempty"`
	Netmask     string `json:"netmask,omitempty"`
}

func (s *NetworkSpec) name() string { return s.Name }

// VirtualMachineSpec is a VM, deployed (and started unless State is Stopped).
type VirtualMachineSpec struct {
	APIVersion     string   `json:"apiVersion"`
	Kind           string   `json:"kind"`
	Name           string   `json:"name"`
	Account        string   `json:"account,omitempty"`
	Zone           string   `json:"zone"`
	Offering       string   `json:"offering"`
	Template       string   `json:"template"`
	Networks       []string `json:"networks,omitempty"`
	SecurityGroups []string `json:"securityGroups,omitempty"`
	KeyPair        string   `json:"keyPair,omitempty"`
	UserData       string   `json:"userData,omitempty"`
	// State is Running (default) or Stopped.
	State string `json:"state,omitempty"`
}

func (s *VirtualMachineSpec) name() string { return s.Name }

// cloudKinds makes the value each cloud kind decodes into.
var cloudKinds = map[string]func() any{
	"Account":        func() any { return &AccountSpec{} },
	"GCEProject":     func() any { return &GCEProjectSpec{} },
	"KeyPair":        func() any { return &KeyPairSpec{} },
	"SecurityGroup":  func() any { return &SecurityGroupSpec{} },
	"Network":        func() any { return &NetworkSpec{} },
	"VirtualMachine": func() any { return &VirtualMachineSpec{} },
}

// cloudOrder is the order cloud documents are applied in.
var cloudOrder = []string{"Account", "GCEProject", "KeyPair", "SecurityGroup", "Network", "VirtualMachine"}

var docSep = regexp.MustCompile(`^---\s*($|#)`)

// Parse reads a seed file. name is used in errors. Every document's shape
// is checked (unknown and missing fields), and all problems are reported
// together.
func Parse(name string, data []byte) (*File, error) {
	f := &File{Name: name}
	var errs []error
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var cur bytes.Buffer
	start, line, n := 1, 0, 0
	flush := func() {
		body := cur.Bytes()
		cur.Reset()
		if len(bytes.TrimSpace(stripComments(body))) == 0 {
			return
		}
		n++
		d, err := f.parseDoc(n, start, body)
		if err != nil {
			errs = append(errs, err)
			return
		}
		f.Docs = append(f.Docs, d)
	}
	for sc.Scan() {
		line++
		if docSep.MatchString(sc.Text()) {
			flush()
			start = line + 1
			continue
		}
		if cur.Len() == 0 && len(bytes.TrimSpace(sc.Bytes())) == 0 {
			start = line + 1
		}
		cur.Write(sc.Bytes())
		cur.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	flush()
	if err := f.checkNames(); err != nil {
		errs = append(errs, err...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}

func stripComments(b []byte) []byte {
	var out []byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if t := bytes.TrimSpace(l); len(t) > 0 && t[0] != '#' {
			out = append(out, t...)
		}
	}
	return out
}

func (f *File) parseDoc(n, line int, body []byte) (*Doc, error) {
	d := &Doc{N: n, Line: line}
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	var obj map[string]any
	if err := yaml.Unmarshal(body, &obj); err != nil {
		return nil, f.errorf(d, "", "not YAML: %v", err)
	}
	if obj == nil {
		return nil, f.errorf(d, "", "not a mapping")
	}
	if err := yaml.Unmarshal(body, &head); err != nil {
		return nil, f.errorf(d, "", "%v", err)
	}
	d.Kind = head.Kind
	switch {
	case head.APIVersion == "":
		return nil, f.errorf(d, "apiVersion", "required (%s for cloud state, or a Kubernetes group/version)", APIVersion)
	case head.Kind == "":
		return nil, f.errorf(d, "kind", "required")
	}
	if head.APIVersion == APIVersion {
		mk, ok := cloudKinds[head.Kind]
		if !ok {
			return nil, f.errorf(d, "kind", "%s has no kind %q (want one of %s)", APIVersion, head.Kind, strings.Join(cloudOrder, ", "))
		}
		v := mk()
		if err := yaml.UnmarshalStrict(body, v); err != nil {
			_ = yaml.Unmarshal(body, v) // for the name the error gives
			d.Cloud = v
			if field := fieldOf(err); field != "" {
				return nil, f.errorf(d, field, "unknown field (%s %s has %s)", APIVersion, head.Kind, fieldsOf(v))
			}
			return nil, f.errorf(d, "", "%v", err)
		}
		d.Cloud = v
		if field, err := checkCloud(v); err != nil {
			return nil, f.errorf(d, field, "%v", err)
		}
		return d, nil
	}
	u := &unstructured.Unstructured{Object: obj}
	d.Object = u
	if u.GetName() == "" {
		return nil, f.errorf(d, "metadata.name", "required (a seed object must have a name to be applied again idempotently)")
	}
	return d, nil
}

// fieldsOf lists a cloud kind's fields.
func fieldsOf(v any) string {
	t := reflect.TypeOf(v).Elem()
	var out []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "apiVersion" && name != "kind" {
			out = append(out, name)
		}
	}
	return strings.Join(out, ", ")
}

var unknownField = regexp.MustCompile(`unknown field "([^"]+)"`)

// fieldOf finds the field a strict decoding error names.
func fieldOf(err error) string {
	if m := unknownField.FindStringSubmatch(err.Error()); m != nil {
		return m[1]
	}
	return ""
}

// checkCloud checks a cloud document's required fields and values.
func checkCloud(v any) (string, error) {
	req := func(field, val string) (string, error) {
		if val == "" {
			return field, errors.New("required")
		}
		return "", nil
	}
	keys := func(api, secret string) (string, error) {
		if (api == "") != (secret == "") {
			return "apiKey", errors.New("apiKey and secretKey go together")
		}
		if api != "" && (len(api) < 8 || len(secret) < 8) {
			return "apiKey", errors.New("apiKey and secretKey must be at least 8 characters")
		}
		return "", nil
	}
	switch s := v.(type) {
	case *AccountSpec:
		if f, err := req("name", s.Name); err != nil {
			return f, err
		}
		switch s.Type {
		case "", "user", "domain-admin", "admin":
		default:
			return "type", fmt.Errorf("%q: want user, domain-admin or admin", s.Type)
		}
		return keys(s.APIKey, s.SecretKey)
	case *GCEProjectSpec:
		if f, err := req("name", s.Name); err != nil {
			return f, err
		}
		if !gceName.MatchString(s.Name) {
			return "name", fmt.Errorf("%q: a project name is 6-30 lowercase letters, digits or hyphens, starting with a letter", s.Name)
		}
		return keys(s.APIKey, s.SecretKey)
	case *KeyPairSpec:
		if f, err := req("name", s.Name); err != nil {
			return f, err
		}
		return req("publicKey", s.PublicKey)
	case *SecurityGroupSpec:
		if f, err := req("name", s.Name); err != nil {
			return f, err
		}
		for i, r := range s.Ingress {
			switch strings.ToLower(r.Protocol) {
			case "tcp", "udp", "icmp", "all":
			default:
				return fmt.Sprintf("ingress[%d].protocol", i), fmt.Errorf("%q: want tcp, udp, icmp or all", r.Protocol)
			}
		}
		return "", nil
	case *NetworkSpec:
		if f, err := req("name", s.Name); err != nil {
			return f, err
		}
		return req("zone", s.Zone)
	case *VirtualMachineSpec:
		for _, c := range [][2]string{{"name", s.Name}, {"zone", s.Zone}, {"offering", s.Offering}, {"template", s.Template}} {
			if f, err := req(c[0], c[1]); err != nil {
				return f, err
			}
		}
		switch s.State {
		case "", "Running", "Stopped":
		default:
			return "state", fmt.Errorf("%q: want Running or Stopped", s.State)
		}
	}
	return "", nil
}

var gceName = regexp.MustCompile(`^[a-z][-a-z0-9]{4,28}[a-z0-9]$`)

// checkNames refuses two documents for the same object.
func (f *File) checkNames() []error {
	seen := map[string]*Doc{}
	var errs []error
	for _, d := range f.Docs {
		key := d.Kind + "/" + d.Name()
		if d.Object != nil {
			key = d.Object.GetAPIVersion() + "/" + d.Kind + "/" + d.Object.GetNamespace() + "/" + d.Name()
		} else if a := accountOf(d.Cloud); a != "" {
			key += "@" + a
		}
		if d.Kind == "GCEProject" {
			key = "Account/" + d.Name()
		}
		if prev, ok := seen[key]; ok {
			errs = append(errs, f.errorf(d, "name", "the same object as document %d", prev.N))
			continue
		}
		seen[key] = d
	}
	return errs
}

// accountOf is the account a cloud document's object belongs to.
func accountOf(v any) string {
	switch s := v.(type) {
	case *KeyPairSpec:
		return s.Account
	case *SecurityGroupSpec:
		return s.Account
	case *NetworkSpec:
		return s.Account
	case *VirtualMachineSpec:
		return s.Account
	}
	return ""
}
