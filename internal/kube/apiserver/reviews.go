package apiserver

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authenticationv1alpha1 "k8s.io/api/authentication/v1alpha1"
	authenticationv1beta1 "k8s.io/api/authentication/v1beta1"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	"github.com/stratus-cloud/stratus/internal/kube/auth"
)

// newReviewDecoder decodes the authentication and authorization review
// bodies in every encoding clients send (JSON, YAML, protobuf: kubectl
// 1.32 and later send protobuf for auth can-i).
func newReviewDecoder() runtime.Decoder {
	sch := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{authenticationv1.AddToScheme, authorizationv1.AddToScheme,
		authenticationv1beta1.AddToScheme, authenticationv1alpha1.AddToScheme} {
		if err := add(sch); err != nil {
			panic(err) // static registration
		}
	}
	return serializer.NewCodecFactory(sch).UniversalDeserializer()
}

// serveAuthAPI answers the review APIs, TokenRequest and the issuer
// discovery documents; false when the path is none of them. Authorization
// of the request itself has already happened.
func (s *Server) serveAuthAPI(w http.ResponseWriter, r *http.Request, a *auth.Attributes) bool {
	switch {
	case a.Path == "/.well-known/openid-configuration" && a.Verb == "get":
		w.Header().Set("Content-Type", mtJSON)
		_ = json.NewEncoder(w).Encode(auth.OpenIDConfiguration())
		return true
	case a.Path == "/openid/v1/jwks" && a.Verb == "get":
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_ = json.NewEncoder(w).Encode(s.auth.tokens.JWKS())
		return true
	case !a.ResourceRequest || a.Verb != "create":
		return false
	}
	switch {
	case a.APIGroup == "authorization.k8s.io" && a.APIVersion == "v1" && a.Name == "":
		switch a.Resource {
		case "selfsubjectaccessreviews", "subjectaccessreviews", "localsubjectaccessreviews", "selfsubjectrulesreviews":
			s.serveReview(w, r, a)
			return true
		}
	case a.APIGroup == "authentication.k8s.io" && a.APIVersion != "v1" && a.Name == "" && a.Resource == "selfsubjectreviews" &&
		(a.APIVersion == "v1beta1" || a.APIVersion == "v1alpha1"):
		s.serveSelfSubjectReviewBeta(w, r, a)
		return true
	case a.APIGroup == "authentication.k8s.io" && a.APIVersion == "v1" && a.Name == "":
		switch a.Resource {
		case "selfsubjectreviews", "tokenreviews":
			s.serveReview(w, r, a)
			return true
		}
	case a.APIGroup == "" && a.Resource == "serviceaccounts" && a.Subresource == "token" && a.Name != "":
		s.serveTokenRequest(w, r, a)
		return true
	}
	return false
}

// decodeReview decodes the body into into (checking the media type).
func (s *Server) decodeReview(r *http.Request, w http.ResponseWriter, into runtime.Object) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != mtJSON && mt != mtYAML && mt != mtProtobuf) {
			return unsupportedMedia(ct)
		}
	}
	data, err := readBody(w, r)
	if err != nil {
		return err
	}
	gvk := into.GetObjectKind().GroupVersionKind()
	if _, _, err := s.auth.reviews.Decode(data, &gvk, into); err != nil {
		return badRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v", gvk.Kind, gvk.Version, gvk.Kind, err))
	}
	into.GetObjectKind().SetGroupVersionKind(gvk)
	return nil
}

func (s *Server) writeReview(w http.ResponseWriter, r *http.Request, obj runtime.Object) {
	t, ok := negotiateFor(r.Header.Get("Accept"), false)
	if !ok || t.as != "" {
		t = target{mediaType: mtJSON}
	}
	s.writeObject(w, t, http.StatusCreated, obj)
}

func (s *Server) serveReview(w http.ResponseWriter, r *http.Request, a *auth.Attributes) {
	u := a.User
	var out runtime.Object
	switch a.Resource {
	case "selfsubjectaccessreviews":
		rv := &authorizationv1.SelfSubjectAccessReview{TypeMeta: metav1.TypeMeta{APIVersion: "authorization.k8s.io/v1", Kind: "SelfSubjectAccessReview"}}
		if err := s.decodeReview(r, w, rv); err != nil {
			s.writeError(w, err)
			return
		}
		if rv.Spec.ResourceAttributes == nil && rv.Spec.NonResourceAttributes == nil {
			s.writeError(w, invalidReview("SelfSubjectAccessReview", "spec.resourceAttributes", "exactly one of nonResourceAttributes or resourceAttributes must be specified"))
			return
		}
		rv.Status = s.review(r, u, rv.Spec.ResourceAttributes, rv.Spec.NonResourceAttributes)
		out = rv
	case "subjectaccessreviews", "localsubjectaccessreviews":
		kind := "SubjectAccessReview"
		if a.Resource == "localsubjectaccessreviews" {
			kind = "LocalSubjectAccessReview"
		}
		var spec *authorizationv1.SubjectAccessReviewSpec
		var status *authorizationv1.SubjectAccessReviewStatus
		var obj runtime.Object
		if kind == "SubjectAccessReview" {
			rv := &authorizationv1.SubjectAccessReview{TypeMeta: metav1.TypeMeta{APIVersion: "authorization.k8s.io/v1", Kind: kind}}
			obj, spec, status = rv, &rv.Spec, &rv.Status
		} else {
			rv := &authorizationv1.LocalSubjectAccessReview{TypeMeta: metav1.TypeMeta{APIVersion: "authorization.k8s.io/v1", Kind: kind}}
			obj, spec, status = rv, &rv.Spec, &rv.Status
		}
		if err := s.decodeReview(r, w, obj); err != nil {
			s.writeError(w, err)
			return
		}
		if kind == "LocalSubjectAccessReview" {
			if spec.ResourceAttributes == nil || (spec.ResourceAttributes.Namespace != "" && spec.ResourceAttributes.Namespace != a.Namespace) {
				s.writeError(w, badRequest(fmt.Sprintf("spec.resourceAttributes.namespace must match namespace: %v", a.Namespace)))
				return
			}
			spec.ResourceAttributes.Namespace = a.Namespace
		}
		if spec.User == "" && len(spec.Groups) == 0 {
			s.writeError(w, invalidReview(kind, "spec.user", "at least one of user or group must be specified"))
			return
		}
		subject := &auth.User{Name: spec.User, UID: spec.UID, Groups: spec.Groups}
		if len(spec.Extra) > 0 {
			subject.Extra = map[string][]string{}
			for k, v := range spec.Extra {
				subject.Extra[k] = v
			}
		}
		*status = s.review(r, subject, spec.ResourceAttributes, spec.NonResourceAttributes)
		out = obj
	case "selfsubjectrulesreviews":
		rv := &authorizationv1.SelfSubjectRulesReview{TypeMeta: metav1.TypeMeta{APIVersion: "authorization.k8s.io/v1", Kind: "SelfSubjectRulesReview"}}
		if err := s.decodeReview(r, w, rv); err != nil {
			s.writeError(w, err)
			return
		}
		if rv.Spec.Namespace == "" {
			s.writeError(w, invalidReview("SelfSubjectRulesReview", "spec.namespace", "Required value"))
			return
		}
		var rules []rbacv1.PolicyRule
		if s.auth.rbac != nil {
			rules = s.auth.rbac.RulesFor(u, rv.Spec.Namespace)
		}
		if _, ok := auth.NodeName(u); ok {
			rules = append(rules, auth.NodeRules()...)
		}
		rv.Status = rulesStatus(rules)
		out = rv
	case "selfsubjectreviews":
		rv := &authenticationv1.SelfSubjectReview{TypeMeta: metav1.TypeMeta{APIVersion: "authentication.k8s.io/v1", Kind: "SelfSubjectReview"}}
		if r.ContentLength != 0 {
			if err := s.decodeReview(r, w, rv); err != nil {
				s.writeError(w, err)
				return
			}
		}
		rv.Status.UserInfo = userInfo(u)
		rv.CreationTimestamp = metav1.NewTime(s.now())
		out = rv
	case "tokenreviews":
		rv := &authenticationv1.TokenReview{TypeMeta: metav1.TypeMeta{APIVersion: "authentication.k8s.io/v1", Kind: "TokenReview"}}
		if err := s.decodeReview(r, w, rv); err != nil {
			s.writeError(w, err)
			return
		}
		if rv.Spec.Token == "" {
			s.writeError(w, invalidReview("TokenReview", "spec.token", "Required value"))
			return
		}
		tu, err := s.auth.authn.Token(r.Context(), rv.Spec.Token)
		rv.Status = authenticationv1.TokenReviewStatus{Audiences: s.auth.tokens.Audiences}
		if err == nil && tu != nil {
			rv.Status.Authenticated, rv.Status.User = true, userInfo(tu)
		} else if err != nil {
			rv.Status.Error = err.Error()
		}
		out = rv
	}
	s.writeReview(w, r, out)
}

func invalidReview(kind, field, msg string) error {
	return apierrors.NewBadRequest(fmt.Sprintf("%s.authorization.k8s.io %q is invalid: %s: %s", kind, "", field, msg))
}

func userInfo(u *auth.User) authenticationv1.UserInfo {
	ui := authenticationv1.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups}
	if len(u.Extra) > 0 {
		ui.Extra = map[string]authenticationv1.ExtraValue{}
		for k, v := range u.Extra {
			ui.Extra[k] = v
		}
	}
	return ui
}

// review decides a (Self)SubjectAccessReview for subject.
func (s *Server) review(r *http.Request, subject *auth.User, ra *authorizationv1.ResourceAttributes, nra *authorizationv1.NonResourceAttributes) authorizationv1.SubjectAccessReviewStatus {
	a := &auth.Attributes{User: subject}
	if ra != nil {
		a.ResourceRequest = true
		a.Verb, a.Namespace, a.APIGroup, a.APIVersion = ra.Verb, ra.Namespace, ra.Group, ra.Version
		a.Resource, a.Subresource, a.Name = ra.Resource, ra.Subresource, ra.Name
	} else {
		a.Verb, a.Path = nra.Verb, nra.Path
	}
	d, reason := s.authorizer().Authorize(r.Context(), a)
	st := authorizationv1.SubjectAccessReviewStatus{Allowed: d == auth.DecisionAllow, Denied: d == auth.DecisionDeny, Reason: reason}
	if st.Allowed {
		st.Reason = allowReason(subject)
	}
	return st
}

// allowReason is what the real server says when it allows (RBAC names the
// binding; stratus names the kind of grant).
func allowReason(u *auth.User) string {
	if u.InGroup(auth.GroupMasters) {
		return ""
	}
	if _, ok := auth.NodeName(u); ok {
		return ""
	}
	return "RBAC: allowed"
}

// rulesStatus turns rules into a SelfSubjectRulesReview's status.
func rulesStatus(rules []rbacv1.PolicyRule) authorizationv1.SubjectRulesReviewStatus {
	st := authorizationv1.SubjectRulesReviewStatus{ResourceRules: []authorizationv1.ResourceRule{}, NonResourceRules: []authorizationv1.NonResourceRule{}}
	for _, r := range rules {
		if len(r.NonResourceURLs) > 0 {
			st.NonResourceRules = append(st.NonResourceRules, authorizationv1.NonResourceRule{Verbs: r.Verbs, NonResourceURLs: r.NonResourceURLs})
			continue
		}
		st.ResourceRules = append(st.ResourceRules, authorizationv1.ResourceRule{Verbs: r.Verbs, APIGroups: r.APIGroups,
			Resources: r.Resources, ResourceNames: r.ResourceNames})
	}
	return st
}

// serveTokenRequest is the TokenRequest subresource
// (serviceaccounts/NAME/token, kubectl create token): a bound token for
// the ServiceAccount, for the audiences and lifetime asked (default one
// hour, at least ten minutes), optionally bound to a Pod or Secret.
func (s *Server) serveTokenRequest(w http.ResponseWriter, r *http.Request, a *auth.Attributes) {
	tr := &authenticationv1.TokenRequest{TypeMeta: metav1.TypeMeta{APIVersion: "authentication.k8s.io/v1", Kind: "TokenRequest"}}
	if err := s.decodeReview(r, w, tr); err != nil {
		s.writeError(w, err)
		return
	}
	sa, err := storageObjects{s}.ServiceAccount(r.Context(), a.Namespace, a.Name)
	if err != nil {
		s.writeError(w, err)
		return
	}
	exp := int64(3600)
	if tr.Spec.ExpirationSeconds != nil {
		exp = *tr.Spec.ExpirationSeconds
	}
	if exp < 600 {
		s.writeError(w, apierrors.NewInvalid(schema.GroupKind{Group: "authentication.k8s.io", Kind: "TokenRequest"}, a.Name,
			fieldInvalid("spec.expirationSeconds", exp, "may not specify a duration less than 10 minutes")))
		return
	}
	if exp > 1<<32 {
		s.writeError(w, apierrors.NewInvalid(schema.GroupKind{Group: "authentication.k8s.io", Kind: "TokenRequest"}, a.Name,
			fieldInvalid("spec.expirationSeconds", exp, "may not specify a duration larger than 2^32 seconds")))
		return
	}
	b := auth.Bound{Namespace: sa.Namespace, Name: sa.Name, UID: string(sa.UID), Audiences: tr.Spec.Audiences, Expiration: time.Duration(exp) * time.Second}
	if ref := tr.Spec.BoundObjectRef; ref != nil {
		objs := storageObjects{s}
		switch ref.Kind {
		case "Pod":
			p, err := objs.Pod(r.Context(), a.Namespace, ref.Name)
			if err != nil {
				s.writeError(w, err)
				return
			}
			if ref.UID != "" && ref.UID != p.UID {
				s.writeError(w, apierrors.NewConflict(schema.GroupResource{Resource: "pods"}, ref.Name, fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID)))
				return
			}
			b.PodName, b.PodUID = p.Name, string(p.UID)
		case "Secret":
			sec, err := objs.Secret(r.Context(), a.Namespace, ref.Name)
			if err != nil {
				s.writeError(w, err)
				return
			}
			b.SecretName, b.SecretUID = sec.Name, string(sec.UID)
		default:
			s.writeError(w, badRequest(fmt.Sprintf("cannot bind token to object of type %s", ref.Kind)))
			return
		}
	}
	tok, expires, err := s.auth.tokens.Issue(b, s.now())
	if err != nil {
		s.writeError(w, apierrors.NewInternalError(err))
		return
	}
	if len(tr.Spec.Audiences) == 0 {
		tr.Spec.Audiences = s.auth.tokens.Audiences
	}
	tr.Spec.ExpirationSeconds = &exp
	tr.Name, tr.Namespace, tr.CreationTimestamp = sa.Name, sa.Namespace, metav1.NewTime(s.now())
	tr.Status = authenticationv1.TokenRequestStatus{Token: tok, ExpirationTimestamp: metav1.NewTime(expires)}
	s.writeReview(w, r, tr)
}

// serveSelfSubjectReviewBeta is `kubectl auth whoami` of kubectl 1.27,
// which asks the beta (or alpha) version.
func (s *Server) serveSelfSubjectReviewBeta(w http.ResponseWriter, r *http.Request, a *auth.Attributes) {
	var (
		obj  runtime.Object
		info *authenticationv1.UserInfo
	)
	if a.APIVersion == "v1beta1" {
		rv := &authenticationv1beta1.SelfSubjectReview{TypeMeta: metav1.TypeMeta{APIVersion: "authentication.k8s.io/v1beta1", Kind: "SelfSubjectReview"}}
		obj, info = rv, &rv.Status.UserInfo
	} else {
		rv := &authenticationv1alpha1.SelfSubjectReview{TypeMeta: metav1.TypeMeta{APIVersion: "authentication.k8s.io/v1alpha1", Kind: "SelfSubjectReview"}}
		obj, info = rv, &rv.Status.UserInfo
	}
	if r.ContentLength != 0 {
		if err := s.decodeReview(r, w, obj); err != nil {
			s.writeError(w, err)
			return
		}
	}
	*info = userInfo(a.User)
	s.writeReview(w, r, obj)
}
