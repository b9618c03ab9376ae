package auth

import (
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/component-helpers/auth/rbac/validation"
)

// Escalation reports whether u may grant rules in namespace ns ("" for a
// ClusterRole or ClusterRoleBinding): only when it holds every one of
// them already (validation.Covers, the upstream comparison), or its user
// is in system:masters. The answer is "" or the Forbidden reason, in the
// real server's words.
func Escalation(u *User, held []rbacv1.PolicyRule, rules []rbacv1.PolicyRule) string {
	if u.InGroup(GroupMasters) {
		return ""
	}
	ok, missing := validation.Covers(held, rules)
	if ok {
		return ""
	}
	lines := make([]string, len(missing))
	for i, r := range missing {
		lines[i] = compact(r)
	}
	return fmt.Sprintf("user %q (groups=%q) is attempting to grant RBAC permissions not currently held:\n%s",
		u.Name, u.Groups, strings.Join(lines, "\n"))
}

// compact formats a rule as rbac's CompactString does.
func compact(r rbacv1.PolicyRule) string {
	var parts []string
	add := func(name string, vals []string) {
		if len(vals) == 0 {
			return
		}
		q := make([]string, len(vals))
		for i, v := range vals {
			q[i] = fmt.Sprintf("%q", v)
		}
		parts = append(parts, name+":["+strings.Join(q, ", ")+"]")
	}
	add("APIGroups", r.APIGroups)
	add("Resources", r.Resources)
	add("ResourceNames", r.ResourceNames)
	add("NonResourceURLs", r.NonResourceURLs)
	add("Verbs", r.Verbs)
	return "{" + strings.Join(parts, ", ") + "}"
}
