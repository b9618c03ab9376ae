package cloudprovider

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
	"github.com/stratus-cloud/stratus/internal/kube/controller/kubetest"
)

// TestFits: a group takes the Pending pods whose node selector its new
// nodes would match.
func TestFits(t *testing.T) {
	g := NodeGroup{Name: "g", Zone: "z1", Offering: "Large"}
	for _, tc := range []struct {
		sel  map[string]string
		want bool
	}{
		{nil, true},
		{map[string]string{"node.kubernetes.io/instance-type": "Large"}, true},
		{map[string]string{"node.kubernetes.io/instance-type": "Small"}, false},
		{map[string]string{"topology.kubernetes.io/zone": "z1", "kubernetes.io/os": "linux"}, true},
		{map[string]string{"topology.kubernetes.io/zone": "z2"}, false},
		{map[string]string{"disk": "ssd"}, false},
	} {
		p := &corev1.Pod{Spec: corev1.PodSpec{NodeSelector: tc.sel}}
		if got := fits(p, g); got != tc.want {
			t.Errorf("selector %v: fits %v, want %v", tc.sel, got, tc.want)
		}
	}
}

// TestAutoscalerGroups: the data center file's groups come first; the
// ConfigMap adds groups, replaces one of the same name and sets the
// scale-down delay; a ConfigMap that does not parse is an error.
func TestAutoscalerGroups(t *testing.T) {
	static := []NodeGroup{{Name: "a", Max: 1}, {Name: "b", Max: 2}}
	for _, tc := range []struct {
		name      string
		cm        map[string]string // nil: no ConfigMap
		want      []string          // name:max
		wantAfter time.Duration
		wantErr   bool
	}{
		{"file only", nil, []string{"a:1", "b:2"}, 10 * time.Minute, false},
		{"added and replaced", map[string]string{"groups": "- {name: b, max: 5}\n- {name: c, max: 3}\n", "scaleDownAfter": "30s"},
			[]string{"a:1", "b:5", "c:3"}, 30 * time.Second, false},
		{"bad delay keeps the default", map[string]string{"groups": "[]", "scaleDownAfter": "soon"}, []string{"a:1", "b:2"}, 10 * time.Minute, false},
		{"bad YAML", map[string]string{"groups": "- {name: ["}, nil, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := kubetest.NewClientset()
			if tc.cm != nil {
				if _, err := cs.CoreV1().ConfigMaps(AutoscalerNamespace).Create(context.Background(), &corev1.ConfigMap{
					ObjectMeta: metav1.ObjectMeta{Name: AutoscalerConfigMap, Namespace: AutoscalerNamespace}, Data: tc.cm}, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			a, err := NewAutoscaler(Options{Client: cs}, csclient.New("http://cloud.invalid/client/api", "k", "s", nil), "stratus agent", 0, static...)
			if err != nil {
				t.Fatal(err)
			}
			groups, after, err := a.groups(context.Background())
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v", err)
			}
			var got []string
			for _, g := range groups {
				got = append(got, g.Name+":"+string(rune('0'+g.Max)))
			}
			if !tc.wantErr && (len(got) != len(tc.want) || after != tc.wantAfter) {
				t.Fatalf("groups %v after %v, want %v after %v", got, after, tc.want, tc.wantAfter)
			}
			for i := range tc.want {
				if got[i] != tc.want[i] {
					t.Errorf("groups %v, want %v", got, tc.want)
				}
			}
		})
	}
}
