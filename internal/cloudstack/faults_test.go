package cloudstack_test

import (
	"strings"
	"testing"

	"github.com/apache/cloudstack-go/v2/cloudstack"

	"github.com/stratus-cloud/stratus/internal/cloud"
	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
)

// configure calls configureSimulator through the SDK's custom-command path.
func configure(t *testing.T, cs *cloudstack.CloudStackClient, params map[string]string) string {
	t.Helper()
	p := &cloudstack.CustomServiceParams{}
	for k, v := range params {
		p.SetParam(k, v)
	}
	var out struct {
		Mock struct {
			ID string `json:"id"`
		} `json:"simulatormock"`
	}
	if err := custom(cs).CustomRequest("configureSimulator", p, &out); err != nil {
		t.Fatalf("configureSimulator: %v", err)
	}
	return out.Mock.ID
}

func TestInjectedFaults(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	cs := e.cs

	vm, err := cs.VirtualMachine.DeployVirtualMachine(cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.basicZone))
	if err != nil {
		t.Fatal(err)
	}
	// StopCommand fails once for this VM: stop fails, the VM keeps running;
	// the next stop works.
	configure(t, cs, map[string]string{"name": "StopCommand", "value": "result:fail", "count": "1", "virtualmachineid": vm.Id})
	_, err = cs.VirtualMachine.StopVirtualMachine(cs.VirtualMachine.NewStopVirtualMachineParams(vm.Id))
	if err == nil || !strings.Contains(err.Error(), "Simulated failure") {
		t.Fatalf("stop with fault: %v", err)
	}
	if got, _, _ := cs.VirtualMachine.GetVirtualMachineByID(vm.Id); got.State != "Running" {
		t.Fatalf("state after failed stop: %s", got.State)
	}
	if _, err := cs.VirtualMachine.StopVirtualMachine(cs.VirtualMachine.NewStopVirtualMachineParams(vm.Id)); err != nil {
		t.Fatalf("second stop: %v", err)
	}

	// StartCommand fails everywhere in the zone: deploy fails with 533.
	id := configure(t, cs, map[string]string{"name": "StartCommand", "value": "result:fail", "zoneid": e.basicZone})
	_, err = cs.VirtualMachine.DeployVirtualMachine(cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.basicZone))
	if err == nil || !strings.Contains(err.Error(), "533") {
		t.Fatalf("deploy with start fault: %v", err)
	}
	var listed struct {
		Count int `json:"count"`
		Mocks []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"simulatormock"`
	}
	if err := custom(cs).CustomRequest("listSimulatorMocks", withParam("id", id), &listed); err != nil || listed.Count != 1 || listed.Mocks[0].Name != "StartCommand" {
		t.Fatalf("listSimulatorMocks id=%s: %+v %v", id, listed, err)
	}
	if err := custom(cs).CustomRequest("cleanupSimulatorMock", withParam("id", id), new(map[string]any)); err != nil {
		t.Fatalf("cleanupSimulatorMock: %v", err)
	}
	if _, err := cs.VirtualMachine.DeployVirtualMachine(cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.basicZone)); err != nil {
		t.Fatalf("deploy after cleanup: %v", err)
	}

	// a user may not configure faults
	alice, _ := newUserClient(t, srv, cs, "alice")
	if err := custom(alice).CustomRequest("listSimulatorMocks", &cloudstack.CustomServiceParams{}, new(map[string]any)); err == nil {
		t.Fatal("a user listed the faults")
	}
	if err := custom(alice).CustomRequest("configureSimulator", withParam("name", "StartCommand"), new(map[string]any)); err == nil {
		t.Fatal("a user configured a fault")
	}
}

func withParam(k, v string) *cloudstack.CustomServiceParams {
	p := &cloudstack.CustomServiceParams{}
	p.SetParam(k, v)
	return p
}

func TestHostDownStopsOrRestartsVMs(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	cs := e.cs
	hosts, err := cs.Host.ListHosts(cs.Host.NewListHostsParams())
	if err != nil {
		t.Fatal(err)
	}
	var host string
	for _, h := range hosts.Hosts {
		if h.Zoneid == e.basicZone {
			host = h.Id
			break
		}
	}
	deployOn := func(offering string) string {
		p := cs.VirtualMachine.NewDeployVirtualMachineParams(offering, e.template, e.basicZone)
		p.SetHostid(host)
		vm, err := cs.VirtualMachine.DeployVirtualMachine(p)
		if err != nil || vm.Hostid != host {
			t.Fatalf("deploy on host: %v %+v", err, vm)
		}
		return vm.Id
	}
	plain, ha := deployOn(e.micro), deployOn(e.smallHA)
	id := configure(t, cs, map[string]string{"name": "PingCommand", "value": "result:fail", "hostid": host})
	p, _, _ := cs.VirtualMachine.GetVirtualMachineByID(plain)
	h, _, _ := cs.VirtualMachine.GetVirtualMachineByID(ha)
	if p.State != "Stopped" || h.State != "Running" || h.Hostid == host || h.Hostid == "" {
		t.Fatalf("after host down: plain=%s ha=%s on %s", p.State, h.State, h.Hostid)
	}
	hl := cs.Host.NewListHostsParams()
	hl.SetId(host)
	if got, err := cs.Host.ListHosts(hl); err != nil || got.Hosts[0].State != "Down" {
		t.Fatalf("host state: %v %+v", err, got)
	}
	if err := custom(cs).CustomRequest("cleanupSimulatorMock", withParam("id", id), new(map[string]any)); err != nil {
		t.Fatal(err)
	}
	if got, err := cs.Host.ListHosts(hl); err != nil || got.Hosts[0].State != "Up" {
		t.Fatalf("host state after cleanup: %v %+v", err, got)
	}
}

func TestStandingFaultFromDatacenterFile(t *testing.T) {
	dc, err := cloud.ParseDatacenter([]byte(smallDC + `
simulator:
  faults:
    - {command: StartCommand, value: "result:fail", count: 1, host: h1}
`))
	if err != nil {
		t.Fatal(err)
	}
	srv := cstest.Start(t, cstest.Options{Datacenter: dc})
	cs := cloudstack.NewAsyncClient(srv.URL, srv.APIKey, srv.SecretKey, false)
	zone, _, _ := cs.Zone.GetZoneID("z1")
	so, _, _ := cs.ServiceOffering.GetServiceOfferingID("big")
	tpl, _, _ := cs.Template.GetTemplateID("t1", "executable", zone)
	if _, err := cs.VirtualMachine.DeployVirtualMachine(cs.VirtualMachine.NewDeployVirtualMachineParams(so, tpl, zone)); err == nil {
		t.Fatal("first deploy should hit the standing fault")
	}
	if _, err := cs.VirtualMachine.DeployVirtualMachine(cs.VirtualMachine.NewDeployVirtualMachineParams(so, tpl, zone)); err != nil {
		t.Fatalf("second deploy (fault used up): %v", err)
	}
}

func custom(cs *cloudstack.CloudStackClient) *cloudstack.CustomService {
	return cs.Custom.(*cloudstack.CustomService)
}
