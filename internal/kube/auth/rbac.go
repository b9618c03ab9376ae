package auth

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Source is where RBAC reads roles and bindings (informer listers, or a
// fixed set in tests). Lists return shared objects: they are not changed.
type Source interface {
	ClusterRoles() ([]*rbacv1.ClusterRole, error)
	Roles() ([]*rbacv1.Role, error)
	ClusterRoleBindings() ([]*rbacv1.ClusterRoleBinding, error)
	RoleBindings() ([]*rbacv1.RoleBinding, error)
}

// RBAC is the role-based authorizer. It keeps an index of every binding by
// subject, rebuilt from Source after Invalidate (informer event handlers
// call it), so a check costs a few map look-ups and the rules of the
// user's own bindings, whatever the number of bindings in the cluster.
type RBAC struct {
	src   Source
	dirty atomic.Bool
	mu    sync.Mutex // serialises rebuilds
	snap  atomic.Pointer[rbacIndex]
}

// grant is one binding's rules, as resolved at index time.
type grant struct {
	binding string // "ClusterRoleBinding x" or "RoleBinding ns/x", for reasons
	role    string
	rules   []rbacv1.PolicyRule
}

// rbacIndex maps subject keys ("u:NAME", "g:NAME") to their grants.
type rbacIndex struct {
	cluster map[string][]grant
	ns      map[string]map[string][]grant
	// clusterRules (by name, aggregation applied) and nsRules ("ns/name")
	// are every role's rules.
	clusterRules, nsRules map[string][]rbacv1.PolicyRule
}

// NewRBAC builds the authorizer over src; the index is built on first use.
func NewRBAC(src Source) *RBAC {
	r := &RBAC{src: src}
	r.dirty.Store(true)
	return r
}

// Invalidate marks the index stale: the next check rebuilds it.
func (r *RBAC) Invalidate() { r.dirty.Store(true) }

func (r *RBAC) index() *rbacIndex {
	if !r.dirty.Load() {
		return r.snap.Load()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dirty.Swap(false) {
		idx, err := buildIndex(r.src)
		if err != nil {
			r.dirty.Store(true)
		} else {
			r.snap.Store(idx)
		}
	}
	if s := r.snap.Load(); s != nil {
		return s
	}
	return &rbacIndex{}
}

func buildIndex(src Source) (*rbacIndex, error) {
	crs, err := src.ClusterRoles()
	if err != nil {
		return nil, err
	}
	roles, err := src.Roles()
	if err != nil {
		return nil, err
	}
	crbs, err := src.ClusterRoleBindings()
	if err != nil {
		return nil, err
	}
	rbs, err := src.RoleBindings()
	if err != nil {
		return nil, err
	}
	clusterRules := make(map[string][]rbacv1.PolicyRule, len(crs))
	for _, cr := range crs {
		clusterRules[cr.Name] = cr.Rules
	}
	// Aggregated ClusterRoles get the rules of the roles their selectors
	// pick (themselves aggregated: admin picks edit, which picks view), as
	// the aggregation controller would write them.
	byName := make(map[string]*rbacv1.ClusterRole, len(crs))
	for _, cr := range crs {
		byName[cr.Name] = cr
	}
	var aggregated func(cr *rbacv1.ClusterRole, seen map[string]bool) []rbacv1.PolicyRule
	aggregated = func(cr *rbacv1.ClusterRole, seen map[string]bool) []rbacv1.PolicyRule {
		if cr.AggregationRule == nil || seen[cr.Name] {
			return cr.Rules
		}
		seen[cr.Name] = true
		rules := append([]rbacv1.PolicyRule(nil), cr.Rules...)
		for _, sel := range cr.AggregationRule.ClusterRoleSelectors {
			s, err := metav1.LabelSelectorAsSelector(&sel)
			if err != nil {
				continue
			}
			for _, other := range crs {
				if other.Name != cr.Name && s.Matches(labels.Set(other.Labels)) {
					rules = append(rules, aggregated(other, seen)...)
				}
			}
		}
		return rules
	}
	for _, cr := range crs {
		if cr.AggregationRule != nil {
			clusterRules[cr.Name] = aggregated(cr, map[string]bool{})
		}
	}
	nsRules := make(map[string][]rbacv1.PolicyRule, len(roles))
	for _, ro := range roles {
		nsRules[ro.Namespace+"/"+ro.Name] = ro.Rules
	}
	idx := &rbacIndex{cluster: map[string][]grant{}, ns: map[string]map[string][]grant{}, clusterRules: clusterRules, nsRules: nsRules}
	for _, b := range crbs {
		if b.RoleRef.Kind != "ClusterRole" {
			continue
		}
		rules, ok := clusterRules[b.RoleRef.Name]
		if !ok {
			continue
		}
		g := grant{binding: "ClusterRoleBinding " + b.Name, role: "ClusterRole " + b.RoleRef.Name, rules: rules}
		for _, s := range b.Subjects {
			if k := subjectKey(s, ""); k != "" {
				idx.cluster[k] = append(idx.cluster[k], g)
			}
		}
	}
	for _, b := range rbs {
		var (
			rules []rbacv1.PolicyRule
			ok    bool
		)
		switch b.RoleRef.Kind {
		case "ClusterRole":
			rules, ok = clusterRules[b.RoleRef.Name]
		case "Role":
			rules, ok = nsRules[b.Namespace+"/"+b.RoleRef.Name]
		}
		if !ok {
			continue
		}
		g := grant{binding: "RoleBinding " + b.Namespace + "/" + b.Name, role: b.RoleRef.Kind + " " + b.RoleRef.Name, rules: rules}
		m := idx.ns[b.Namespace]
		if m == nil {
			m = map[string][]grant{}
			idx.ns[b.Namespace] = m
		}
		for _, s := range b.Subjects {
			if k := subjectKey(s, b.Namespace); k != "" {
				m[k] = append(m[k], g)
			}
		}
	}
	return idx, nil
}

// subjectKey is the index key of a binding's subject; a ServiceAccount
// without a namespace in a RoleBinding is the binding's namespace's.
func subjectKey(s rbacv1.Subject, bindingNS string) string {
	switch s.Kind {
	case rbacv1.UserKind:
		return "u:" + s.Name
	case rbacv1.GroupKind:
		return "g:" + s.Name
	case rbacv1.ServiceAccountKind:
		ns := s.Namespace
		if ns == "" {
			ns = bindingNS
		}
		if ns == "" {
			return ""
		}
		return "u:" + saUserPrefix + ns + ":" + s.Name
	}
	return ""
}

// visit calls fn with each grant that applies to u in ns ("" for cluster
// scope only), until fn returns false.
func (idx *rbacIndex) visit(u *User, ns string, fn func(g *grant) bool) {
	each := func(m map[string][]grant) bool {
		if m == nil {
			return true
		}
		for i := range m["u:"+u.Name] {
			if !fn(&m["u:"+u.Name][i]) {
				return false
			}
		}
		for _, grp := range u.Groups {
			gs := m["g:"+grp]
			for i := range gs {
				if !fn(&gs[i]) {
					return false
				}
			}
		}
		return true
	}
	if !each(idx.cluster) || ns == "" {
		return
	}
	each(idx.ns[ns])
}

// Authorize implements Authorizer: allowed when a rule of a binding of
// the user, one of its groups or its ServiceAccount allows the request.
// RBAC never denies; without a rule it has no opinion.
func (r *RBAC) Authorize(_ context.Context, a *Attributes) (Decision, string) {
	if a.User == nil {
		return DecisionNoOpinion, ""
	}
	allowed := false
	r.index().visit(a.User, a.Namespace, func(g *grant) bool {
		for i := range g.rules {
			if RuleAllows(a, &g.rules[i]) {
				allowed = true
				return false
			}
		}
		return true
	})
	if allowed {
		return DecisionAllow, ""
	}
	return DecisionNoOpinion, ""
}

// RulesFor returns the rules that apply to u in namespace ns (cluster-wide
// ones included), for SelfSubjectRulesReview and escalation checks.
func (r *RBAC) RulesFor(u *User, ns string) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	r.index().visit(u, ns, func(g *grant) bool {
		out = append(out, g.rules...)
		return true
	})
	return out
}

// BindingCount is how many (subject, binding) pairs the index holds.
func (r *RBAC) BindingCount() int {
	idx := r.index()
	n := 0
	for _, g := range idx.cluster {
		n += len(g)
	}
	for _, m := range idx.ns {
		for _, g := range m {
			n += len(g)
		}
	}
	return n
}

func (g grant) String() string { return fmt.Sprintf("%s of %s", g.binding, g.role) }

// RoleRules returns the rules of the role a binding in ns refers to
// (a ClusterRole's with aggregation applied); nil when it does not exist.
func (r *RBAC) RoleRules(ref rbacv1.RoleRef, ns string) []rbacv1.PolicyRule {
	idx := r.index()
	if ref.Kind == "Role" {
		return idx.nsRules[ns+"/"+ref.Name]
	}
	return idx.clusterRules[ref.Name]
}
