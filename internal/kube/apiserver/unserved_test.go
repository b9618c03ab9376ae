package apiserver

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

func TestUnservedSubresource(t *testing.T) {
	for _, tc := range []struct {
		path string
		want string // "" means served (or a plain 404) as before
	}{
		{"/api/v1/namespaces/default/pods/web/exec", "kubectl exec cannot reach pod default/web"},
		{"/api/v1/namespaces/default/pods/web/attach", "kubectl attach"},
		{"/api/v1/namespaces/ns1/pods/p/portforward", "kubectl port-forward cannot reach pod ns1/p"},
		{"/api/v1/namespaces/default/pods/web/log", ""},
		{"/api/v1/namespaces/default/pods/web", ""},
		{"/apis/apps/v1/namespaces/default/deployments/web/exec", ""},
	} {
		ri, ok := parsePath(tc.path)
		if !ok {
			t.Fatalf("parsePath(%q) failed", tc.path)
		}
		err := unservedSubresource(ri)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v, want nil", tc.path, err)
			}
			continue
		}
		if !apierrors.IsNotFound(err) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "not served by stratus yet") {
			t.Errorf("%s: %v, want a NotFound Status saying %q", tc.path, err, tc.want)
		}
	}
}
