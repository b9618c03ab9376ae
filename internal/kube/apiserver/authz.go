package apiserver

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/stratus-cloud/stratus/internal/kube/auth"
	"github.com/stratus-cloud/stratus/internal/kube/registry"
)

// requestAttributes turns a request into what authorization decides on,
// as kube-apiserver's request-info resolver does: resource requests by
// their path and method (a GET of a collection with watch is "watch"),
// everything else as a non-resource path with the method as verb.
func (s *Server) requestAttributes(r *http.Request, u *auth.User) *auth.Attributes {
	a := &auth.Attributes{User: u, Path: r.URL.Path}
	ri, ok := parsePath(r.URL.Path)
	if _, gvPath := groupVersionPath(r.URL.Path); !ok || gvPath {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			a.Verb = "get"
		default:
			a.Verb = strings.ToLower(r.Method)
		}
		return a
	}
	a.ResourceRequest = true
	a.APIGroup, a.APIVersion, a.Namespace = ri.group, ri.version, ri.namespace
	a.Resource, a.Name, a.Subresource = ri.resource, ri.name, ri.subresource
	if a.Resource == "namespaces" && a.Namespace == "" {
		a.Namespace = a.Name
	}
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	if a.Verb, ok = s.resourceVerb(method, ri, r.URL.Query()); !ok {
		a.Verb = strings.ToLower(r.Method)
	}
	return a
}

// resourceVerb is the Kubernetes verb of a resource request, as
// kube-apiserver names it for authorization and routing; ok is false for
// a method it does not serve.
func (s *Server) resourceVerb(method string, ri requestInfo, q url.Values) (verb string, ok bool) {
	switch method {
	case http.MethodGet:
		switch {
		case ri.name == "" && s.isWatch(q):
			return "watch", true
		case ri.name == "":
			return "list", true
		}
		return "get", true
	case http.MethodPost:
		return "create", true
	case http.MethodPut:
		return "update", true
	case http.MethodPatch:
		return "patch", true
	case http.MethodDelete:
		if ri.name == "" {
			return "deletecollection", true
		}
		return "delete", true
	}
	return "", false
}

// authorize decides a, returning nil or the Forbidden error with the
// real server's message.
func (s *Server) authorize(r *http.Request, a *auth.Attributes) error {
	d, reason := s.authorizer().Authorize(r.Context(), a)
	if d == auth.DecisionAllow {
		return nil
	}
	return forbidden(a, auth.ForbiddenMessage(a, reason))
}

// forbidden is the 403 Status for attributes a with message msg.
func forbidden(a *auth.Attributes, msg string) error {
	if !a.ResourceRequest {
		return apierrors.NewForbidden(schema.GroupResource{}, "", errors.New(msg))
	}
	return apierrors.NewForbidden(schema.GroupResource{Group: a.APIGroup, Resource: a.Resource}, a.Name, errors.New(msg))
}

// admit runs the admission checks that need the user: NodeRestriction for
// nodes, and the escalation check on RBAC writes. A request body it reads
// is put back for the handler.
func (s *Server) admit(r *http.Request, a *auth.Attributes) error {
	if !a.ResourceRequest || a.Verb == "get" || a.Verb == "list" || a.Verb == "watch" {
		return nil
	}
	if _, isNode := auth.NodeName(a.User); isNode {
		podNode := ""
		if a.APIGroup == "" && a.Resource == "pods" && a.Name != "" {
			if obj, err := s.storage.Get(r.Context(), s.reg.Lookup("", "v1", "pods"), a.Namespace, a.Name); err == nil {
				podNode = obj.(*corev1.Pod).Spec.NodeName
			}
		}
		// A create names its object in the body: a node may create only
		// its own Node and its own lease, as NodeRestriction checks.
		if a.Verb == "create" && a.Name == "" && ((a.APIGroup == "" && a.Resource == "nodes") ||
			(a.APIGroup == "coordination.k8s.io" && a.Resource == "leases" && a.Namespace == corev1.NamespaceNodeLease)) {
			na := *a
			na.Name = s.bodyName(r, a)
			a = &na
		}
		if why := auth.NodeRestriction(a, podNode); why != "" {
			return forbidden(a, why)
		}
	}
	if a.APIGroup == "certificates.k8s.io" && a.Resource == "certificatesigningrequests" && a.Verb == "create" && a.Subresource == "" {
		return s.setRequester(r, a)
	}
	if a.APIGroup == rbacv1.GroupName && a.Subresource == "" && !a.User.InGroup(auth.GroupMasters) {
		return s.checkEscalation(r, a)
	}
	return nil
}

// checkEscalation refuses a Role or ClusterRole that grants more than its
// writer holds (unless the writer may "escalate"), and a binding to a role
// whose rules the writer does not hold (unless it may "bind" that role),
// as kube-apiserver's RBAC storage does. A patch is allowed only to a
// writer with escalate or bind rights: its result is not known here.
func (s *Server) checkEscalation(r *http.Request, a *auth.Attributes) error {
	if a.Verb != "create" && a.Verb != "update" && a.Verb != "patch" {
		return nil
	}
	special := "escalate"
	if strings.HasSuffix(a.Resource, "bindings") {
		special = "bind"
	}
	if a.Verb == "patch" || special == "escalate" {
		sa := *a
		sa.Verb, sa.Subresource = "escalate", ""
		if special == "escalate" {
			if d, _ := s.authorizer().Authorize(r.Context(), &sa); d == auth.DecisionAllow {
				return nil
			}
		}
	}
	res := s.reg.Lookup(a.APIGroup, "v1", a.Resource)
	if res == nil {
		return nil
	}
	data, err := readBody(nil, r)
	if err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	if a.Verb == "patch" {
		return forbidden(a, auth.Escalation(a.User, nil, []rbacv1.PolicyRule{{Verbs: []string{special}, APIGroups: []string{rbacv1.GroupName}, Resources: []string{a.Resource}}}))
	}
	obj, _, err := s.decodeObject(r.Header.Get("Content-Type"), data, res, "Ignore")
	if err != nil {
		return nil // the handler reports the bad body
	}
	ns := a.Namespace
	var rules []rbacv1.PolicyRule
	switch o := obj.(type) {
	case *rbacv1.Role:
		rules = o.Rules
	case *rbacv1.ClusterRole:
		rules = o.Rules
	case *rbacv1.RoleBinding:
		if s.mayBind(r, a, o.RoleRef, ns) {
			return nil
		}
		rules = s.roleRules(r, o.RoleRef, ns)
	case *rbacv1.ClusterRoleBinding:
		if s.mayBind(r, a, o.RoleRef, "") {
			return nil
		}
		rules = s.roleRules(r, o.RoleRef, "")
	}
	held := s.auth.rbac.RulesFor(a.User, ns)
	if why := auth.Escalation(a.User, held, rules); why != "" {
		return forbidden(a, why)
	}
	return nil
}

// mayBind reports whether the writer has the bind verb on the role.
func (s *Server) mayBind(r *http.Request, a *auth.Attributes, ref rbacv1.RoleRef, ns string) bool {
	b := &auth.Attributes{User: a.User, ResourceRequest: true, Verb: "bind", APIGroup: rbacv1.GroupName,
		Resource: "clusterroles", Name: ref.Name, Namespace: ns}
	if ref.Kind == "Role" {
		b.Resource = "roles"
	}
	d, _ := s.authorizer().Authorize(r.Context(), b)
	return d == auth.DecisionAllow
}

// roleRules are the rules of the role a binding refers to (nil when it
// does not exist, which grants nothing).
func (s *Server) roleRules(_ *http.Request, ref rbacv1.RoleRef, ns string) []rbacv1.PolicyRule {
	return s.auth.rbac.RoleRules(ref, ns)
}

// authorizeAndRoute runs a request as u: impersonation, authorization,
// admission, then the auth APIs or the resource routes.
func (s *Server) authorizeAndRoute(w http.ResponseWriter, r *http.Request, u *auth.User) (verb, resource string) {
	u, err := s.impersonate(r, u)
	if err != nil {
		s.writeError(w, err)
		return "impersonate", ""
	}
	r = r.WithContext(context.WithValue(r.Context(), userKey{}, u))
	a := s.requestAttributes(r, u)
	if err := s.authorize(r, a); err != nil {
		s.writeError(w, err)
		return a.Verb, a.Resource
	}
	if err := s.admit(r, a); err != nil {
		s.writeError(w, err)
		return a.Verb, a.Resource
	}
	if s.serveAuthAPI(w, r, a) {
		return a.Verb, a.Resource
	}
	return s.route(w, r)
}

// authorizer is the chain in force: before Start has synced RBAC, only
// system:masters (the in-process loopback) is allowed.
func (s *Server) authorizer() auth.Authorizer {
	if s.auth.authz == nil {
		return auth.Masters{}
	}
	return s.auth.authz
}

// setRequester records who asks in a new CertificateSigningRequest
// (spec.username, uid, groups, extra), as the real server's CSR strategy
// does whatever the body says: approvers decide on it.
func (s *Server) setRequester(r *http.Request, a *auth.Attributes) error {
	res := s.reg.Lookup(a.APIGroup, "v1", a.Resource)
	data, err := readBody(nil, r)
	if err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	obj, _, err := s.decodeObject(r.Header.Get("Content-Type"), data, res, "Ignore")
	if err != nil {
		return nil // the handler reports the bad body
	}
	csr := obj.(*certificatesv1.CertificateSigningRequest)
	csr.Spec.Username, csr.Spec.UID, csr.Spec.Groups, csr.Spec.Extra = a.User.Name, a.User.UID, a.User.Groups, nil
	if len(a.User.Extra) > 0 {
		csr.Spec.Extra = map[string]certificatesv1.ExtraValue{}
		for k, v := range a.User.Extra {
			csr.Spec.Extra[k] = v
		}
	}
	var buf bytes.Buffer
	if err := s.codecs.JSON.Encode(csr, &buf); err != nil {
		return apierrors.NewInternalError(err)
	}
	r.Body, r.ContentLength = io.NopCloser(&buf), int64(buf.Len())
	r.Header.Set("Content-Type", mtJSON)
	return nil
}

// bodyName is the name of the object in a create's body ("" when it does
// not decode); the body is put back for the handler.
func (s *Server) bodyName(r *http.Request, a *auth.Attributes) string {
	res := s.reg.Lookup(a.APIGroup, "v1", a.Resource)
	data, err := readBody(nil, r)
	if err != nil || res == nil {
		return ""
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	obj, _, err := s.decodeObject(r.Header.Get("Content-Type"), data, res, "Ignore")
	if err != nil {
		return ""
	}
	_, name := registry.ObjectName(obj)
	return name
}
