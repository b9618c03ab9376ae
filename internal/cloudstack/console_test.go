package cloudstack_test

import (
	"strings"
	"testing"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
)

// TestConsoleOutput: getVirtualMachineConsoleOutput (stratus's own
// command) answers, through the CloudStack Go SDK, what the VM's guest
// wrote, the most recent 64 KiB, in CloudStack's response shape; a VM
// that does not exist, or no id, is CloudStack's parameter error.
func TestConsoleOutput(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	vm, err := e.cs.VirtualMachine.DeployVirtualMachine(e.cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.basicZone))
	if err != nil {
		t.Fatal(err)
	}
	srv.Sim.WriteConsole(vm.Id, "cloud-init[1024]: hello\n")
	srv.Sim.WriteConsole("no-such-vm", "lost\n")
	long := strings.Repeat("x", 70<<10) + "END\n"
	for _, tc := range []struct {
		name, id string
		write    string
		want     string // the output's suffix; "" with wantErr
		wantLen  int    // 0: any
		wantErr  string
	}{
		{"written", vm.Id, "", "cloud-init[1024]: hello\n", len("cloud-init[1024]: hello\n"), ""},
		{"the last 64 KiB", vm.Id, long, "xEND\n", 64 << 10, ""},
		{"unknown VM", "8a8f8f8f-0000-4000-8000-000000000000", "", "", 0, "431"},
		{"no id", "", "", "", 0, "431"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.write != "" {
				srv.Sim.WriteConsole(vm.Id, tc.write)
			}
			p := withParam("id", tc.id)
			if tc.id == "" {
				p = withParam("other", "x")
			}
			var got map[string]any
			err := custom(e.cs).CustomRequest("getVirtualMachineConsoleOutput", p, &got)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			co, _ := got["consoleoutput"].(map[string]any)
			out, _ := co["output"].(string)
			if co["id"] != vm.Id || !strings.HasSuffix(out, tc.want) || tc.wantLen > 0 && len(out) != tc.wantLen {
				t.Errorf("answer %.200v (output %d bytes)", got, len(out))
			}
		})
	}
}
