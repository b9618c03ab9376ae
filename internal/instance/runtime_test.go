package instance

import (
	"testing"

	"github.com/stratus-cloud/stratus/internal/datadir"
)

// TestChooseRuntime: sim unless told; a choice given is kept in the data
// dir and used by later runs without the flag.
func TestChooseRuntime(t *testing.T) {
	d, err := datadir.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, tc := range []struct {
		flag     string
		set      bool
		want     string
		wantFrom string
		wantErr  bool
	}{
		{flag: DefaultRuntime, want: "sim", wantFrom: "default"},
		{flag: "docker", set: true, want: "docker", wantFrom: "--runtime"},
		{flag: DefaultRuntime, want: "docker", wantFrom: "kept in the data dir"},
		{flag: "bogus", set: true, wantErr: true},
		{flag: DefaultRuntime, want: "docker", wantFrom: "kept in the data dir"},
		{flag: "sim", set: true, want: "sim", wantFrom: "--runtime"},
		{flag: DefaultRuntime, want: "sim", wantFrom: "kept in the data dir"},
	} {
		name, from, err := chooseRuntime(d, tc.flag, tc.set)
		if (err != nil) != tc.wantErr || name != tc.want || from != tc.wantFrom {
			t.Fatalf("chooseRuntime(%q, %v) = %q, %q, %v; want %q, %q, err %v", tc.flag, tc.set, name, from, err, tc.want, tc.wantFrom, tc.wantErr)
		}
	}
}
