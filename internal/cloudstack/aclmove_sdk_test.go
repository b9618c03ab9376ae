package cloudstack_test

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
)

// TestSDKMoveNetworkACLItem moves ACL rules with cloudstack-go: to the
// top, between two rules, to the bottom, with the list's consistency hash;
// a stale hash, rules of another list and no neighbours are refused and
// change nothing.
func TestSDKMoveNetworkACLItem(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	cs := e.cs
	off, _, err := cs.VPC.GetVPCOfferingByName("Default VPC offering")
	if err != nil {
		t.Fatal(err)
	}
	vpc, err := cs.VPC.CreateVPC(cs.VPC.NewCreateVPCParams("10.70.0.0/16", "acl", "acl", off.Id, e.advZone))
	if err != nil {
		t.Fatal(err)
	}
	list, err := cs.NetworkACL.CreateNetworkACLList(cs.NetworkACL.NewCreateNetworkACLListParams("moves", vpc.Id))
	if err != nil {
		t.Fatal(err)
	}
	other, err := cs.NetworkACL.CreateNetworkACLList(cs.NetworkACL.NewCreateNetworkACLListParams("other", vpc.Id))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, port := range []int{22, 80, 443} {
		p := cs.NetworkACL.NewCreateNetworkACLParams("tcp")
		p.SetAclid(list.Id)
		p.SetStartport(port)
		p.SetEndport(port)
		r, err := cs.NetworkACL.CreateNetworkACL(p)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.Id)
	}
	op := cs.NetworkACL.NewCreateNetworkACLParams("udp")
	op.SetAclid(other.Id)
	foreign, err := cs.NetworkACL.CreateNetworkACL(op)
	if err != nil {
		t.Fatal(err)
	}
	order := func() (string, []string) {
		t.Helper()
		lp := cs.NetworkACL.NewListNetworkACLsParams()
		lp.SetAclid(list.Id)
		l, err := cs.NetworkACL.ListNetworkACLs(lp)
		if err != nil {
			t.Fatal(err)
		}
		byNum := map[int]string{}
		var nums []int
		for _, r := range l.NetworkACLs {
			if _, dup := byNum[r.Number]; dup {
				t.Fatalf("two rules numbered %d", r.Number)
			}
			byNum[r.Number] = r.Id
			nums = append(nums, r.Number)
		}
		var out []string
		for n := 1; len(out) < len(nums); n++ {
			if id, ok := byNum[n]; ok {
				out = append(out, id)
			}
		}
		sum := md5.Sum([]byte(strings.Join(out, "")))
		return hex.EncodeToString(sum[:]), out
	}
	move := func(id, prev, next, hash string) error {
		p := cs.NetworkACL.NewMoveNetworkAclItemParams(id)
		p.SetPreviousaclruleid(prev)
		p.SetNextaclruleid(next)
		if hash != "" {
			p.SetAclconsistencyhash(hash)
		}
		_, err := cs.NetworkACL.MoveNetworkAclItem(p)
		return err
	}
	a, b, c := ids[0], ids[1], ids[2]
	hash, _ := order()
	if err := move(c, "NULL", a, hash); err != nil {
		t.Fatalf("to the top: %v", err)
	}
	if _, got := order(); strings.Join(got, ",") != strings.Join([]string{c, a, b}, ",") {
		t.Fatalf("after the top move: %v", got)
	}
	if err := move(b, c, a, ""); err != nil {
		t.Fatalf("between: %v", err)
	}
	if _, got := order(); strings.Join(got, ",") != strings.Join([]string{c, b, a}, ",") {
		t.Fatalf("after the middle move: %v", got)
	}
	if err := move(c, a, "", ""); err != nil {
		t.Fatalf("to the bottom: %v", err)
	}
	_, want := order()
	if strings.Join(want, ",") != strings.Join([]string{b, a, c}, ",") {
		t.Fatalf("after the bottom move: %v", want)
	}
	for _, tc := range []struct{ name, id, prev, next, hash, err string }{
		{"a stale hash", a, "NULL", b, "0123456789abcdef0123456789abcdef", "not in the state"},
		{"no neighbours", a, "", "", "", "Both previous and next ACL rule IDs cannot be blank."},
		{"another list's rule", a, foreign.Id, "", "", "Cannot use ACL rules from differenting ACLs"},
		{"rules apart", a, c, b, "", "not next to each other"},
		{"no next rule is the bottom", b, b, "NULL", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := move(tc.id, tc.prev, tc.next, tc.hash)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("want %q, got %v", tc.err, err)
			}
			if _, got := order(); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("a refused move changed the order: %v", got)
			}
		})
	}
}
