// Package auth is who a Kubernetes API request comes from and what it may
// do: authentication (the admin's credentials, client certificates signed
// by the cluster CA, ServiceAccount tokens, bootstrap tokens for joining)
// and authorization (RBAC with the bootstrap roles of a v1.33 cluster, the
// Node authorizer, escalation checks on Role and binding writes and
// NodeRestriction admission). It knows nothing of HTTP routing or storage:
// package apiserver asks it questions, and feeds it objects.
package auth

import (
	"slices"
	"strings"
)

// Well-known user and group names, as kube-apiserver spells them.
const (
	GroupMasters         = "system:masters"
	GroupAuthenticated   = "system:authenticated"
	GroupUnauthenticated = "system:unauthenticated"
	GroupNodes           = "system:nodes"
	GroupBootstrappers   = "system:bootstrappers"
	GroupServiceAccounts = "system:serviceaccounts"
	UserAnonymous        = "system:anonymous"
	NodeUserPrefix       = "system:node:"
	saUserPrefix         = "system:serviceaccount:"
)

// User is an authenticated identity (user.Info of k8s.io/apiserver).
type User struct {
	Name   string
	UID    string
	Groups []string
	Extra  map[string][]string
}

// InGroup reports whether the user is a member of g.
func (u *User) InGroup(g string) bool { return slices.Contains(u.Groups, g) }

// ServiceAccountUser is the identity of a ServiceAccount's token.
func ServiceAccountUser(ns, name, uid string) *User {
	return &User{Name: saUserPrefix + ns + ":" + name, UID: uid,
		Groups: []string{GroupServiceAccounts, GroupServiceAccounts + ":" + ns, GroupAuthenticated}}
}

// SplitServiceAccount returns the namespace and name of a ServiceAccount's
// user name, ok false for other names.
func SplitServiceAccount(user string) (ns, name string, ok bool) {
	rest, ok := strings.CutPrefix(user, saUserPrefix)
	if !ok {
		return "", "", false
	}
	ns, name, ok = strings.Cut(rest, ":")
	if !ok || ns == "" || name == "" || strings.Contains(name, ":") {
		return "", "", false
	}
	return ns, name, true
}

// NodeName returns the node a user is, ok false for a user that is not a
// node (system:node:NAME in group system:nodes).
func NodeName(u *User) (string, bool) {
	name, ok := strings.CutPrefix(u.Name, NodeUserPrefix)
	if !ok || name == "" || !u.InGroup(GroupNodes) {
		return "", false
	}
	return name, true
}

// NodeUser is the identity of node name.
func NodeUser(name string) *User {
	return &User{Name: NodeUserPrefix + name, Groups: []string{GroupNodes, GroupAuthenticated}}
}
