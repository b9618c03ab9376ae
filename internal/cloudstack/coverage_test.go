package cloudstack

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

var updateCoverage = flag.Bool("update-coverage", false, "rewrite testdata/coverage.txt with the commands implemented now")

// coverageFile lists the CloudStack 4.22 commands stratus implements, as of
// the last -update-coverage: the floor TestCoverage holds the table to.
const coverageFile = "testdata/coverage.txt"

// TestCoverage prints which of CloudStack 4.22's commands stratus
// implements and fails if one it implemented is gone (coverage shrank).
// After adding commands, run it with -update-coverage and update the
// README's coverage line with the figures it prints.
func TestCoverage(t *testing.T) {
	ref := referenceNames()
	impl := map[string]bool{}
	for _, c := range commands() {
		if real, ok := ref[strings.ToLower(c.Name)]; ok {
			impl[real] = true
		} else if !simulatorCommands[c.Name] {
			t.Errorf("%s is neither a CloudStack 4.22 command nor one of the simulator's", c.Name)
		}
	}
	names := make([]string, 0, len(ref))
	for _, n := range ref {
		names = append(names, n)
	}
	slices.Sort(names)

	// the table: one line per command, by verb
	byVerb := map[string][2]int{}
	var b strings.Builder
	for _, n := range names {
		v := verbOf(n)
		c := byVerb[v]
		c[1]++
		mark := " "
		if impl[n] {
			c[0]++
			mark = "x"
		}
		byVerb[v] = c
		fmt.Fprintf(&b, "  [%s] %s\n", mark, n)
	}
	verbs := make([]string, 0, len(byVerb))
	for v := range byVerb {
		verbs = append(verbs, v)
	}
	slices.SortFunc(verbs, func(a, b string) int { return byVerb[b][1] - byVerb[a][1] })
	var sum strings.Builder
	for _, v := range verbs {
		fmt.Fprintf(&sum, "  %-12s %3d / %3d\n", v, byVerb[v][0], byVerb[v][1])
	}
	t.Logf("CloudStack 4.22 API coverage: %d of %d commands (%.1f%%)\nby verb:\n%s\ncommands:\n%s",
		len(impl), len(names), 100*float64(len(impl))/float64(len(names)), sum.String(), b.String())

	if *updateCoverage {
		var out strings.Builder
		out.WriteString("# CloudStack 4.22 commands stratus implements (TestCoverage's floor;\n# regenerate with go test -run TestCoverage -update-coverage).\n")
		for _, n := range names {
			if impl[n] {
				out.WriteString(n + "\n")
			}
		}
		if err := os.WriteFile(coverageFile, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	floor, err := os.ReadFile(coverageFile)
	if err != nil {
		t.Fatalf("%v (create it with -update-coverage)", err)
	}
	had := 0
	for _, l := range strings.Split(string(floor), "\n") {
		if l = strings.TrimSpace(l); l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		had++
		if !impl[l] {
			t.Errorf("coverage shrank: %s is no longer implemented", l)
		}
	}
	if len(impl) > had {
		t.Logf("coverage grew from %d to %d: run with -update-coverage and update the README", had, len(impl))
	}
}

// simulatorCommands are stratus's and the simulator plugin's own commands,
// absent from a production server's listApis.
var simulatorCommands = map[string]bool{"configureSimulator": true, "querySimulatorMock": true,
	"cleanupSimulatorMock": true, "listSimulatorMocks": true, "getVirtualMachineConsoleOutput": true}

// verbOf is a command's leading lower-case word (list, create, …).
func verbOf(name string) string {
	for i, r := range name {
		if r >= 'A' && r <= 'Z' {
			return name[:i]
		}
	}
	return name
}
