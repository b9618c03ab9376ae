package cloudinit

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"reflect"
	"testing"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.String()
}

func TestParseUserData(t *testing.T) {
	want := Join{Servers: []string{"https://127.0.0.1:6443"}, Token: "tok"}
	script := "#!/bin/sh\nset -e\nstratus agent --server https://127.0.0.1:6443 --token tok\n"
	for _, tc := range []struct {
		name string
		in   string
		want Join
		ok   bool
	}{
		{"script", script, want, true},
		{"base64 script", base64.StdEncoding.EncodeToString([]byte(script)), want, true},
		{"gzip script", gz(script), want, true},
		{"base64 gzip script", base64.StdEncoding.EncodeToString([]byte(gz(script))), want, true},
		{"path, sudo, = form", "#!/bin/bash\nsudo /usr/local/bin/stratus agent --server=https://127.0.0.1:6443 --token=tok &\n", want, true},
		{"quoted and continued", "#!/bin/sh\napt-get update && stratus agent \\\n  --server 'https://127.0.0.1:6443' --token \"tok\" # join\n", want, true},
		{"several servers, name", "#!/bin/sh\nstratus agent --server https://a:6443,https://b:6443 --token t --name n1\n",
			Join{Servers: []string{"https://a:6443", "https://b:6443"}, Token: "t", Name: "n1"}, true},
		{"commented out", "#!/bin/sh\n# stratus agent --server https://127.0.0.1:6443 --token tok\n", Join{}, false},
		{"cloud-config runcmd list of strings", "#cloud-config\npackages: [etcd]\nruncmd:\n - echo hi\n - stratus agent --server https://127.0.0.1:6443 --token tok\n", want, true},
		{"cloud-config runcmd argument list", "#cloud-config\nruncmd:\n - [stratus, agent, --server, \"https://127.0.0.1:6443\", --token, tok]\n", want, true},
		{"cloud-config runcmd string", "#cloud-config\nruncmd: |\n  echo hi\n  stratus agent --server https://127.0.0.1:6443 --token tok\n", want, true},
		{"cloud-config without join", "#cloud-config\nruncmd:\n - [systemctl, start, etcd]\n", Join{}, false},
		{"no join line", "#!/bin/sh\necho hello\n", Join{}, false},
		{"other agent", "#!/bin/sh\nconsul agent --server\n", Join{}, false},
		{"plain text", "hello world", Join{}, false},
		{"empty", "", Join{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := ParseUserData([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
	if _, _, err := ParseUserData([]byte("#cloud-config\nruncmd: [unclosed\n")); err == nil {
		t.Error("bad YAML: no error")
	}
}

func TestProviderID(t *testing.T) {
	gceVM := &csclient.VirtualMachine{ID: "abc-1", ZoneName: "zone1", Tags: []csclient.Tag{{Key: "other", Value: "x"}, {Key: csclient.GCEInstanceTag, Value: "proj/zone1-a/web-1"}}}
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{ProviderID(&csclient.VirtualMachine{ID: "abc-1", ZoneName: "zone1"}), true},
		{ProviderID(gceVM), true},
		{"cloudstack://zone1/", false},
		{"cloudstack://zone1/a/b", false},
		{"gce://p/z", false},
		{"gce://p//n", false},
		{"aws:///us-east-1a/i-1", false},
		{"", false},
	} {
		if ok := IsProviderID(tc.in); ok != tc.ok {
			t.Errorf("IsProviderID(%q) = %v", tc.in, ok)
		}
	}
	if got, want := ProviderID(&csclient.VirtualMachine{ID: "abc-1", ZoneName: "zone1"}), "cloudstack://zone1/abc-1"; got != want {
		t.Errorf("CloudStack VM: %q, want %q", got, want)
	}
	if got, want := ProviderID(gceVM), "gce://proj/zone1-a/web-1"; got != want {
		t.Errorf("GCE-made VM: %q, want %q", got, want)
	}
}

func TestSameServer(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"https://127.0.0.1:6443", "https://localhost:6443/", true},
		{"https://127.0.0.1:6443", "https://127.0.0.1:6444", false},
		{"http://127.0.0.1:6443", "https://127.0.0.1:6443", false},
		{"https://k.example", "https://k.example:443", true},
	} {
		if got := sameServer(tc.a, tc.b); got != tc.want {
			t.Errorf("sameServer(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

func FuzzParseUserData(f *testing.F) {
	f.Add([]byte("#!/bin/sh\nstratus agent --server https://127.0.0.1:6443 --token tok\n"))
	f.Add([]byte("#cloud-config\nruncmd:\n - [stratus, agent, --server, x, --token, y]\n"))
	f.Add([]byte(gz("#!/bin/sh\nstratus agent --token 'a\n")))
	f.Fuzz(func(t *testing.T, data []byte) {
		j, ok, err := ParseUserData(data)
		if err != nil && ok {
			t.Fatal("ok with an error")
		}
		if !ok && (j.Token != "" || len(j.Servers) > 0) {
			t.Fatal("a join without ok")
		}
	})
}
