package auth

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

// PodsOnNode lists the pods bound to a node (the Node authorizer's graph
// of what a node's pods refer to is built from them on demand).
type PodsOnNode func(ctx context.Context, node string) ([]*corev1.Pod, error)

// Node is the Node authorizer: a node (system:node:NAME in system:nodes)
// may read the Secrets, ConfigMaps, PersistentVolumeClaims and
// ServiceAccount tokens its own pods refer to, and otherwise what the
// system:node role's rules allow. Other users get no opinion.
type Node struct {
	Pods  PodsOnNode
	rules []rbacv1.PolicyRule
}

// NewNode builds the Node authorizer.
func NewNode(pods PodsOnNode) *Node { return &Node{Pods: pods, rules: NodeRules()} }

// Authorize implements Authorizer.
func (n *Node) Authorize(ctx context.Context, a *Attributes) (Decision, string) {
	if a.User == nil {
		return DecisionNoOpinion, ""
	}
	node, ok := NodeName(a.User)
	if !ok {
		return DecisionNoOpinion, ""
	}
	if a.ResourceRequest && a.APIGroup == "" {
		switch {
		case (a.Resource == "secrets" || a.Resource == "configmaps" || a.Resource == "persistentvolumeclaims") && a.Subresource == "",
			a.Resource == "serviceaccounts" && a.Subresource == "token":
			return n.related(ctx, node, a)
		}
	}
	for i := range n.rules {
		if RuleAllows(a, &n.rules[i]) {
			return DecisionAllow, ""
		}
	}
	return DecisionNoOpinion, ""
}

// related allows a get of an object one of the node's pods refers to.
func (n *Node) related(ctx context.Context, node string, a *Attributes) (Decision, string) {
	verb := "get"
	if a.Resource == "serviceaccounts" {
		verb = "create"
	}
	if a.Verb != verb || a.Name == "" {
		return DecisionNoOpinion, "can only get individual resources of this type"
	}
	if n.Pods != nil {
		pods, err := n.Pods(ctx, node)
		if err != nil {
			return DecisionNoOpinion, err.Error()
		}
		for _, p := range pods {
			if p.Namespace == a.Namespace && podRefers(p, a.Resource, a.Name) {
				return DecisionAllow, ""
			}
		}
	}
	return DecisionNoOpinion, fmt.Sprintf("no relationship found between node '%s' and this object", node)
}

// podRefers reports whether pod p refers to the named object of resource.
func podRefers(p *corev1.Pod, resource, name string) bool {
	switch resource {
	case "serviceaccounts":
		return p.Spec.ServiceAccountName == name
	case "secrets":
		for _, s := range p.Spec.ImagePullSecrets {
			if s.Name == name {
				return true
			}
		}
	}
	for _, vol := range p.Spec.Volumes {
		switch {
		case resource == "secrets" && vol.Secret != nil && vol.Secret.SecretName == name,
			resource == "configmaps" && vol.ConfigMap != nil && vol.ConfigMap.Name == name,
			resource == "persistentvolumeclaims" && vol.PersistentVolumeClaim != nil && vol.PersistentVolumeClaim.ClaimName == name:
			return true
		case vol.Projected != nil:
			for _, src := range vol.Projected.Sources {
				if (resource == "secrets" && src.Secret != nil && src.Secret.Name == name) ||
					(resource == "configmaps" && src.ConfigMap != nil && src.ConfigMap.Name == name) {
					return true
				}
			}
		}
	}
	containers := append(append([]corev1.Container(nil), p.Spec.InitContainers...), p.Spec.Containers...)
	for _, c := range containers {
		for _, e := range c.EnvFrom {
			if (resource == "secrets" && e.SecretRef != nil && e.SecretRef.Name == name) ||
				(resource == "configmaps" && e.ConfigMapRef != nil && e.ConfigMapRef.Name == name) {
				return true
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if (resource == "secrets" && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == name) ||
				(resource == "configmaps" && e.ValueFrom.ConfigMapKeyRef != nil && e.ValueFrom.ConfigMapKeyRef.Name == name) {
				return true
			}
		}
	}
	return false
}

// NodeRestriction is the admission check of the NodeRestriction plugin
// for writes by a node: it may change only its own Node and Lease and the
// pods bound to it. podNode is the node the pod being written is bound to
// (for pod writes; "" otherwise). The answer is "" or the Forbidden reason.
func NodeRestriction(a *Attributes, podNode string) string {
	node, ok := NodeName(a.User)
	if !ok || a.Verb == "get" || a.Verb == "list" || a.Verb == "watch" {
		return ""
	}
	switch {
	case a.APIGroup == "" && a.Resource == "nodes":
		if a.Name != node {
			return fmt.Sprintf("node %q is not allowed to modify node %q", node, a.Name)
		}
	case a.APIGroup == "coordination.k8s.io" && a.Resource == "leases":
		if a.Namespace == corev1.NamespaceNodeLease && a.Name != node {
			return "can only access node lease with the same name as the requesting node"
		}
	case a.APIGroup == "" && a.Resource == "pods":
		switch {
		case a.Verb == "create" && a.Subresource == "":
			return fmt.Sprintf("node %q can only create mirror pods", node)
		case a.Subresource == "status" && podNode != node:
			return fmt.Sprintf("node %q can only update pod status for pods with spec.nodeName set to itself", node)
		case a.Verb == "delete" && podNode != node:
			return fmt.Sprintf("node %q can only delete pods with spec.nodeName set to itself", node)
		case a.Subresource == "eviction" && podNode != node:
			return fmt.Sprintf("node %q can only evict pods with spec.nodeName set to itself", node)
		}
	}
	return ""
}
