package registry

import (
	"reflect"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// TestLeaseSpecEqual: the field-by-field comparison agrees with
// apiequality.Semantic, and covers every field of LeaseSpec.
func TestLeaseSpecEqual(t *testing.T) {
	if n := reflect.TypeFor[coordinationv1.LeaseSpec]().NumField(); n != 7 {
		t.Fatalf("LeaseSpec has %d fields; leaseSpecEqual compares 7", n)
	}
	i32 := func(i int32) *int32 { return &i }
	t0 := time.Unix(1_000_000, 123_000)
	mt := func(t time.Time) *metav1.MicroTime { m := metav1.NewMicroTime(t); return &m }
	strat := coordinationv1.OldestEmulationVersion
	base := func() coordinationv1.LeaseSpec {
		return coordinationv1.LeaseSpec{HolderIdentity: ptr.To("n"), LeaseDurationSeconds: i32(40), AcquireTime: mt(t0),
			RenewTime: mt(t0), LeaseTransitions: i32(1), Strategy: &strat, PreferredHolder: ptr.To("p")}
	}
	tests := []struct {
		name   string
		change func(*coordinationv1.LeaseSpec)
	}{
		{"equal", func(*coordinationv1.LeaseSpec) {}},
		{"renew time in another location", func(s *coordinationv1.LeaseSpec) { s.RenewTime = mt(t0.UTC()) }},
		{"renew time", func(s *coordinationv1.LeaseSpec) { s.RenewTime = mt(t0.Add(time.Microsecond)) }},
		{"no renew time", func(s *coordinationv1.LeaseSpec) { s.RenewTime = nil }},
		{"holder", func(s *coordinationv1.LeaseSpec) { s.HolderIdentity = ptr.To("m") }},
		{"no holder", func(s *coordinationv1.LeaseSpec) { s.HolderIdentity = nil }},
		{"duration", func(s *coordinationv1.LeaseSpec) { s.LeaseDurationSeconds = i32(10) }},
		{"acquire time", func(s *coordinationv1.LeaseSpec) { s.AcquireTime = nil }},
		{"transitions", func(s *coordinationv1.LeaseSpec) { s.LeaseTransitions = i32(2) }},
		{"strategy", func(s *coordinationv1.LeaseSpec) { s.Strategy = nil }},
		{"preferred holder", func(s *coordinationv1.LeaseSpec) { s.PreferredHolder = ptr.To("q") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := base(), base()
			tt.change(&b)
			if got, want := specEqual(a, b), apiequality.Semantic.DeepEqual(a, b); got != want {
				t.Errorf("specEqual = %v, semantic equality %v", got, want)
			}
		})
	}
}
