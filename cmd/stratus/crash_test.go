package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/cloudstack-go/v2/cloudstack"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// TestCloudSurvivesKillsDuringVMTransitions runs a CloudStack workload
// (deploy, start, stop, reboot, migrate) with non-zero agent timings, kills
// `stratus up` in the middle of it (20 SIGKILLs; every sixth time a clean
// Ctrl-C), and after the last start checks what a CloudStack operator
// relies on: no VM in a transitional state, every acknowledged VM exists,
// each host's allocated memory is what its running VMs take, and every VM
// takes a start or stop again.
func TestCloudSurvivesKillsDuringVMTransitions(t *testing.T) {
	if testing.Short() {
		t.Skip("starts stratus up 25 times")
	}
	const rounds = 24
	dataDir := t.TempDir()
	dc := strings.Replace(string(cloud.DefaultDatacenterYAML()), "    start: 0s\n    stop: 0s\n    reboot: 0s\n    migrate: 0s\n",
		"    start: 150ms\n    stop: 150ms\n    reboot: 150ms\n    migrate: 150ms\n", 1)
	if !strings.Contains(dc, "start: 150ms") {
		t.Fatal("the default data center's timings moved; update this test")
	}
	dcFile := filepath.Join(dataDir, "dc.yaml")
	if err := os.WriteFile(dcFile, []byte(dc), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--datacenter", dcFile, "--runtime", "sim", "--trim-memory=false"}

	var mu sync.Mutex
	acked := map[string]bool{}
	var vms []string
	kills, clean := 0, 0
	for round := 0; round < rounds; round++ {
		p := startUp(t, dataDir, args...)
		p.waitReady(t, 30*time.Second)
		cs := csClient(t, dataDir)
		w := csWorld(t, cs)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					mu.Lock()
					var id string
					if len(vms) > 0 {
						id = vms[rand.IntN(len(vms))]
					}
					mu.Unlock()
					switch op := rand.IntN(6); {
					case op == 0 || id == "":
						pr := cs.VirtualMachine.NewDeployVirtualMachineParams(w.micro, w.template, w.zone)
						if r, err := cs.VirtualMachine.DeployVirtualMachine(pr); err == nil && r.Id != "" {
							mu.Lock()
							acked[r.Id] = true
							vms = append(vms, r.Id)
							mu.Unlock()
						}
					case op == 1:
						_, _ = cs.VirtualMachine.StartVirtualMachine(cs.VirtualMachine.NewStartVirtualMachineParams(id))
					case op == 2:
						_, _ = cs.VirtualMachine.StopVirtualMachine(cs.VirtualMachine.NewStopVirtualMachineParams(id))
					case op == 3:
						_, _ = cs.VirtualMachine.RebootVirtualMachine(cs.VirtualMachine.NewRebootVirtualMachineParams(id))
					default:
						_, _ = cs.VirtualMachine.MigrateVirtualMachine(cs.VirtualMachine.NewMigrateVirtualMachineParams(id))
					}
				}
			}()
		}
		// Let jobs get into their 150 ms transitions, then stop the server
		// in the middle of them.
		time.Sleep(time.Duration(200+rand.IntN(400)) * time.Millisecond) //nolint:forbidigo // the fault's moment, not a wait for a condition
		if round%6 == 5 {
			p.stop(t)
			clean++
		} else {
			if err := p.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			<-p.done
			kills++
		}
		cancel()
		wg.Wait()
	}
	p := startUp(t, dataDir, args...)
	p.waitReady(t, 30*time.Second)
	cs := csClient(t, dataDir)
	t.Logf("%d SIGKILLs, %d clean stops, %d acknowledged VMs", kills, clean, len(acked))
	if kills < 20 || len(acked) == 0 {
		t.Fatalf("the workload did too little: %d kills, %d VMs", kills, len(acked))
	}

	lp := cs.VirtualMachine.NewListVirtualMachinesParams()
	lp.SetListall(true)
	list, err := cs.VirtualMachine.ListVirtualMachines(lp)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]*cloudstack.VirtualMachine{}
	var runningMB int64
	for _, vm := range list.VirtualMachines {
		found[vm.Id] = vm
		switch vm.State {
		case "Running":
			runningMB += int64(vm.Memory)
		case "Stopped":
		default:
			t.Errorf("VM %s is %s after the restart", vm.Name, vm.State)
		}
	}
	for id := range acked {
		if found[id] == nil {
			t.Errorf("acknowledged VM %s is gone", id)
		}
	}
	hosts, err := cs.Host.ListHosts(cs.Host.NewListHostsParams())
	if err != nil {
		t.Fatal(err)
	}
	var allocMB int64
	for _, h := range hosts.Hosts {
		allocMB += h.Memoryallocated >> 20
	}
	if allocMB != runningMB {
		t.Errorf("hosts have %d MB allocated; the running VMs take %d MB", allocMB, runningMB)
	}

	// Every VM takes a command again: stop the running ones, start the others.
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, vm := range list.VirtualMachines {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var jobID string
			var err error
			if vm.State == "Running" {
				var r *cloudstack.StopVirtualMachineResponse
				r, err = cs.VirtualMachine.StopVirtualMachine(cs.VirtualMachine.NewStopVirtualMachineParams(vm.Id))
				if r != nil {
					jobID = r.JobID
				}
			} else {
				var r *cloudstack.StartVirtualMachineResponse
				r, err = cs.VirtualMachine.StartVirtualMachine(cs.VirtualMachine.NewStartVirtualMachineParams(vm.Id))
				if r != nil {
					jobID = r.JobID
				}
			}
			if err == nil {
				err = waitCSJob(cs, jobID, 30*time.Second)
			}
			if err != nil {
				t.Errorf("VM %s (%s) after the restart: %v", vm.Name, vm.State, err)
			}
		}()
	}
	wg.Wait()
}

// csClient is the Go SDK without waiting for jobs, pointed at the server
// running from dataDir.
func csClient(t *testing.T, dataDir string) *cloudstack.CloudStackClient {
	t.Helper()
	vars := env(t, dataDir, "cloudstack")
	return cloudstack.NewClient(vars["CLOUDSTACK_API_URL"], vars["CLOUDSTACK_API_KEY"], vars["CLOUDSTACK_SECRET_KEY"], false)
}

type csIDs struct{ zone, micro, template string }

// csWorld finds the basic zone, the Micro offering and a template.
func csWorld(t *testing.T, cs *cloudstack.CloudStackClient) csIDs {
	t.Helper()
	var w csIDs
	zones, err := cs.Zone.ListZones(cs.Zone.NewListZonesParams())
	if err != nil {
		t.Fatal(err)
	}
	for _, z := range zones.Zones {
		if z.Networktype == "Basic" {
			w.zone = z.Id
		}
	}
	var n int
	if w.micro, n, err = cs.ServiceOffering.GetServiceOfferingID("Micro"); err != nil || n != 1 {
		t.Fatalf("Micro offering: %v", err)
	}
	if w.template, n, err = cs.Template.GetTemplateID("Debian 12", "executable", w.zone); err != nil || n != 1 {
		t.Fatalf("template: %v", err)
	}
	return w
}

// waitCSJob polls queryAsyncJobResult until the job ends; a failed job is an error.
func waitCSJob(cs *cloudstack.CloudStackClient, id string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		r, err := cs.Asyncjob.QueryAsyncJobResult(cs.Asyncjob.NewQueryAsyncJobResultParams(id))
		if err != nil {
			return err
		}
		switch r.Jobstatus {
		case 1:
			return nil
		case 2:
			return fmt.Errorf("job %s failed: %s", id, r.Jobresult)
		}
		time.Sleep(20 * time.Millisecond) //nolint:forbidigo // polling with a deadline
	}
	return fmt.Errorf("job %s still pending after %v", id, timeout)
}
