package gce

import (
	"regexp"
	"strings"
)

// publicProjects are the image projects gcloud lists besides the user's
// own (gcloud 528, `images list`), plus fedora-cloud.
var publicProjects = map[string]bool{
	"centos-cloud": true, "cos-cloud": true, "debian-cloud": true, "fedora-coreos-cloud": true, "fedora-cloud": true,
	"opensuse-cloud": true, "oracle-linux-cloud": true, "rhel-cloud": true, "rhel-sap-cloud": true,
	"rocky-linux-accelerator-cloud": true, "rocky-linux-cloud": true, "suse-cloud": true, "suse-sap-cloud": true,
	"ubuntu-os-accelerator-images": true, "ubuntu-os-cloud": true, "ubuntu-os-pro-cloud": true,
	"windows-cloud": true, "windows-sql-cloud": true,
}

func publicImageProject(p string) bool { return publicProjects[p] }

var (
	verRE     = regexp.MustCompile(`(\d+)(?:\.(\d+))?`)
	afterWord = func(s, word string) (major, minor string) {
		i := strings.Index(s, word)
		if i < 0 {
			return "", ""
		}
		m := verRE.FindStringSubmatch(s[i+len(word):])
		if m == nil {
			return "", ""
		}
		return m[1], m[2]
	}
)

// osImage sorts a public template into a GCE image project and family by
// its OS type name (and, failing that, its name and description).
// ok is false for an OS no public image project stands for.
func osImage(osType, name, display string) (project, family string, ok bool) {
	all := strings.ToLower(osType + " | " + name + " | " + display)
	os := strings.ToLower(osType)
	pick := func(s string) string {
		if s != "" && !strings.Contains(s, "other") {
			return s
		}
		return all
	}
	s := pick(os)
	switch {
	case strings.Contains(all, "coreos"):
		return "fedora-coreos-cloud", "fedora-coreos-stable", true
	case strings.Contains(all, "container-optimized") || strings.Contains(all, "container optimized"):
		return "cos-cloud", "cos-stable", true
	case strings.Contains(s, "debian"):
		if v, _ := afterWord(s, "debian"); v != "" {
			return "debian-cloud", "debian-" + v, true
		}
		return "debian-cloud", "debian", true
	case strings.Contains(s, "ubuntu"):
		maj, min := afterWord(s, "ubuntu")
		if maj == "" {
			return "ubuntu-os-cloud", "ubuntu", true
		}
		if min == "" {
			min = "04"
		}
		fam := "ubuntu-" + maj + min
		if min == "04" && len(maj) == 2 && (maj[1]-'0')%2 == 0 {
			fam += "-lts"
		}
		return "ubuntu-os-cloud", fam, true
	case strings.Contains(s, "centos"):
		if strings.Contains(s, "stream") {
			v, _ := afterWord(s, "stream")
			return "centos-cloud", strings.TrimSuffix("centos-stream-"+v, "-"), true
		}
		v, _ := afterWord(s, "centos")
		return "centos-cloud", strings.TrimSuffix("centos-"+v, "-"), true
	case strings.Contains(s, "rocky"):
		v, _ := afterWord(s, "rocky")
		return "rocky-linux-cloud", strings.TrimSuffix("rocky-linux-"+v, "-"), true
	case strings.Contains(s, "red hat") || strings.Contains(s, "rhel"):
		v, _ := afterWord(s, "r")
		if i := strings.Index(s, "rhel"); i >= 0 {
			v, _ = afterWord(s, "rhel")
		} else if i := strings.Index(s, "linux"); i >= 0 {
			v, _ = afterWord(s, "linux")
		}
		return "rhel-cloud", strings.TrimSuffix("rhel-"+v, "-"), true
	case strings.Contains(s, "opensuse"):
		return "opensuse-cloud", "opensuse-leap", true
	case strings.Contains(s, "suse") || strings.Contains(s, "sles"):
		v, _ := afterWord(s, "s")
		if i := strings.Index(s, "server"); i >= 0 {
			v, _ = afterWord(s, "server")
		}
		return "suse-cloud", strings.TrimSuffix("sles-"+v, "-"), true
	case strings.Contains(s, "oracle"):
		v, _ := afterWord(s, "oracle")
		return "oracle-linux-cloud", strings.TrimSuffix("oracle-linux-"+v, "-"), true
	case strings.Contains(s, "windows"):
		if v, _ := afterWord(s, "server"); v != "" {
			return "windows-cloud", "windows-" + v, true
		}
		return "windows-cloud", "windows", true
	case strings.Contains(s, "fedora"):
		v, _ := afterWord(s, "fedora")
		return "fedora-cloud", strings.TrimSuffix("fedora-cloud-"+v, "-"), true
	}
	return "", "", false
}
