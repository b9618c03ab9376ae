// Package compose runs compose files on stratus's Kubernetes API: it reads
// them as docker compose does (compose-go: the Compose Specification,
// interpolation, .env, profiles, extends, include, default file and project
// names), turns the legacy v1 format into the specification first, maps the
// project onto Kubernetes objects (a namespace per project, a Deployment or
// bare Pod per service, Services for names and ports, ConfigMaps and
// Secrets) and applies them as an ordinary client of the API, the way
// `stratus compose up|down|ps|logs|scale|restart` needs. The mapping is
// documented in the README; this package is a client, never a part of the
// server.
package compose

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/consts"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"
)

// LoadOptions say which files to read and how, as docker compose's global
// flags do.
type LoadOptions struct {
	// Files are the -f arguments; none means COMPOSE_FILE, else the
	// default names (compose.yaml, compose.yml, docker-compose.yml,
	// docker-compose.yaml) in WorkingDir or its parents.
	Files []string
	// ProjectName is -p; "" means COMPOSE_PROJECT_NAME, the file's name:
	// key, or the project directory's name.
	ProjectName string
	// WorkingDir is --project-directory ("" is the first file's folder).
	WorkingDir string
	// Env is the process environment (KEY=VALUE), the base of
	// interpolation; the project's .env file adds to it.
	Env []string
	// EnvFiles are --env-file arguments (replacing .env).
	EnvFiles []string
	// Profiles are the active --profile names (and COMPOSE_PROFILES).
	Profiles []string
}

// Error is a problem in a compose file, located as precisely as the reader
// knows: the file, the line, the service and the key.
type Error struct {
	File    string
	Line    int
	Service string
	Key     string
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Service != "" {
		fmt.Fprintf(&b, "service %q: ", e.Service)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, "%s: ", e.Key)
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrUnsupported is wrapped by errors for keys stratus cannot honour.
var ErrUnsupported = errors.New("not supported by stratus compose")

// Load reads, converts (legacy v1) and validates a project. Nothing is
// created: a project Load returns can be converted without errors.
func Load(ctx context.Context, o LoadOptions) (*types.Project, error) {
	po, err := cli.NewProjectOptions(o.Files,
		cli.WithWorkingDirectory(o.WorkingDir),
		cli.WithEnv(o.Env),
		cli.WithEnvFiles(o.EnvFiles...),
		cli.WithDotEnv,
		cli.WithConfigFileEnv,
		cli.WithDefaultConfigPath,
		cli.WithName(o.ProjectName),
	)
	if err != nil {
		return nil, err
	}
	wd, err := po.GetWorkingDir()
	if err != nil {
		return nil, err
	}
	details, err := po.ReadConfigFiles(ctx, wd, po)
	if err != nil {
		return nil, err
	}
	sources := map[string]*source{}
	named := false
	for i := range details.ConfigFiles {
		f := &details.ConfigFiles[i]
		src, err := parseSource(f.Filename, f.Content)
		if err != nil {
			return nil, err
		}
		sources[f.Filename] = src
		named = named || src.named
		if src.legacy {
			if f.Content, err = src.converted(); err != nil {
				return nil, &Error{File: f.Filename, Err: err}
			}
		}
	}
	name, explicit := o.ProjectName, o.ProjectName != ""
	if !explicit {
		if n := po.Environment[consts.ComposeProjectName]; n != "" {
			name, explicit = n, true
		} else if !named {
			name = loader.NormalizeProjectName(filepath.Base(wd))
		}
	}
	profiles := o.Profiles
	if len(profiles) == 0 {
		for _, p := range strings.Split(po.Environment[consts.ComposeProfiles], ",") {
			if p = strings.TrimSpace(p); p != "" {
				profiles = append(profiles, p)
			}
		}
	}
	project, err := loader.LoadWithContext(ctx, types.ConfigDetails{
		ConfigFiles: details.ConfigFiles,
		WorkingDir:  details.WorkingDir,
		Environment: po.Environment,
	}, func(lo *loader.Options) {
		if name != "" {
			lo.SetProjectName(name, explicit)
		}
		lo.Profiles = profiles
	})
	if err != nil {
		return nil, locate(err, details.ConfigFiles, sources)
	}
	for _, f := range details.ConfigFiles {
		project.ComposeFiles = append(project.ComposeFiles, f.Filename)
	}
	if err := check(project, details.ConfigFiles, sources); err != nil {
		return nil, err
	}
	return project, nil
}

// source is one compose file as written, kept to find lines for errors.
type source struct {
	file   string
	root   *yaml.Node // the document's top mapping
	legacy bool       // v1: services at the top level
	named  bool       // has a name: key
}

func parseSource(file string, content []byte) (*source, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(content, &doc); err != nil {
		return nil, &Error{File: file, Line: yamlErrLine(err), Err: err}
	}
	s := &source{file: file}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		s.root = doc.Content[0]
	}
	if s.root == nil || s.root.Kind != yaml.MappingNode {
		return s, nil // compose-go gives the error
	}
	s.legacy = isLegacy(s.root)
	s.named = !s.legacy && mapValue(s.root, "name") != nil
	return s, nil
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

func yamlErrLine(err error) int {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1]) // the pattern matched digits only
		return n
	}
	return 0
}

// node finds the key node at path (service keys under services:, for a
// legacy file at the top), or the deepest one that exists; the root when
// nothing matches.
func (s *source) node(path []string) *yaml.Node {
	if s == nil || s.root == nil {
		return nil
	}
	if s.legacy && len(path) > 0 && path[0] == "services" {
		path = path[1:]
	}
	n, last := s.root, s.root
	for _, k := range path {
		switch n.Kind {
		case yaml.MappingNode:
			kn := mapKey(n, k)
			if kn == nil {
				return last
			}
			last, n = kn, mapValue(n, k)
		case yaml.SequenceNode:
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i < 0 || i >= len(n.Content) {
				return last
			}
			last, n = n.Content[i], n.Content[i]
		default:
			return last
		}
	}
	return last
}

// mapKey returns the key node k of mapping m (or nil).
func mapKey(m *yaml.Node, k string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k {
			return m.Content[i]
		}
	}
	return nil
}

// mapValue returns the value of key k in mapping m (or nil).
func mapValue(m *yaml.Node, k string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k {
			return m.Content[i+1]
		}
	}
	return nil
}

// schemaErrRE splits compose-go's schema errors: "validating FILE: PATH MSG".
var schemaErrRE = regexp.MustCompile(`^validating (.+?): ([^\s]+) (.*)$`)
var extraKeyRE = regexp.MustCompile(`additional properties? '([^']+)'`)

// locate turns a loader error into an *Error naming file, line, service
// and key where the message says which.
func locate(err error, files []types.ConfigFile, sources map[string]*source) error {
	var ce *Error
	if errors.As(err, &ce) {
		return err
	}
	msg := err.Error()
	m := schemaErrRE.FindStringSubmatch(msg)
	if m == nil {
		e := &Error{Err: err}
		if len(files) == 1 {
			e.File = files[0].Filename
		}
		// "service \"x\" ..." messages name the service themselves.
		return e
	}
	file, path := m[1], strings.Split(m[2], ".")
	if k := extraKeyRE.FindStringSubmatch(m[3]); k != nil {
		path = append(path, strings.Split(k[1], "', '")[0])
	}
	text := m[2] + " " + m[3]
	if m[3] == "false schema" {
		text = "unknown key (" + m[2] + ")"
	}
	e := &Error{File: file, Err: errors.New(text)}
	if len(path) >= 2 && path[0] == "services" {
		e.Service = path[1]
		if len(path) >= 3 {
			e.Key = strings.Join(path[2:], ".")
		}
	}
	if n := sources[file].node(path); n != nil {
		e.Line = n.Line
	}
	return e
}

// serviceLine is the line of a service's key (or of one of its keys).
func serviceLine(sources map[string]*source, files []types.ConfigFile, svc string, key ...string) (string, int) {
	for _, f := range files {
		if n := sources[f.Filename].node(append([]string{"services", svc}, key...)); n != nil && n != sources[f.Filename].root {
			return f.Filename, n.Line
		}
	}
	if len(files) > 0 {
		return files[0].Filename, 0
	}
	return "", 0
}

// check rejects what loads but cannot run on stratus, so nothing is
// created for a project that would half work.
func check(p *types.Project, files []types.ConfigFile, sources map[string]*source) error {
	fail := func(svc, key string, err error) error {
		file, line := serviceLine(sources, files, svc, key)
		return &Error{File: file, Line: line, Service: svc, Key: key, Err: err}
	}
	for _, name := range p.ServiceNames() {
		s := p.Services[name]
		if s.Image == "" {
			return fail(name, "build", fmt.Errorf("building images is %w: give the service an image", ErrUnsupported))
		}
		switch nm := s.NetworkMode; {
		case nm == "", nm == "host", nm == "bridge", nm == "default", nm == "none":
		default:
			return fail(name, "network_mode", fmt.Errorf("%q is %w (host, bridge and none are)", nm, ErrUnsupported))
		}
		if _, err := dnsName(name); err != nil {
			return fail(name, "", err)
		}
		for _, pt := range s.Ports {
			if pt.Protocol != "" && pt.Protocol != "tcp" && pt.Protocol != "udp" {
				return fail(name, "ports", fmt.Errorf("protocol %q is %w", pt.Protocol, ErrUnsupported))
			}
		}
		if s.User != "" {
			if _, _, err := parseUser(s.User); err != nil {
				return fail(name, "user", err)
			}
		}
		if err := checkRestart(s); err != nil {
			return fail(name, "restart", err)
		}
		for _, vf := range s.VolumesFrom {
			from := strings.TrimPrefix(strings.SplitN(vf, ":", 2)[0], "service:")
			if _, ok := p.Services[from]; !ok {
				return fail(name, "volumes_from", fmt.Errorf("%q is not a service of the project (containers are %w)", vf, ErrUnsupported))
			}
		}
	}
	// The mapping itself: what Convert rejects, Load rejects, located.
	if _, err := Convert(p, ConvertOptions{}); err != nil {
		var ce *Error
		if errors.As(err, &ce) && ce.File == "" {
			ce.File, ce.Line = serviceLine(sources, files, ce.Service, strings.Split(ce.Key, ".")...)
		}
		return err
	}
	return nil
}
