package registry

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestServiceCIDR: with an instance's own range, cluster IPs come from it,
// and one asked for outside it gets the API's own error.
func TestServiceCIDR(t *testing.T) {
	st := newStorage(t)
	cidr := netip.MustParsePrefix("127.105.0.0/16")
	if err := st.SetServiceCIDR(cidr); err != nil {
		t.Fatal(err)
	}
	res := st.Reg.Lookup("", "v1", "services")
	svc := func(name, ip string) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: corev1.ServiceSpec{ClusterIP: ip, Ports: []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}}}}
	}
	for _, tc := range []struct {
		name, ip string
		wantErr  string
	}{
		{"auto", "", ""},
		{"inside", "127.105.3.4", ""},
		{"outside", "127.100.0.9", "The range of valid IPs is 127.105.0.0/16"},
	} {
		out, err := st.Create(context.Background(), res, svc(tc.name, tc.ip), WriteOptions{})
		if tc.wantErr != "" {
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: %v, want Invalid with %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		ip := netip.MustParseAddr(out.(*corev1.Service).Spec.ClusterIP)
		if !cidr.Contains(ip) {
			t.Errorf("%s: cluster IP %s outside %s", tc.name, ip, cidr)
		}
	}
	for _, bad := range []string{"::1/64", "127.0.0.0/31", "10.0.0.0/4"} {
		if err := st.SetServiceCIDR(netip.MustParsePrefix(bad)); err == nil {
			t.Errorf("SetServiceCIDR(%s) accepted", bad)
		}
	}
}
