package gce

import (
	"encoding/json"
	"testing"
)

func TestFilter(t *testing.T) {
	doc := map[string]any{}
	if err := json.Unmarshal([]byte(`{"name":"web-1","status":"RUNNING","zone":"https://x/zones/us-central1-a",
		"labels":{"env":"dev"},"cpus":4,"deprecated":{"state":"ACTIVE"},"tags":{"items":["web","ssh"]},
		"networkInterfaces":[{"networkIP":"10.0.0.2"},{"networkIP":"10.0.1.2"}]}`), &doc); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		filter string
		want   bool
	}{
		{`name eq web-1`, true},
		{`name eq "web-.*"`, true},
		{`name eq "web"`, false}, // the whole field must match
		{`name ne "web-.*"`, false},
		{`zone eq ".*\bus\-central1\-a\b.*"`, true},
		{`status eq RUNNING`, true},
		{`(status eq RUNNING)(name eq "db.*")`, false},
		{`(status eq RUNNING)(name eq "web.*")`, true},
		{`deprecated.state ne OBSOLETE`, true},
		{`nosuch eq x`, false},
		{`nosuch ne x`, true},
		{`tags.items eq ssh`, true},
		{`networkInterfaces.networkIP eq "10\.0\.1\.2"`, true},
		{`name = "web-1"`, true},
		{`name = web-*`, true},
		{`name != "web-1"`, false},
		{`labels.env = dev AND status = RUNNING`, true},
		{`labels.env = prod OR status = RUNNING`, true},
		{`NOT status = RUNNING`, false},
		{`-status = RUNNING`, false},
		{`name : WEB`, true},
		{`name ~ "^w"`, true},
		{`name !~ "^w"`, false},
		{`cpus > 2`, true},
		{`cpus <= 2`, false},
		{`(labels.env = dev) AND (cpus >= 4 OR name = x)`, true},
	} {
		f, err := parseFilter(tc.filter)
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		if got := f.match(doc); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.filter, got, tc.want)
		}
	}
}

func TestFilterErrors(t *testing.T) {
	for _, s := range []string{`name eq`, `name eq "unterminated`, `name eq "(" `, `(name eq x`, `name xx y`, `AND name = x`,
		`name = x OR`, `= x`, `name == x`, `a..b = c`, `()`} {
		if _, err := parseFilter(s); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
	f, err := parseFilter("   ")
	if f != nil || err != nil {
		t.Errorf("blank filter: %v %v", f, err)
	}
}

// FuzzFilter: any input parses or fails cleanly, and a parsed filter
// evaluates without panicking.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{`name eq "a.*"`, `(a eq b)(c ne d)`, `a = b AND (c != d OR NOT e : f)`, `-x ~ "y"`, `n > 3`} {
		f.Add(s)
	}
	doc := map[string]any{"name": "a", "n": 4.0, "l": []any{"x", map[string]any{"y": true}}}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := parseFilter(s)
		if err != nil || flt == nil {
			return
		}
		flt.match(doc)
	})
}

func TestPageToken(t *testing.T) {
	for _, off := range []int{0, 1, 500, 123456} {
		got, ok := decodePageToken(encodePageToken(off))
		if !ok || got != off {
			t.Fatalf("round trip %d: %d %v", off, got, ok)
		}
	}
	for _, bad := range []string{"", "p1.", "p1.!!", "x.MQ", "p1." + "LTE"} {
		if _, ok := decodePageToken(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestNames(t *testing.T) {
	for in, want := range map[string]string{"Sandbox-simulator": "sandbox-simulator", "Small HA": "small-ha",
		"CentOS 5.6 (64-bit) no GUI (Simulator)": "centos-5-6-64-bit-no-gui-simulator", "9zone": "x-9zone", "": "x"} {
		if got := gceName(in); got != want || !validName(got) && got != "x" {
			t.Errorf("gceName(%q) = %q, want %q", in, got, want)
		}
	}
	// A CloudStack zone is a region of one zone, "<region>-a", so gcloud's
	// own derivation of a zone's region finds it.
	if z := zoneName("Sandbox-simulator-basic"); z != "sandbox-simulator-basic-a" || regionOf(z) != "sandbox-simulator-basic" {
		t.Errorf("zoneName = %q, its region %q", z, regionOf(z))
	}
	for in, want := range map[string]string{"us-central1-a": "us-central1", "sandbox-simulator": "sandbox", "solo": "solo"} {
		if got := regionOf(in); got != want {
			t.Errorf("regionOf(%q) = %q", in, got)
		}
	}
}

func TestOSImage(t *testing.T) {
	for _, tc := range []struct{ os, name, project, family string }{
		{"Debian GNU/Linux 12 (64-bit)", "Debian 12", "debian-cloud", "debian-12"},
		{"Ubuntu 22.04 LTS", "Ubuntu 22.04", "ubuntu-os-cloud", "ubuntu-2204-lts"},
		{"Ubuntu 23.10", "u", "ubuntu-os-cloud", "ubuntu-2310"},
		{"CentOS 7", "CentOS 7", "centos-cloud", "centos-7"},
		{"CentOS Stream 9", "c", "centos-cloud", "centos-stream-9"},
		{"Fedora Linux (64 bit)", "Fedora CoreOS", "fedora-coreos-cloud", "fedora-coreos-stable"},
		{"Rocky Linux 9", "r", "rocky-linux-cloud", "rocky-linux-9"},
		{"Red Hat Enterprise Linux 9", "r", "rhel-cloud", "rhel-9"},
		{"Windows Server 2022 (64-bit)", "w", "windows-cloud", "windows-2022"},
		{"Other Linux (64-bit)", "tools", "", ""},
	} {
		p, f, ok := osImage(tc.os, tc.name, "")
		if p != tc.project || f != tc.family || ok != (tc.project != "") {
			t.Errorf("osImage(%q, %q) = %s %s %v", tc.os, tc.name, p, f, ok)
		}
	}
}

func TestPredefinedMachineTypes(t *testing.T) {
	for name, want := range map[string][2]int64{"n1-standard-1": {1, 3840}, "e2-small": {2, 2048}, "n2-highmem-4": {4, 32768},
		"custom-2-4096": {2, 4096}, "e2-custom-4-8192": {4, 8192}} {
		c, m, ok := predefinedSize(name)
		if !ok || c != want[0] || m != want[1] {
			t.Errorf("%s: %d %d %v", name, c, m, ok)
		}
	}
	if _, _, ok := predefinedSize("small"); ok {
		t.Error("small is not predefined")
	}
}
