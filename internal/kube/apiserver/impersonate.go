package apiserver

import (
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"

	"github.com/stratus-cloud/stratus/internal/kube/auth"
)

// impersonate applies the Impersonate-* headers (kubectl --as,
// --as-group, --as-uid): the requester must be allowed the impersonate
// verb on each users, groups, serviceaccounts, uids and userextras value,
// as kube-apiserver's impersonation filter checks; the request then runs
// as the impersonated user. Without headers u is returned unchanged.
func (s *Server) impersonate(r *http.Request, u *auth.User) (*auth.User, error) {
	h := r.Header
	name := h.Get(authenticationv1.ImpersonateUserHeader)
	groups := h.Values(authenticationv1.ImpersonateGroupHeader)
	uid := h.Get(authenticationv1.ImpersonateUIDHeader)
	extra := map[string][]string{}
	for k, vs := range h {
		if key, ok := strings.CutPrefix(k, textproto.CanonicalMIMEHeaderKey(authenticationv1.ImpersonateUserExtraHeaderPrefix)); ok {
			if uk, err := url.PathUnescape(key); err == nil {
				extra[strings.ToLower(uk)] = vs
			}
		}
	}
	if name == "" {
		if len(groups) > 0 || uid != "" || len(extra) > 0 {
			return nil, badRequest("requested impersonation of groups, uid or extra fields without impersonating a user")
		}
		return u, nil
	}
	check := func(a *auth.Attributes) error {
		a.User, a.Verb, a.ResourceRequest = u, "impersonate", true
		return s.authorize(r, a)
	}
	out := &auth.User{Name: name, UID: uid}
	if ns, sa, ok := auth.SplitServiceAccount(name); ok {
		if err := check(&auth.Attributes{Resource: "serviceaccounts", Namespace: ns, Name: sa}); err != nil {
			return nil, err
		}
		out.Groups = auth.ServiceAccountUser(ns, sa, "").Groups[:2]
	} else if err := check(&auth.Attributes{Resource: "users", Name: name}); err != nil {
		return nil, err
	}
	for _, g := range groups {
		if err := check(&auth.Attributes{Resource: "groups", Name: g}); err != nil {
			return nil, err
		}
		if !slices.Contains(out.Groups, g) {
			out.Groups = append(out.Groups, g)
		}
	}
	if uid != "" {
		if err := check(&auth.Attributes{APIGroup: "authentication.k8s.io", Resource: "uids", Name: uid}); err != nil {
			return nil, err
		}
	}
	for k, vs := range extra {
		for _, v := range vs {
			if err := check(&auth.Attributes{APIGroup: "authentication.k8s.io", Resource: "userextras", Subresource: k, Name: v}); err != nil {
				return nil, err
			}
		}
	}
	if len(extra) > 0 {
		out.Extra = extra
	}
	switch {
	case name == auth.UserAnonymous:
		if !slices.Contains(out.Groups, auth.GroupUnauthenticated) {
			out.Groups = append(out.Groups, auth.GroupUnauthenticated)
		}
	case !slices.Contains(out.Groups, auth.GroupAuthenticated):
		out.Groups = append(out.Groups, auth.GroupAuthenticated)
	}
	return out, nil
}
