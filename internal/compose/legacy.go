package compose

import (
	"go.yaml.in/yaml/v3"
)

// isLegacy says whether a file's top mapping is the v1 format: no version
// and no services key, but service definitions at the top level.
func isLegacy(root *yaml.Node) bool {
	if mapKey(root, "version") != nil || mapKey(root, "services") != nil || len(root.Content) == 0 {
		return false
	}
	for i := 1; i < len(root.Content); i += 2 {
		v := root.Content[i]
		if v.Kind != yaml.MappingNode || (mapKey(v, "image") == nil && mapKey(v, "build") == nil && mapKey(v, "extends") == nil) {
			return false
		}
	}
	return true
}

// legacyKeys renames v1 service keys to their specification names.
var legacyKeys = map[string]string{
	"net":        "network_mode",
	"dockerfile": "", // moved under build:, see converted
	"log_driver": "", // moved under logging:
	"log_opt":    "",
}

// converted returns the v1 file as a specification file: the services go
// under services:, net: becomes network_mode: ("container:x" naming
// another service becomes "service:x"), dockerfile: moves under build:,
// log_driver:/log_opt: under logging:. links:, volumes_from: and the rest
// mean the same in both.
func (s *source) converted() ([]byte, error) {
	services := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(s.root.Content); i += 2 {
		name, def := s.root.Content[i], s.root.Content[i+1]
		out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: def.Line, Column: def.Column}
		var logging, build *yaml.Node
		for j := 0; j+1 < len(def.Content); j += 2 {
			k, v := def.Content[j], def.Content[j+1]
			newKey, renamed := legacyKeys[k.Value]
			switch {
			case !renamed:
				out.Content = append(out.Content, k, v)
			case k.Value == "net":
				if v.Kind == yaml.ScalarNode && len(v.Value) > len("container:") && v.Value[:len("container:")] == "container:" {
					v = scalar("service:" + v.Value[len("container:"):])
				}
				out.Content = append(out.Content, keyLike(k, newKey), v)
			case k.Value == "dockerfile":
				if build == nil {
					build = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
				}
				build.Content = append(build.Content, keyLike(k, "dockerfile"), v)
			case k.Value == "log_driver":
				logging = ensureMap(logging)
				logging.Content = append(logging.Content, keyLike(k, "driver"), v)
			case k.Value == "log_opt":
				logging = ensureMap(logging)
				logging.Content = append(logging.Content, keyLike(k, "options"), v)
			}
		}
		if build != nil {
			// v1's build: is a context path; dockerfile: joins it.
			for j := 0; j+1 < len(out.Content); j += 2 {
				if out.Content[j].Value == "build" && out.Content[j+1].Kind == yaml.ScalarNode {
					build.Content = append(build.Content, scalar("context"), out.Content[j+1])
					out.Content[j+1] = build
					build = nil
					break
				}
			}
		}
		if logging != nil {
			out.Content = append(out.Content, scalar("logging"), logging)
		}
		services.Content = append(services.Content, name, out)
	}
	doc := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{scalar("services"), services}}
	return yaml.Marshal(doc)
}

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }

func keyLike(k *yaml.Node, v string) *yaml.Node {
	n := scalar(v)
	n.Line, n.Column = k.Line, k.Column
	return n
}

func ensureMap(n *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
}
