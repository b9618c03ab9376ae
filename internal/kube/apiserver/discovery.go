package apiserver

import (
	"encoding/json"
	"net/http"
	"runtime"
	"slices"
	"sort"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"

	"github.com/stratus-cloud/stratus/internal/kube/registry"
)

// Kubernetes version the API reports (kubectl warns on skew > 1 minor).
const (
	kubeMajor = "1"
	kubeMinor = "33"
	kubeGit   = "v1.33.0-stratus"
)

var resourceVerbs = metav1.Verbs{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}

// verbsOf is what the main resource of r serves.
func verbsOf(r *registry.Resource) metav1.Verbs {
	if r.Verbs != nil {
		return r.Verbs
	}
	return resourceVerbs
}

func subresourceVerbs(sub string) metav1.Verbs {
	switch sub {
	case "log":
		return metav1.Verbs{"get"}
	case "binding", "eviction", "token":
		return metav1.Verbs{"create"}
	case "attach", "exec", "portforward":
		return metav1.Verbs{"create", "get"}
	case "finalize":
		return metav1.Verbs{"update"}
	}
	return metav1.Verbs{"get", "patch", "update"}
}

func subresourceKind(r *registry.Resource, sub string) (group, version, kind string) {
	switch sub {
	case "scale":
		return "autoscaling", "v1", "Scale"
	case "binding":
		return "", "v1", "Binding"
	case "eviction":
		return "policy", "v1", "Eviction"
	case "log":
		return "", "v1", "Pod"
	case "attach":
		return "", "v1", "PodAttachOptions"
	case "exec":
		return "", "v1", "PodExecOptions"
	case "portforward":
		return "", "v1", "PodPortForwardOptions"
	case "token":
		return "authentication.k8s.io", "v1", "TokenRequest"
	}
	return r.Group, r.Version, r.Kind
}

// discoverySubresources are r's subresources as discovery lists them,
// sorted as kube-apiserver's installer sorts its paths: the stored ones
// and those the server answers apart from the registry (pods' exec,
// attach and portforward, streamed to the node; serviceaccounts' token,
// the TokenRequest API). The proxy subresources (pods, services and
// nodes) are not served, so not listed.
func discoverySubresources(r *registry.Resource) []string {
	subs := slices.Clone(r.Subresources)
	if r.Group == "" && r.Version == "v1" {
		switch r.Name {
		case "pods":
			subs = append(subs, "attach", "exec", "portforward")
		case "serviceaccounts":
			subs = append(subs, "token")
		}
	}
	slices.Sort(subs)
	return slices.Compact(subs)
}

func (s *Server) writeJSON(w http.ResponseWriter, contentType string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		s.writeError(w, err)
		return
	}
	writeRaw(w, contentType, http.StatusOK, append(data, '\n'))
}

func (s *Server) serveVersion(w http.ResponseWriter, _ *http.Request) {
	s.writeJSON(w, mtJSON, version.Info{
		Major: kubeMajor, Minor: kubeMinor, GitVersion: kubeGit, GitCommit: "0000000000000000000000000000000000000000",
		GitTreeState: "clean", BuildDate: "2026-01-01T00:00:00Z", GoVersion: runtime.Version(), Compiler: runtime.Compiler,
		Platform: runtime.GOOS + "/" + runtime.GOARCH,
	})
}

// wantsAggregated reports whether the client accepts aggregated discovery.
func wantsAggregated(r *http.Request) (string, bool) {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		p := strings.ReplaceAll(part, " ", "")
		if strings.Contains(p, "g=apidiscovery.k8s.io") && strings.Contains(p, "as=APIGroupDiscoveryList") {
			if strings.Contains(p, "v=v2beta1") {
				return "v2beta1", true
			}
			if strings.Contains(p, "v=v2") {
				return "v2", true
			}
		}
	}
	return "", false
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	if v, ok := wantsAggregated(r); ok {
		s.writeAggregated(w, v, true)
		return
	}
	host := r.Host
	s.writeJSON(w, mtJSON, &metav1.APIVersions{
		TypeMeta:                   metav1.TypeMeta{Kind: "APIVersions"},
		Versions:                   []string{"v1"},
		ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: host}},
	})
}

func (s *Server) serveAPIs(w http.ResponseWriter, r *http.Request) {
	if v, ok := wantsAggregated(r); ok {
		s.writeAggregated(w, v, false)
		return
	}
	list := &metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
	for _, g := range s.apiGroups() {
		if g.Name != "" {
			list.Groups = append(list.Groups, g)
		}
	}
	for _, vg := range virtualGroups() {
		list.Groups = append(list.Groups, vg.group())
	}
	s.writeJSON(w, mtJSON, list)
}

// apiGroups lists the served groups with their versions, the preferred
// (highest by Kubernetes' version order, as for CRDs) first.
func (s *Server) apiGroups() []metav1.APIGroup {
	var out []metav1.APIGroup
	index := map[string]int{}
	for _, gv := range s.reg.GroupVersions() {
		gvd := metav1.GroupVersionForDiscovery{GroupVersion: gv.String(), Version: gv.Version}
		i, ok := index[gv.Group]
		if !ok {
			index[gv.Group] = len(out)
			out = append(out, metav1.APIGroup{Name: gv.Group})
			i = len(out) - 1
		}
		out[i].Versions = append(out[i].Versions, gvd)
	}
	for i := range out {
		vs := out[i].Versions
		sort.SliceStable(vs, func(a, b int) bool {
			return version.CompareKubeAwareVersionStrings(vs[a].Version, vs[b].Version) > 0
		})
		out[i].PreferredVersion = vs[0]
	}
	return out
}

// groupVersionPath recognises /api/v1 and /apis/<group>/<version>.
func groupVersionPath(p string) (schema.GroupVersion, bool) {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	switch {
	case len(parts) == 2 && parts[0] == "api":
		return schema.GroupVersion{Version: parts[1]}, true
	case len(parts) == 3 && parts[0] == "apis":
		return schema.GroupVersion{Group: parts[1], Version: parts[2]}, true
	case len(parts) == 2 && parts[0] == "apis":
		return schema.GroupVersion{Group: parts[1]}, true
	}
	return schema.GroupVersion{}, false
}

func (s *Server) serveResourceList(w http.ResponseWriter, _ *http.Request, gv schema.GroupVersion) {
	for _, vg := range virtualGroups() {
		if gv.Group != vg.gv.Group {
			continue
		}
		switch gv.Version {
		case "":
			g := vg.group()
			g.TypeMeta = metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}
			s.writeJSON(w, mtJSON, &g)
		case vg.gv.Version:
			s.writeJSON(w, mtJSON, &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
				GroupVersion: vg.gv.String(), APIResources: vg.resources})
		default:
			s.writeError(w, notFoundPath())
		}
		return
	}
	if gv.Version == "" {
		// /apis/<group>: the APIGroup.
		for _, g := range s.apiGroups() {
			if g.Name == gv.Group && gv.Group != "" {
				g.TypeMeta = metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}
				s.writeJSON(w, mtJSON, &g)
				return
			}
		}
		s.writeError(w, notFoundPath())
		return
	}
	list := &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv.String()}
	found := false
	for _, r := range s.reg.All() {
		if r.Group != gv.Group || r.Version != gv.Version {
			continue
		}
		found = true
		list.APIResources = append(list.APIResources, metav1.APIResource{
			Name: r.Name, SingularName: r.Singular, Namespaced: r.Namespaced, Kind: r.Kind,
			Verbs: verbsOf(r), ShortNames: r.ShortNames, Categories: r.Categories,
		})
		for _, sub := range discoverySubresources(r) {
			g, v, k := subresourceKind(r, sub)
			ar := metav1.APIResource{Name: r.Name + "/" + sub, Namespaced: r.Namespaced, Kind: k, Verbs: subresourceVerbs(sub)}
			if g != r.Group || v != r.Version {
				ar.Group, ar.Version = g, v
			}
			list.APIResources = append(list.APIResources, ar)
		}
	}
	if !found {
		s.writeError(w, notFoundPath())
		return
	}
	s.writeJSON(w, mtJSON, list)
}

func (s *Server) writeAggregated(w http.ResponseWriter, v string, core bool) {
	list := apidiscoveryv2.APIGroupDiscoveryList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupDiscoveryList", APIVersion: "apidiscovery.k8s.io/" + v}}
	all := s.reg.All()
	for _, g := range s.apiGroups() {
		if (g.Name == "") != core {
			continue
		}
		gd := apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: g.Name}}
		for _, gvd := range g.Versions {
			gv := schema.GroupVersion{Group: g.Name, Version: gvd.Version}
			vd := apidiscoveryv2.APIVersionDiscovery{Version: gv.Version, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}
			for _, r := range all {
				if r.Group != gv.Group || r.Version != gv.Version {
					continue
				}
				scope := apidiscoveryv2.ScopeCluster
				if r.Namespaced {
					scope = apidiscoveryv2.ScopeNamespace
				}
				rd := apidiscoveryv2.APIResourceDiscovery{
					Resource: r.Name, ResponseKind: &metav1.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind},
					Scope: scope, SingularResource: r.Singular, Verbs: verbsOf(r), ShortNames: r.ShortNames, Categories: r.Categories,
				}
				for _, sub := range discoverySubresources(r) {
					g, ver, k := subresourceKind(r, sub)
					rd.Subresources = append(rd.Subresources, apidiscoveryv2.APISubresourceDiscovery{
						Subresource: sub, ResponseKind: &metav1.GroupVersionKind{Group: g, Version: ver, Kind: k}, Verbs: subresourceVerbs(sub),
					})
				}
				vd.Resources = append(vd.Resources, rd)
			}
			gd.Versions = append(gd.Versions, vd)
		}
		list.Items = append(list.Items, gd)
	}
	if !core {
		for _, vg := range virtualGroups() {
			list.Items = append(list.Items, vg.aggregated())
		}
	}
	s.writeJSON(w, "application/json;g=apidiscovery.k8s.io;v="+v+";as=APIGroupDiscoveryList", list)
}

// virtualGroup is a group version served outside the registry: nothing is
// stored under it (metrics are computed, reviews answered at once).
type virtualGroup struct {
	gv        schema.GroupVersion
	resources []metav1.APIResource
}

// virtualGroups are the groups discovery lists beside the registry's, as
// kube-apiserver lists them (controller-runtime's REST mapper finds a
// SubjectAccessReview's resource only through discovery).
func virtualGroups() []virtualGroup {
	create := metav1.Verbs{"create"}
	return []virtualGroup{
		{gv: schema.GroupVersion{Group: "authentication.k8s.io", Version: "v1"}, resources: []metav1.APIResource{
			{Name: "selfsubjectreviews", Kind: "SelfSubjectReview", Verbs: create},
			{Name: "tokenreviews", Kind: "TokenReview", Verbs: create},
		}},
		{gv: schema.GroupVersion{Group: "authorization.k8s.io", Version: "v1"}, resources: []metav1.APIResource{
			{Name: "localsubjectaccessreviews", Namespaced: true, Kind: "LocalSubjectAccessReview", Verbs: create},
			{Name: "selfsubjectaccessreviews", Kind: "SelfSubjectAccessReview", Verbs: create},
			{Name: "selfsubjectrulesreviews", Kind: "SelfSubjectRulesReview", Verbs: create},
			{Name: "subjectaccessreviews", Kind: "SubjectAccessReview", Verbs: create},
		}},
		{gv: metricsGV, resources: metricsResources()},
	}
}

func (vg virtualGroup) group() metav1.APIGroup {
	gvd := metav1.GroupVersionForDiscovery{GroupVersion: vg.gv.String(), Version: vg.gv.Version}
	return metav1.APIGroup{Name: vg.gv.Group, Versions: []metav1.GroupVersionForDiscovery{gvd}, PreferredVersion: gvd}
}

func (vg virtualGroup) aggregated() apidiscoveryv2.APIGroupDiscovery {
	vd := apidiscoveryv2.APIVersionDiscovery{Version: vg.gv.Version, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}
	for _, ar := range vg.resources {
		scope := apidiscoveryv2.ScopeCluster
		if ar.Namespaced {
			scope = apidiscoveryv2.ScopeNamespace
		}
		vd.Resources = append(vd.Resources, apidiscoveryv2.APIResourceDiscovery{Resource: ar.Name,
			ResponseKind: &metav1.GroupVersionKind{Group: vg.gv.Group, Version: vg.gv.Version, Kind: ar.Kind}, Scope: scope, Verbs: ar.Verbs})
	}
	return apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: vg.gv.Group}, Versions: []apidiscoveryv2.APIVersionDiscovery{vd}}
}
