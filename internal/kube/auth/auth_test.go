package auth

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/component-helpers/auth/rbac/validation"
)

// RuleAllows agrees with the upstream comparison (validation.Covers) on
// the one-request rule of every request, over random rules and requests.
func TestRuleAllowsAgreesWithCovers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pick := func(set ...string) []string {
		var out []string
		for _, s := range set {
			if r.IntN(3) == 0 {
				out = append(out, s)
			}
		}
		return out
	}
	one := func(set ...string) string { return set[r.IntN(len(set))] }
	for i := range 20000 {
		rule := rbacv1.PolicyRule{Verbs: pick("get", "list", "create", "*"), APIGroups: pick("", "apps", "*"),
			Resources: pick("pods", "pods/log", "*/log", "deployments", "*", "pods/*"), ResourceNames: pick("a", "b")}
		if r.IntN(4) == 0 {
			rule = rbacv1.PolicyRule{Verbs: pick("get", "post", "*"), NonResourceURLs: pick("/api", "/api/*", "/apis/*", "*", "/version")}
		}
		a := &Attributes{Verb: one("get", "list", "create", "post"), ResourceRequest: r.IntN(4) != 0,
			APIGroup: one("", "apps"), Resource: one("pods", "deployments"), Subresource: one("", "", "log"),
			Name: one("", "a", "b", "c"), Path: one("/api", "/api/v1", "/apis/apps", "/version", "/healthz")}
		req := rbacv1.PolicyRule{Verbs: []string{a.Verb}}
		if a.ResourceRequest {
			res := a.Resource
			if a.Subresource != "" {
				res += "/" + a.Subresource
			}
			req.APIGroups, req.Resources = []string{a.APIGroup}, []string{res}
			if a.Name != "" {
				req.ResourceNames = []string{a.Name}
			}
		} else {
			req.NonResourceURLs = []string{a.Path}
		}
		want, _ := validation.Covers([]rbacv1.PolicyRule{rule}, []rbacv1.PolicyRule{req})
		if got := RuleAllows(a, &rule); got != want {
			t.Fatalf("case %d: rule %+v request %+v: RuleAllows %v, Covers %v", i, rule, a, got, want)
		}
	}
}

func policySource(extra int) *StaticSource {
	src := &StaticSource{CR: ClusterRoles(), CRB: ClusterRoleBindings()}
	for i := range extra {
		ns := fmt.Sprintf("ns-%d", i%50)
		src.RB = append(src.RB, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("b-%d", i), Namespace: ns},
			RoleRef:  rbacv1.RoleRef{Kind: "ClusterRole", Name: []string{"view", "edit", "admin"}[i%3]},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: fmt.Sprintf("sa-%d", i), Namespace: ns}}})
	}
	return src
}

func TestRBACBootstrapPolicy(t *testing.T) {
	z := Chain{Masters{}, NewNode(nil), NewRBAC(policySource(1000))}
	sa := func(i int) *User { return ServiceAccountUser(fmt.Sprintf("ns-%d", i%50), fmt.Sprintf("sa-%d", i), "") }
	tests := []struct {
		name string
		a    Attributes
		want Decision
	}{
		{"admin anything", Attributes{User: &User{Name: "admin", Groups: []string{GroupMasters}}, Verb: "delete", ResourceRequest: true, Resource: "namespaces"}, DecisionAllow},
		{"view reads pods", Attributes{User: sa(0), Verb: "list", ResourceRequest: true, Resource: "pods", Namespace: "ns-0"}, DecisionAllow},
		{"view cannot write", Attributes{User: sa(0), Verb: "create", ResourceRequest: true, Resource: "pods", Namespace: "ns-0"}, DecisionNoOpinion},
		{"view not elsewhere", Attributes{User: sa(0), Verb: "list", ResourceRequest: true, Resource: "pods", Namespace: "ns-1"}, DecisionNoOpinion},
		{"view cannot read secrets", Attributes{User: sa(0), Verb: "get", ResourceRequest: true, Resource: "secrets", Namespace: "ns-0", Name: "s"}, DecisionNoOpinion},
		{"edit writes deployments", Attributes{User: sa(1), Verb: "create", ResourceRequest: true, APIGroup: "apps", Resource: "deployments", Namespace: "ns-1"}, DecisionAllow},
		{"edit no rolebindings", Attributes{User: sa(1), Verb: "create", ResourceRequest: true, APIGroup: "rbac.authorization.k8s.io", Resource: "rolebindings", Namespace: "ns-1"}, DecisionNoOpinion},
		{"admin rolebindings", Attributes{User: sa(2), Verb: "create", ResourceRequest: true, APIGroup: "rbac.authorization.k8s.io", Resource: "rolebindings", Namespace: "ns-2"}, DecisionAllow},
		{"discovery", Attributes{User: sa(0), Verb: "get", Path: "/apis/apps/v1"}, DecisionAllow},
		{"metrics refused", Attributes{User: sa(0), Verb: "get", Path: "/metrics"}, DecisionNoOpinion},
		{"bootstrapper CSR", Attributes{User: &User{Name: "system:bootstrap:abcdef", Groups: []string{GroupBootstrappers, GroupAuthenticated}}, Verb: "create", ResourceRequest: true, APIGroup: "certificates.k8s.io", Resource: "certificatesigningrequests"}, DecisionAllow},
		{"bootstrapper secrets", Attributes{User: &User{Name: "system:bootstrap:abcdef", Groups: []string{GroupBootstrappers, GroupAuthenticated}}, Verb: "list", ResourceRequest: true, Resource: "secrets"}, DecisionNoOpinion},
		{"node own lease", Attributes{User: NodeUser("n1"), Verb: "update", ResourceRequest: true, APIGroup: "coordination.k8s.io", Resource: "leases", Namespace: "kube-node-lease", Name: "n1"}, DecisionAllow},
		{"node secret unrelated", Attributes{User: NodeUser("n1"), Verb: "get", ResourceRequest: true, Resource: "secrets", Namespace: "default", Name: "x"}, DecisionNoOpinion},
		{"node lists secrets", Attributes{User: NodeUser("n1"), Verb: "list", ResourceRequest: true, Resource: "secrets", Namespace: "default"}, DecisionNoOpinion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, why := z.Authorize(context.Background(), &tc.a); got != tc.want {
				t.Fatalf("decision %v (%s), want %v", got, why, tc.want)
			}
		})
	}
}

func TestNodeRestriction(t *testing.T) {
	n1 := NodeUser("n1")
	tests := []struct {
		name    string
		a       Attributes
		podNode string
		refused bool
	}{
		{"own node status", Attributes{User: n1, Verb: "patch", ResourceRequest: true, Resource: "nodes", Subresource: "status", Name: "n1"}, "", false},
		{"other node status", Attributes{User: n1, Verb: "patch", ResourceRequest: true, Resource: "nodes", Subresource: "status", Name: "n2"}, "", true},
		{"other lease", Attributes{User: n1, Verb: "update", ResourceRequest: true, APIGroup: "coordination.k8s.io", Resource: "leases", Namespace: "kube-node-lease", Name: "n2"}, "", true},
		{"own pod status", Attributes{User: n1, Verb: "update", ResourceRequest: true, Resource: "pods", Subresource: "status", Namespace: "d", Name: "p"}, "n1", false},
		{"other pod status", Attributes{User: n1, Verb: "update", ResourceRequest: true, Resource: "pods", Subresource: "status", Namespace: "d", Name: "p"}, "n2", true},
		{"not a node", Attributes{User: &User{Name: "bob"}, Verb: "update", ResourceRequest: true, Resource: "nodes", Name: "n2"}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if why := NodeRestriction(&tc.a, tc.podNode); (why != "") != tc.refused {
				t.Fatalf("reason %q, refused want %v", why, tc.refused)
			}
		})
	}
}

// BenchmarkAuthorize1000Bindings is one authorization check with 1,000
// RoleBindings in the cluster (plus the bootstrap policy); the budget is
// 5 µs.
func BenchmarkAuthorize1000Bindings(b *testing.B) {
	z := Chain{Masters{}, NewNode(nil), NewRBAC(policySource(1000))}
	a := &Attributes{User: ServiceAccountUser("ns-7", "sa-507", ""), Verb: "get", ResourceRequest: true,
		APIGroup: "apps", Resource: "deployments", Namespace: "ns-7", Name: "web"}
	deny := &Attributes{User: ServiceAccountUser("ns-7", "sa-508", ""), Verb: "delete", ResourceRequest: true,
		Resource: "secrets", Namespace: "ns-9", Name: "x"}
	ctx := context.Background()
	if d, _ := z.Authorize(ctx, a); d != DecisionAllow {
		b.Fatal("not allowed")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			z.Authorize(ctx, a)
		} else {
			z.Authorize(ctx, deny)
		}
	}
}
