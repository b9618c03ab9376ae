package cloud

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/memory"
)

// TestApplyIsIdempotentByRevision feeds the index changes out of order, as
// a watch that lags behind this server's own commits delivers them.
func TestApplyIsIdempotentByRevision(t *testing.T) {
	vm := func(name string) []byte {
		b, _ := json.Marshal(&VM{ID: "v1", Name: name})
		return b
	}
	put := func(rev int64, name string) store.Event {
		return store.Event{Type: store.EventPut, KV: &store.KV{Key: "/cloud/vms/v1", Value: vm(name), ModRev: rev}}
	}
	del := func(rev int64) store.Event {
		return store.Event{Type: store.EventDelete, KV: &store.KV{Key: "/cloud/vms/v1", ModRev: rev}}
	}
	claim := func(typ store.EventType, rev int64) store.Event {
		return store.Event{Type: typ, KV: &store.KV{Key: "/cloud/ipclaims/n1/10.0.0.5", Value: []byte(`"v1"`), ModRev: rev}}
	}
	tests := []struct {
		name string
		// local runs first, as this server's commit would.
		local  func(ix *index)
		events []store.Event
		want   string // the VM's name, "" if absent
		claim  bool
	}{
		{name: "newer put wins", events: []store.Event{put(5, "a"), put(7, "b")}, want: "b"},
		{name: "older put after newer is ignored", events: []store.Event{put(7, "b"), put(5, "a")}, want: "b"},
		{name: "delete removes", events: []store.Event{put(5, "a"), del(6)}, want: ""},
		{name: "stale delete is ignored", events: []store.Event{put(7, "b"), del(6)}, want: "b"},
		{
			name: "own delete is not undone by its late put",
			local: func(ix *index) {
				ix.vms.set(&VM{ID: "v1", Name: "a"}, 5)
				ix.vms.remove("v1")
				ix.tombs["/cloud/vms/v1"] = 8
			},
			events: []store.Event{put(5, "a"), del(8)},
			want:   "",
		},
		{
			name:   "own release is not undone by the late claim",
			local:  func(ix *index) { ix.tombs["/cloud/ipclaims/n1/10.0.0.5"] = 9 },
			events: []store.Event{claim(store.EventPut, 4), claim(store.EventDelete, 9)},
			claim:  false,
		},
		{name: "claim then release", events: []store.Event{claim(store.EventPut, 4), claim(store.EventDelete, 9)}, claim: false},
		{name: "claim stays", events: []store.Event{claim(store.EventPut, 4)}, claim: true},
		{name: "unknown keys are ignored", events: []store.Event{{Type: store.EventPut, KV: &store.KV{Key: "/cloud/future/x", Value: []byte("{"), ModRev: 3}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ix := newIndex()
			if tc.local != nil {
				tc.local(ix)
			}
			for _, ev := range tc.events {
				if err := ix.apply(ev); err != nil {
					t.Fatal(err)
				}
			}
			ix.forget(100)
			got := ""
			if v, ok := ix.vms.get("v1"); ok {
				got = v.Name
			}
			if got != tc.want {
				t.Errorf("VM %q, want %q", got, tc.want)
			}
			a, _ := parseIP("10.0.0.5")
			if _, ok := ix.claimed["n1"][a]; ok != tc.claim {
				t.Errorf("claimed %v, want %v", ok, tc.claim)
			}
			if len(ix.tombs) != 0 {
				t.Errorf("tombstones left: %v", ix.tombs)
			}
		})
	}
}

// TestFollowerReloadsAfterCompaction: a server whose watch fell out of the
// store's history reloads its state and goes on following.
func TestFollowerReloadsAfterCompaction(t *testing.T) {
	st := memory.New(memory.Options{})
	y := smallDC + "templates: [{name: t1, osType: Other, size: 1}]\n"
	a := start(t, st, y, nil)
	b := start(t, st, y, nil)
	zone, so, tpl := ids(a)
	ctx := context.Background()

	// b stops following; a changes the cloud; the history b needs goes.
	b.stopFollowing()
	from := b.fol.rev
	vm, job, err := a.DeployVM(ctx, a.Admin(), DeployRequest{ZoneID: zone, ServiceOfferingID: so, TemplateID: tpl, StartVM: true})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, a, job.ID)
	rev, _ := st.Rev(ctx)
	if err := st.Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
	b.startFollowing(from)
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := vmState(b, vm.ID); got != VMRunning {
		t.Fatalf("b sees the VM as %q after reloading", got)
	}
	if c := b.Capacity(zone); c.VMs != 1 {
		t.Fatalf("b's capacity after reloading: %+v", c)
	}
	// and it follows on: b stops a's VM, a sees it.
	j, err := b.StopVM(ctx, b.Admin(), vm.ID, false, "stop")
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, b, j.ID)
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := vmState(a, vm.ID); got != VMStopped {
		t.Fatalf("a sees the VM as %q after b stopped it", got)
	}
}

// TestSequenceNumbersAreUniqueAcrossServers: two servers creating objects
// at once never hand out the same creation number (instance names and MAC
// addresses are made from it).
func TestSequenceNumbersAreUniqueAcrossServers(t *testing.T) {
	st := memory.New(memory.Options{})
	y := smallDCWithRange("10.0.0.2", "10.0.0.250") + "osTypes: [{description: Other, category: Other}]\ntemplates: [{name: t1, osType: Other, size: 1}]\n"
	sims := []*Sim{start(t, st, y, nil), start(t, st, y, nil)}
	zone, so, tpl := ids(sims[0])
	ctx := context.Background()
	done := make(chan error, 2)
	for _, s := range sims {
		go func() {
			for range 60 {
				if _, _, err := s.DeployVM(ctx, s.Admin(), DeployRequest{ZoneID: zone, ServiceOfferingID: so, TemplateID: tpl}); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range sims {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range sims {
		if err := s.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		seqs := map[int64]string{}
		s.Read(func(r Reader) {
			check := func(seq int64, what string) {
				if prev, ok := seqs[seq]; ok {
					t.Errorf("seq %d: %s and %s", seq, prev, what)
				}
				seqs[seq] = what
			}
			for _, v := range r.VMs() {
				check(v.Seq, "vm "+v.ID)
			}
			for _, v := range r.Volumes() {
				check(v.Seq, "volume "+v.ID)
			}
			for _, j := range r.Jobs() {
				check(j.Seq, "job "+j.ID)
			}
			for _, e := range r.Events() {
				check(e.Seq, "event "+e.ID)
			}
		})
		if len(seqs) < 120*4 {
			t.Fatalf("%d objects", len(seqs))
		}
	}
}
