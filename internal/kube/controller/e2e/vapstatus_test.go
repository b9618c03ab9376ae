package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stratus-cloud/stratus/internal/kube/controller"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestValidatingAdmissionPolicyTypeChecking: the controller manager
// type-checks a policy's expressions against the kinds it matches and
// writes status.typeChecking as kube-controller-manager does: a warning
// per expression that does not check, for each kind, and none for one that
// does; an edit is checked again.
func TestValidatingAdmissionPolicyTypeChecking(t *testing.T) {
	c := startCluster(t, controller.Options{})
	ctx := context.Background()
	policies := c.cs.AdmissionregistrationV1().ValidatingAdmissionPolicies()
	p := &admissionregistrationv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: "replicas"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments"}}}}}},
			Validations: []admissionregistrationv1.Validation{
				{Expression: "object.spec.replicas <= 5"},
				{Expression: "object.spec.replicas > '1'", MessageExpression: "'too many: ' + object.spec.replicas"},
			}}}
	if _, err := policies.Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var got *admissionregistrationv1.ValidatingAdmissionPolicy
	checked := func(gen int64) func() bool {
		return func() bool {
			var err error
			got, err = policies.Get(ctx, "replicas", metav1.GetOptions{})
			return err == nil && got.Status.ObservedGeneration == gen && got.Generation == gen
		}
	}
	testenv.Eventually(t, time.Minute, "the policy type-checked", checked(1))
	if got.Status.TypeChecking == nil {
		t.Fatalf("no typeChecking in %+v", got.Status)
	}
	w := got.Status.TypeChecking.ExpressionWarnings
	if len(w) != 2 || w[0].FieldRef != "spec.validations[1].expression" || w[1].FieldRef != "spec.validations[1].messageExpression" {
		t.Fatalf("warnings %+v, want spec.validations[1].expression and messageExpression", w)
	}
	for _, want := range []string{"apps/v1, Kind=Deployment: ERROR: <input>:1:22: found no matching overload for '_>_' applied to '(int, string)'",
		" | object.spec.replicas > '1'\n | .....................^"} {
		if !strings.Contains(w[0].Warning, want) {
			t.Errorf("warning %q lacks %q", w[0].Warning, want)
		}
	}
	if !strings.Contains(w[1].Warning, "found no matching overload for '_+_' applied to '(string, int)'") {
		t.Errorf("messageExpression warning %q", w[1].Warning)
	}
	var managers []string
	for _, f := range got.ManagedFields {
		if f.Subresource == "status" {
			managers = append(managers, f.Manager)
		}
	}
	if !strings.Contains(strings.Join(managers, ","), "validatingadmissionpolicy-status-controller") {
		t.Errorf("status managers %v", managers)
	}

	got.Spec.Validations = got.Spec.Validations[:1]
	if _, err := policies.Update(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Minute, "the edited policy type-checked", checked(2))
	// (server-side apply removes the warnings the controller no longer
	// gives; a new policy that checks gets typeChecking: {})
	if tc := got.Status.TypeChecking; tc != nil && len(tc.ExpressionWarnings) != 0 {
		t.Errorf("typeChecking of a policy that checks: %+v", tc)
	}
}
