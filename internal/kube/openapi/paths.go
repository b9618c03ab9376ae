package openapi

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// path is one URL template and its operations, in the neutral form both
// document versions are rendered from.
type path struct {
	url     string
	pathArg []string // "name", "namespace" (+ "pretty" always)
	ops     []operation
}

// operation is one method on a path.
type operation struct {
	method, id, action, desc string
	gvk                      *GVK
	tag                      string
	query                    []string // query parameter names
	body                     string   // definition name of the body, if any
	responses                map[int]string
	// stringResponse: the answer is text (pods/log), not a definition.
	stringResponse bool
	watch          bool
	patch          bool
	// noStrategic: a custom resource's patch, which takes no strategic
	// merge patch (kubectl reads this to choose a merge patch).
	noStrategic bool
}

// builder turns resources into paths.
type builder struct {
	defs defs
}

var (
	listParams   = []string{"allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit", "resourceVersion", "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds", "watch"}
	writeParams  = []string{"dryRun", "fieldManager", "fieldValidation"}
	patchParams  = []string{"dryRun", "fieldManager", "fieldValidation", "force"}
	deleteParams = []string{"dryRun", "gracePeriodSeconds", "ignoreStoreReadErrorWithClusterBreakingPotential", "orphanDependents", "propagationPolicy"}
)

// opGroup is the group's part of an operation id: "CoreV1", "AppsV1",
// "RbacAuthorizationV1", "NetworkingV1".
func opGroup(group, version string) string {
	g := strings.TrimSuffix(group, ".k8s.io")
	if g == "" {
		g = "core"
	}
	var b strings.Builder
	for _, part := range strings.Split(g, ".") {
		b.WriteString(title(part))
	}
	return b.String() + title(version)
}

// tag is the operation's tag: "core_v1", "rbacAuthorization_v1".
func tag(group, version string) string {
	g := strings.TrimSuffix(group, ".k8s.io")
	if g == "" {
		g = "core"
	}
	parts := strings.Split(g, ".")
	for i := 1; i < len(parts); i++ {
		parts[i] = title(parts[i])
	}
	return strings.Join(parts, "") + "_" + version
}

func title(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func (b *builder) def(g GVK) (string, error) {
	name, ok := b.defs.byGVK[g]
	if !ok {
		return "", fmt.Errorf("openapi: no definition for %s/%s %s", g.Group, g.Version, g.Kind)
	}
	return name, nil
}

func has(verbs []string, v string) bool { return verbs == nil || slices.Contains(verbs, v) }

// paths returns every path of one resource, as kube-apiserver lays them out.
func (b *builder) paths(r Resource) ([]path, error) {
	gvk := GVK{Group: r.Group, Version: r.Version, Kind: r.Kind}
	obj, err := b.def(gvk)
	if err != nil {
		return nil, err
	}
	list, err := b.def(GVK{Group: r.Group, Version: r.Version, Kind: r.Kind + "List"})
	if err != nil {
		return nil, err
	}
	prefix := "/" + gvName(r.Group, r.Version)
	og, tg := opGroup(r.Group, r.Version), tag(r.Group, r.Version)
	scope, nsPath, args := "", "", []string{}
	if r.Namespaced {
		scope, nsPath, args = "Namespaced", "namespaces/{namespace}/", []string{"namespace"}
	}
	itemArgs := append([]string{"name"}, args...)
	k := r.Kind
	var out []path

	coll := path{url: prefix + "/" + nsPath + r.Name, pathArg: args}
	if has(r.Verbs, "list") {
		coll.ops = append(coll.ops, operation{method: "get", id: "list" + og + scope + k, action: "list", gvk: &gvk, tag: tg,
			desc: "list or watch objects of kind " + k, query: listParams, responses: map[int]string{200: list}, watch: true})
	}
	if has(r.Verbs, "create") {
		coll.ops = append(coll.ops, operation{method: "post", id: "create" + og + scope + k, action: "post", gvk: &gvk, tag: tg,
			desc: "create " + article(k), query: writeParams, body: obj, responses: map[int]string{200: obj, 201: obj, 202: obj}})
	}
	if has(r.Verbs, "deletecollection") {
		coll.ops = append(coll.ops, operation{method: "delete", id: "delete" + og + "Collection" + scope + k, action: "deletecollection", gvk: &gvk, tag: tg,
			desc: "delete collection of " + k, query: append(slices.Clone(listParams), deleteParams...), body: defDelete, responses: map[int]string{200: defStatus}})
	}
	if len(coll.ops) > 0 {
		out = append(out, coll)
	}

	item := path{url: prefix + "/" + nsPath + r.Name + "/{name}", pathArg: itemArgs}
	if has(r.Verbs, "get") {
		item.ops = append(item.ops, operation{method: "get", id: "read" + og + scope + k, action: "get", gvk: &gvk, tag: tg,
			desc: "read the specified " + k, responses: map[int]string{200: obj}})
	}
	if has(r.Verbs, "update") {
		item.ops = append(item.ops, operation{method: "put", id: "replace" + og + scope + k, action: "put", gvk: &gvk, tag: tg,
			desc: "replace the specified " + k, query: writeParams, body: obj, responses: map[int]string{200: obj, 201: obj}})
	}
	if has(r.Verbs, "delete") {
		item.ops = append(item.ops, operation{method: "delete", id: "delete" + og + scope + k, action: "delete", gvk: &gvk, tag: tg,
			desc: "delete " + article(k), query: deleteParams, body: defDelete, responses: map[int]string{200: defStatus, 202: defStatus}})
	}
	if has(r.Verbs, "patch") {
		item.ops = append(item.ops, operation{method: "patch", id: "patch" + og + scope + k, action: "patch", gvk: &gvk, tag: tg,
			desc: "partially update the specified " + k, query: patchParams, body: defPatch, responses: map[int]string{200: obj, 201: obj}, patch: true, noStrategic: r.Defs != nil})
	}
	if len(item.ops) > 0 {
		out = append(out, item)
	}

	if has(r.Verbs, "watch") {
		w := prefix + "/watch/"
		out = append(out, path{url: w + nsPath + r.Name, pathArg: args, ops: []operation{{method: "get", id: "watch" + og + scope + k + "List", action: "watchlist", gvk: &gvk, tag: tg,
			desc: "watch individual changes to a list of " + k + ". deprecated: use the 'watch' parameter with a list operation instead.", query: listParams, responses: map[int]string{200: defWatch}, watch: true}}})
		out = append(out, path{url: w + nsPath + r.Name + "/{name}", pathArg: itemArgs, ops: []operation{{method: "get", id: "watch" + og + scope + k, action: "watch", gvk: &gvk, tag: tg,
			desc: "watch changes to an object of kind " + k + ". deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.", query: listParams, responses: map[int]string{200: defWatch}, watch: true}}})
		if r.Namespaced {
			out = append(out, path{url: w + r.Name, ops: []operation{{method: "get", id: "watch" + og + k + "ListForAllNamespaces", action: "watchlist", gvk: &gvk, tag: tg,
				desc: "watch individual changes to a list of " + k + ". deprecated: use the 'watch' parameter with a list operation instead.", query: listParams, responses: map[int]string{200: defWatch}, watch: true}}})
		}
	}
	if r.Namespaced && has(r.Verbs, "list") {
		out = append(out, path{url: prefix + "/" + r.Name, ops: []operation{{method: "get", id: "list" + og + k + "ForAllNamespaces", action: "list", gvk: &gvk, tag: tg,
			desc: "list or watch objects of kind " + k, query: listParams, responses: map[int]string{200: list}, watch: true}}})
	}

	for _, sub := range r.Subresources {
		p, err := b.subresource(r, sub, prefix+"/"+nsPath+r.Name+"/{name}/"+sub.Name, itemArgs, og+scope+k, tg)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func (b *builder) subresource(r Resource, sub Subresource, url string, args []string, idBase, tg string) (path, error) {
	p := path{url: url, pathArg: args}
	suffix := title(sub.Name)
	gvk := sub.Kind
	if sub.Name == "log" {
		p.ops = append(p.ops, operation{method: "get", id: "read" + idBase + "Log", action: "get", gvk: &gvk, tag: tg,
			desc: "read log of the specified " + r.Kind, stringResponse: true, responses: map[int]string{200: ""}})
		return p, nil
	}
	def, err := b.def(gvk)
	if err != nil {
		return p, err
	}
	for _, v := range sub.Verbs {
		switch v {
		case "get":
			p.ops = append(p.ops, operation{method: "get", id: "read" + idBase + suffix, action: "get", gvk: &gvk, tag: tg,
				desc: "read " + sub.Name + " of the specified " + r.Kind, responses: map[int]string{200: def}})
		case "update":
			p.ops = append(p.ops, operation{method: "put", id: "replace" + idBase + suffix, action: "put", gvk: &gvk, tag: tg,
				desc: "replace " + sub.Name + " of the specified " + r.Kind, query: writeParams, body: def, responses: map[int]string{200: def, 201: def}})
		case "patch":
			p.ops = append(p.ops, operation{method: "patch", id: "patch" + idBase + suffix, action: "patch", gvk: &gvk, tag: tg,
				desc: "partially update " + sub.Name + " of the specified " + r.Kind, query: patchParams, body: defPatch, responses: map[int]string{200: def, 201: def}, patch: true, noStrategic: r.Defs != nil})
		case "create":
			p.ops = append(p.ops, operation{method: "post", id: "create" + idBase + suffix, action: "post", gvk: &gvk, tag: tg,
				desc: "create " + sub.Name + " of " + article(r.Kind), query: writeParams, body: def, responses: map[int]string{200: def, 201: def, 202: def}})
		}
	}
	return p, nil
}

func article(kind string) string {
	if strings.ContainsRune("AEIOU", rune(kind[0])) {
		return "an " + kind
	}
	return "a " + kind
}
