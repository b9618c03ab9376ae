package store

import (
	"errors"
	"fmt"
	"testing"
)

func TestCollapse(t *testing.T) {
	p := func(k, v string) Op { return Put(k, []byte(v)) }
	tests := []struct {
		name string
		ops  []Op
		want string
	}{
		{"single", []Op{p("a", "1")}, "[a=1]"},
		{"checks dropped", []Op{Check("x", Cond{Kind: CondExists}), p("a", "1")}, "[a=1]"},
		{"last write wins in first place", []Op{p("a", "1"), p("b", "2"), p("a", "3")}, "[a=3 b=2]"},
		{"put then delete", []Op{p("a", "1"), Delete("a")}, "[-a]"},
		{"delete then put", []Op{Delete("a"), p("a", "2")}, "[a=2]"},
		{"conditions stripped", []Op{Create("a", []byte("1"))}, "[a=1]"},
	}
	// A long transaction takes the map path.
	var long []Op
	for i := range 40 {
		long = append(long, p(fmt.Sprint("k", i%20), fmt.Sprint(i)))
	}
	tests = append(tests, struct {
		name string
		ops  []Op
		want string
	}{"long", long, "[k0=20 k1=21 k2=22 k3=23 k4=24 k5=25 k6=26 k7=27 k8=28 k9=29 k10=30 k11=31 k12=32 k13=33 k14=34 k15=35 k16=36 k17=37 k18=38 k19=39]"})
	for _, tc := range tests {
		got := Collapse(nil, tc.ops)
		var s []string
		for _, op := range got {
			if op.If.Kind != CondNone {
				t.Errorf("%s: condition kept on %s", tc.name, op.Key)
			}
			if op.Kind == OpDelete {
				s = append(s, "-"+op.Key)
			} else {
				s = append(s, op.Key+"="+string(op.Value))
			}
		}
		if fmt.Sprint(s) != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, s, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := Validate([]Op{Put("/a", nil), Check("/b", Cond{Kind: CondRevision, Rev: 3})}); err != nil {
		t.Fatal(err)
	}
	for _, ops := range [][]Op{nil, {Put("", nil)}, {{Kind: 0, Key: "/a"}}} {
		if err := Validate(ops); !errors.Is(err, ErrInvalid) {
			t.Errorf("Validate(%v) = %v", ops, err)
		}
	}
}

func BenchmarkCollapse(b *testing.B) {
	ops := []Op{Put("/a", nil), Put("/b", nil), Create("/c", nil)}
	var dst []Op
	b.ReportAllocs()
	for b.Loop() {
		dst = Collapse(dst, ops)
	}
}
