package dashboard

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/client/vms?page=2":      "/client/vms?page=2",
		"":                        "/client/",
		"//evil.example/":         "/client/",
		"https://evil.example/":   "/client/",
		"/client/\\evil":          "/client/",
		"/client/api?command=x":   "/client/",
		"/client/live?view=vms":   "/client/",
		"/other":                  "/client/",
		"/client/x\r\nSet-Cookie": "/client/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHostName(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:8080":  "127.0.0.1",
		"example.com":     "example.com",
		"[::1]:8080":      "::1",
		"bad\"host:80":    "localhost",
		"":                "localhost",
		"a<b>.example:80": "localhost",
	} {
		if got := hostName(in); got != want {
			t.Errorf("hostName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDeployRequest(t *testing.T) {
	base := map[string][]string{"zoneid": {"z"}, "serviceofferingid": {"o"}, "templateid": {"t"}}
	for _, tc := range []struct {
		name, key, value, msg string
	}{
		{"ok", "", "", ""},
		{"name ok", "name", "web-01", ""},
		{"name ends in hyphen", "name", "web-", "A VM name"},
		{"name with space", "name", "web 1", "A VM name"},
		{"name with digit first", "name", "1web", "A VM name"},
		{"sg id", "securitygroupid", "a b", "The form's securitygroupid"},
		{"keypair", "keypair", "mine", ""},
		{"no offering", "serviceofferingid", "", "Choose a service offering."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := map[string][]string{}
			for k, v := range base {
				f[k] = v
			}
			if tc.key != "" {
				f[tc.key] = []string{tc.value}
			}
			p, msg := deployRequest(f)
			if !strings.HasPrefix(msg, tc.msg) || (tc.msg == "") != (msg == "") {
				t.Fatalf("message %q, want %q", msg, tc.msg)
			}
			if msg == "" && p.Get("zoneid") != "z" {
				t.Errorf("params %v", p)
			}
		})
	}
}

func TestSeriesRing(t *testing.T) {
	var s series
	t0 := time.Unix(0, 0)
	for i := range seriesCap + 5 {
		s.add(sample{At: t0.Add(time.Duration(i) * time.Second), V: [2]int64{int64(i), 0}})
	}
	pts := s.points()
	if len(pts) != seriesCap || pts[0].V[0] != 5 || pts[len(pts)-1].V[0] != seriesCap+4 {
		t.Fatalf("ring kept %d points from %d to %d", len(pts), pts[0].V[0], pts[len(pts)-1].V[0])
	}
}

func TestSVG(t *testing.T) {
	for _, tc := range []struct {
		used, total int64
		class       string
		width       string
	}{
		{0, 100, "bar-ok", `width="0.0"`},
		{75, 100, "bar-warn", `width="165.0"`},
		{95, 100, "bar-crit", `width="209.0"`},
		{300, 100, "bar-crit", `width="220.0"`},
		{5, 0, "bar-ok", `width="0.0"`},
	} {
		got := string(capacityBar(tc.used, tc.total, "<cap>"))
		if !strings.Contains(got, tc.class) || !strings.Contains(got, tc.width) || strings.Contains(got, "<cap>") {
			t.Errorf("capacityBar(%d, %d) = %s", tc.used, tc.total, got)
		}
	}
	now := time.Unix(1000, 0)
	chart := string(lineChart([]sample{{At: now.Add(-time.Minute), V: [2]int64{10, 4}}, {At: now, V: [2]int64{20, 20}}}, [2]string{"VMs", "<run>"}, now))
	if !strings.Contains(chart, `<polyline class="line0"`) || !strings.Contains(chart, "&lt;run&gt;: 20") || !strings.Contains(chart, ">20</text>") {
		t.Errorf("lineChart: %s", chart)
	}
	bar := string(stackedBar([]stackPart{{"Running", "running", 3}, {"Error", "error", 1}, {"Stopped", "stopped", 0}}))
	if !strings.Contains(bar, `width="450.0"`) || strings.Contains(bar, "Stopped") {
		t.Errorf("stackedBar: %s", bar)
	}
}

func TestWriteEvent(t *testing.T) {
	rec := httptest.NewRecorder()
	if err := writeEvent(rec, "fragment", []byte("<p>\r\none</p>\n<p>two</p>")); err != nil {
		t.Fatal(err)
	}
	want := "event: fragment\ndata: <p>\ndata: one</p>\ndata: <p>two</p>\n\n"
	if rec.Body.String() != want {
		t.Fatalf("got %q, want %q", rec.Body.String(), want)
	}
}
