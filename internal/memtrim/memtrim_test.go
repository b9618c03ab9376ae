package memtrim

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestReadOnlyMapping(t *testing.T) {
	tests := []struct {
		line       string
		start, end uintptr
		ok         bool
	}{
		{"00400000-02230000 r-xp 00000000 08:01 123 /usr/bin/x", 0x400000, 0x2230000, true},
		{"02230000-047ec000 r--p 01e30000 08:01 123 /usr/bin/x", 0x2230000, 0x47ec000, true},
		{"047ec000-048a3000 rw-p 043ec000 08:01 123 /usr/bin/x", 0, 0, false},
		{"00400000-02230000 r-xp 00000000 08:01 123 /usr/bin/y", 0, 0, false},
		{"2d5414800000-2d5416000000 rw-p 00000000 00:00 0", 0, 0, false},
		{"zz-02230000 r-xp 00000000 08:01 123 /usr/bin/x", 0, 0, false},
	}
	for _, tt := range tests {
		s, e, ok := readOnlyMapping(tt.line, "/usr/bin/x")
		if s != tt.start || e != tt.end || ok != tt.ok {
			t.Errorf("readOnlyMapping(%q) = %x %x %v", tt.line, s, e, ok)
		}
	}
}

// rssFileKB reads RssFile (program and other file pages mapped) from
// /proc/self/status.
func rssFileKB(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}

// TestTrimKeepsTheProgramWorking unmaps the test binary's own code, sees
// the resident file pages fall, and goes on running it.
func TestTrimKeepsTheProgramWorking(t *testing.T) {
	if _, err := os.Stat("/proc/self/maps"); err != nil {
		t.Skip("no /proc")
	}
	before := rssFileKB(t)
	r := Trim()
	if after := rssFileKB(t); runtime.GOOS == "linux" && after >= before {
		t.Errorf("RssFile %d kB before Trim, %d kB after", before, after)
	}
	if r.Err != nil {
		t.Fatalf("Trim: %v", r.Err)
	}
	if runtime.GOOS == "linux" && r.PagedOut == 0 {
		t.Fatal("nothing paged out on Linux")
	}
	sum := 0
	for i := range 1000 {
		sum += i
	}
	if sum != 499500 {
		t.Fatal("arithmetic after trim")
	}
}
