package auth

import (
	"context"
	"fmt"
	"strings"
)

// Attributes are what a request asks to do (authorizer.Attributes of
// k8s.io/apiserver, flattened).
type Attributes struct {
	User *User
	Verb string
	// ResourceRequest tells a resource request from a non-resource path.
	ResourceRequest bool
	Namespace       string
	APIGroup        string
	APIVersion      string
	Resource        string
	Subresource     string
	Name            string
	// Path is the request path (non-resource requests).
	Path string
}

// Decision is an authorizer's answer.
type Decision int

// The decisions, as k8s.io/apiserver's authorizer has them.
const (
	DecisionNoOpinion Decision = iota
	DecisionAllow
	DecisionDeny
)

// Authorizer decides one request. The reason explains a decision (shown in
// Forbidden messages and review answers).
type Authorizer interface {
	Authorize(ctx context.Context, a *Attributes) (Decision, string)
}

// Chain asks each authorizer in turn; the first opinion wins.
type Chain []Authorizer

// Authorize implements Authorizer.
func (c Chain) Authorize(ctx context.Context, a *Attributes) (Decision, string) {
	var reasons []string
	for _, z := range c {
		d, why := z.Authorize(ctx, a)
		if d != DecisionNoOpinion {
			return d, why
		}
		if why != "" {
			reasons = append(reasons, why)
		}
	}
	return DecisionNoOpinion, strings.Join(reasons, "\n")
}

// Masters allows every request of a user in system:masters, as
// kube-apiserver's privileged-group authorizer does before RBAC.
type Masters struct{}

// Authorize implements Authorizer.
func (Masters) Authorize(_ context.Context, a *Attributes) (Decision, string) {
	if a.User != nil && a.User.InGroup(GroupMasters) {
		return DecisionAllow, ""
	}
	return DecisionNoOpinion, ""
}

// ForbiddenMessage is the text after "... is forbidden: " in the real
// server's Forbidden answer.
func ForbiddenMessage(a *Attributes, reason string) string {
	name := UserAnonymous
	if a.User != nil {
		name = a.User.Name
	}
	var msg string
	switch {
	case !a.ResourceRequest:
		msg = fmt.Sprintf("User %q cannot %s path %q", name, a.Verb, a.Path)
	default:
		res := a.Resource
		if a.Subresource != "" {
			res += "/" + a.Subresource
		}
		if a.Namespace != "" {
			msg = fmt.Sprintf("User %q cannot %s resource %q in API group %q in the namespace %q", name, a.Verb, res, a.APIGroup, a.Namespace)
		} else {
			msg = fmt.Sprintf("User %q cannot %s resource %q in API group %q at the cluster scope", name, a.Verb, res, a.APIGroup)
		}
	}
	if reason != "" {
		msg += ": " + reason
	}
	return msg
}
