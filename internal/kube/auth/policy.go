package auth

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The bootstrap policy: the ClusterRoles and ClusterRoleBindings a v1.33
// kube-apiserver creates at start (labelled kubernetes.io/bootstrapping:
// rbac-defaults, annotated for auto-update), written from the published
// role definitions. Only the roles stratus's own parts and its users need
// are here; the controller-manager's per-controller roles are not, since
// stratus's controllers run in-process as system:masters (see
// docs/architecture.md).

var (
	readVerbs  = []string{"get", "list", "watch"}
	writeVerbs = []string{"create", "delete", "deletecollection", "patch", "update"}
	allVerbs   = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
)

// rule builds a PolicyRule: verbs, one API group, resources.
func rule(verbs []string, group string, resources ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, APIGroups: []string{group}, Resources: resources}
}

func urls(verbs []string, u ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, NonResourceURLs: u}
}

func v(verbs ...string) []string { return verbs }

func bootstrapMeta(name string, lbls map[string]string) metav1.ObjectMeta {
	l := map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"}
	for k, v := range lbls {
		l[k] = v
	}
	return metav1.ObjectMeta{Name: name, Labels: l,
		Annotations: map[string]string{"rbac.authorization.kubernetes.io/autoupdate": "true"}}
}

func aggregate(to string) map[string]string {
	return map[string]string{"rbac.authorization.k8s.io/aggregate-to-" + to: "true"}
}

// viewRules, editRules and adminRules are the rules of the aggregate-to-*
// roles; view ⊂ edit ⊂ admin through aggregation.
func viewRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		rule(readVerbs, "", "configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods",
			"replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status"),
		rule(readVerbs, "", "bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
			"replicationcontrollers/status", "resourcequotas", "resourcequotas/status"),
		rule(readVerbs, "", "namespaces"),
		rule(readVerbs, "discovery.k8s.io", "endpointslices"),
		rule(readVerbs, "apps", "controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale",
			"deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"),
		rule(readVerbs, "autoscaling", "horizontalpodautoscalers", "horizontalpodautoscalers/status"),
		rule(readVerbs, "batch", "cronjobs", "cronjobs/status", "jobs", "jobs/status"),
		rule(readVerbs, "extensions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status",
			"ingresses", "ingresses/status", "networkpolicies", "replicasets", "replicasets/scale", "replicasets/status", "replicationcontrollers/scale"),
		rule(readVerbs, "policy", "poddisruptionbudgets", "poddisruptionbudgets/status"),
		rule(readVerbs, "networking.k8s.io", "ingresses", "ingresses/status", "networkpolicies"),
	}
}

func editRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		rule(v("impersonate"), "", "serviceaccounts"),
		rule(writeVerbs, "", "pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"),
		rule(v("create"), "", "pods/eviction"),
		rule(writeVerbs, "", "configmaps", "events", "persistentvolumeclaims", "replicationcontrollers",
			"replicationcontrollers/scale", "secrets", "serviceaccounts", "services", "services/proxy"),
		rule(v("create"), "", "serviceaccounts/token"),
		rule(writeVerbs, "apps", "daemonsets", "deployments", "deployments/rollback", "deployments/scale",
			"replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"),
		rule(writeVerbs, "autoscaling", "horizontalpodautoscalers"),
		rule(writeVerbs, "batch", "cronjobs", "jobs"),
		rule(writeVerbs, "extensions", "daemonsets", "deployments", "deployments/rollback", "deployments/scale",
			"ingresses", "networkpolicies", "replicasets", "replicasets/scale", "replicationcontrollers/scale"),
		rule(writeVerbs, "policy", "poddisruptionbudgets"),
		rule(writeVerbs, "networking.k8s.io", "ingresses", "networkpolicies"),
		rule(allVerbs, "coordination.k8s.io", "leases"),
		rule(readVerbs, "", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"),
	}
}

func adminRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		rule(v("create"), "authorization.k8s.io", "localsubjectaccessreviews"),
		rule(allVerbs, "rbac.authorization.k8s.io", "rolebindings", "roles"),
	}
}

// NodeRules are the rules of ClusterRole system:node, which the Node
// authorizer applies to nodes (there is no binding to system:nodes).
func NodeRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		rule(v("create"), "authentication.k8s.io", "tokenreviews"),
		rule(v("create"), "authorization.k8s.io", "localsubjectaccessreviews", "subjectaccessreviews"),
		rule(readVerbs, "", "services"),
		rule(v("create", "get", "list", "watch"), "", "nodes"),
		rule(v("patch", "update"), "", "nodes/status"),
		rule(v("patch", "update"), "", "nodes"),
		rule(v("create", "patch", "update"), "", "events"),
		rule(v("create", "patch", "update"), "events.k8s.io", "events"),
		rule(readVerbs, "", "pods"),
		rule(v("create", "delete"), "", "pods"),
		rule(v("patch", "update"), "", "pods/status"),
		rule(v("create"), "", "pods/eviction"),
		rule(readVerbs, "", "configmaps", "secrets"),
		rule(v("get"), "", "persistentvolumeclaims", "persistentvolumes"),
		rule(v("get"), "", "endpoints"),
		rule(v("create", "get", "list", "watch"), "certificates.k8s.io", "certificatesigningrequests"),
		rule(v("create", "delete", "get", "patch", "update"), "coordination.k8s.io", "leases"),
		rule(v("get"), "storage.k8s.io", "volumeattachments"),
		rule(v("create"), "", "serviceaccounts/token"),
		rule(v("get", "patch", "update"), "", "persistentvolumeclaims/status"),
		rule(readVerbs, "storage.k8s.io", "csidrivers"),
		rule(v("create", "delete", "get", "patch", "update"), "storage.k8s.io", "csinodes"),
		rule(readVerbs, "node.k8s.io", "runtimeclasses"),
		// stratus's signer of agents' serving certificates (which checks
		// that a node asks for its own name only).
		urls(v("post"), "/stratus/v1/kubelet-serving-certificate/*"),
	}
}

// ClusterRoles returns the bootstrap ClusterRoles.
func ClusterRoles() []*rbacv1.ClusterRole {
	cr := func(name string, lbls map[string]string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
		return &rbacv1.ClusterRole{ObjectMeta: bootstrapMeta(name, lbls), Rules: rules}
	}
	aggregated := func(name string, lbls map[string]string, from ...string) *rbacv1.ClusterRole {
		c := cr(name, lbls)
		c.AggregationRule = &rbacv1.AggregationRule{}
		for _, f := range from {
			c.AggregationRule.ClusterRoleSelectors = append(c.AggregationRule.ClusterRoleSelectors,
				metav1.LabelSelector{MatchLabels: aggregate(f)})
		}
		return c
	}
	view, edit, admin := viewRules(), editRules(), adminRules()
	out := []*rbacv1.ClusterRole{
		cr("cluster-admin", nil, rule(v("*"), "*", "*"), urls(v("*"), "*")),
		aggregated("admin", nil, "admin"),
		aggregated("edit", aggregate("admin"), "edit"),
		aggregated("view", aggregate("edit"), "view"),
		cr("system:aggregate-to-admin", aggregate("admin"), admin...),
		cr("system:aggregate-to-edit", aggregate("edit"), edit...),
		cr("system:aggregate-to-view", aggregate("view"), view...),
		cr("system:basic-user", nil,
			rule(v("create"), "authorization.k8s.io", "selfsubjectaccessreviews", "selfsubjectrulesreviews"),
			rule(v("create"), "authentication.k8s.io", "selfsubjectreviews")),
		cr("system:discovery", nil, urls(v("get"), "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
			"/openapi", "/openapi/*", "/readyz", "/version", "/version/")),
		cr("system:public-info-viewer", nil, urls(v("get"), "/healthz", "/livez", "/readyz", "/version", "/version/")),
		cr("system:monitoring", nil, urls(v("get"), "/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics",
			"/metrics/slis", "/readyz", "/readyz/*")),
		cr("system:service-account-issuer-discovery", nil, urls(v("get"), "/.well-known/openid-configuration",
			"/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/")),
		cr("system:auth-delegator", nil,
			rule(v("create"), "authentication.k8s.io", "tokenreviews"),
			rule(v("create"), "authorization.k8s.io", "subjectaccessreviews")),
		cr("system:node", nil, NodeRules()...),
		cr("system:node-bootstrapper", nil, rule(v("create", "get", "list", "watch"), "certificates.k8s.io", "certificatesigningrequests")),
		cr("system:certificates.k8s.io:certificatesigningrequests:nodeclient", nil,
			rule(v("create"), "certificates.k8s.io", "certificatesigningrequests/nodeclient")),
		cr("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", nil,
			rule(v("create"), "certificates.k8s.io", "certificatesigningrequests/selfnodeclient")),
		cr("system:node-proxier", nil,
			rule(readVerbs[1:], "", "endpoints", "services"),
			rule(readVerbs, "", "nodes"),
			rule(v("create", "patch", "update"), "", "events"),
			rule(v("create", "patch", "update"), "events.k8s.io", "events"),
			rule(readVerbs[1:], "discovery.k8s.io", "endpointslices")),
		cr("system:kube-scheduler", nil,
			rule(v("create", "patch", "update"), "", "events"),
			rule(v("create", "patch", "update"), "events.k8s.io", "events"),
			rule(v("create"), "coordination.k8s.io", "leases"),
			rule(readVerbs, "", "nodes"),
			rule(v("delete", "get", "list", "watch"), "", "pods"),
			rule(v("create"), "", "bindings", "pods/binding"),
			rule(v("patch", "update"), "", "pods/status"),
			rule(readVerbs, "", "replicationcontrollers", "services"),
			rule(readVerbs, "apps", "replicasets", "statefulsets"),
			rule(readVerbs, "policy", "poddisruptionbudgets"),
			rule(readVerbs, "", "persistentvolumeclaims", "persistentvolumes"),
			rule(v("create"), "authentication.k8s.io", "tokenreviews"),
			rule(v("create"), "authorization.k8s.io", "subjectaccessreviews"),
			rule(readVerbs, "storage.k8s.io", "csinodes", "csidrivers", "storageclasses", "csistoragecapacities"),
			rule(readVerbs, "", "namespaces")),
	}
	// kube-controller-manager's own identity: create events and read
	// everything, as the bootstrap role grants before per-controller ones.
	out = append(out, cr("system:kube-controller-manager", nil,
		rule(v("create", "patch", "update"), "", "events"),
		rule(v("create", "patch", "update"), "events.k8s.io", "events"),
		rule(v("create"), "coordination.k8s.io", "leases"),
		rule(v("create"), "", "secrets", "serviceaccounts"),
		rule(v("delete"), "", "secrets"),
		rule(v("get"), "", "configmaps", "namespaces", "secrets", "serviceaccounts"),
		rule(v("update"), "", "secrets", "serviceaccounts"),
		rule(v("create"), "authentication.k8s.io", "tokenreviews"),
		rule(v("create"), "authorization.k8s.io", "subjectaccessreviews"),
		rule(v("list", "watch"), "*", "*"),
		rule(v("create"), "", "serviceaccounts/token")))
	return out
}

// ClusterRoleBindings returns the bootstrap ClusterRoleBindings, and
// stratus's own: joining nodes (bootstrap tokens) may create and read
// CSRs, which are approved automatically.
func ClusterRoleBindings() []*rbacv1.ClusterRoleBinding {
	crb := func(name, role string, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
		b := &rbacv1.ClusterRoleBinding{ObjectMeta: bootstrapMeta(name, nil),
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects: subjects}
		return b
	}
	group := func(n string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: n}
	}
	user := func(n string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: n}
	}
	everyone := []rbacv1.Subject{group(GroupAuthenticated), group(GroupUnauthenticated)}
	return []*rbacv1.ClusterRoleBinding{
		crb("cluster-admin", "cluster-admin", group(GroupMasters)),
		crb("system:basic-user", "system:basic-user", group(GroupAuthenticated)),
		crb("system:discovery", "system:discovery", group(GroupAuthenticated)),
		crb("system:public-info-viewer", "system:public-info-viewer", everyone...),
		crb("system:monitoring", "system:monitoring", group("system:monitoring")),
		crb("system:service-account-issuer-discovery", "system:service-account-issuer-discovery", group(GroupServiceAccounts)),
		crb("system:node", "system:node"),
		crb("system:node-proxier", "system:node-proxier", user("system:kube-proxy")),
		crb("system:kube-scheduler", "system:kube-scheduler", user("system:kube-scheduler")),
		crb("system:kube-controller-manager", "system:kube-controller-manager", user("system:kube-controller-manager")),
		// As kubeadm's kubeadm:kubelet-bootstrap,
		// kubeadm:node-autoapprove-bootstrap and
		// kubeadm:node-autoapprove-certificate-rotation.
		crb("stratus:node-bootstrapper", "system:node-bootstrapper", group(GroupBootstrappers)),
		crb("stratus:node-autoapprove-bootstrap", "system:certificates.k8s.io:certificatesigningrequests:nodeclient", group(GroupBootstrappers)),
		crb("stratus:node-autoapprove-certificate-rotation", "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", group(GroupNodes)),
		// Joined nodes that run the service proxy (stratus agent --proxy)
		// read what kube-proxy reads.
		crb("stratus:node-proxier", "system:node-proxier", group(GroupNodes)),
		// The legacy node token (LegacyNodeUser) has the node role's rules
		// cluster-wide, as before nodes had identities of their own.
		crb("stratus:legacy-node-token", "system:node", user(LegacyNodeUser)),
	}
}
