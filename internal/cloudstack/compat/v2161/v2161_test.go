package v2161

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/apache/cloudstack-go/v2/cloudstack"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
)

// TestScenarioV2161 runs a whole scenario with the older SDK: GET requests,
// no signature version, async jobs polled.
func TestScenarioV2161(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	cs := cloudstack.NewAsyncClient(srv.URL, srv.APIKey, srv.SecretKey, false)
	cs.HTTPGETOnly = true

	zones, err := cs.Zone.ListZones(cs.Zone.NewListZonesParams())
	if err != nil {
		t.Fatalf("listZones: %v", err)
	}
	var zone string
	for _, z := range zones.Zones {
		if z.Networktype == "Basic" && z.Securitygroupsenabled {
			zone = z.Id
		}
	}
	so, _, err := cs.ServiceOffering.GetServiceOfferingID("Micro")
	if err != nil {
		t.Fatal(err)
	}
	tpl, _, err := cs.Template.GetTemplateID("Ubuntu 24.04", "featured", zone)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := cs.SSH.RegisterSSHKeyPair(cs.SSH.NewRegisterSSHKeyPairParams("k1",
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@example"))
	if err != nil || kp.Fingerprint == "" {
		t.Fatalf("registerSSHKeyPair: %v %+v", err, kp)
	}
	sg, err := cs.SecurityGroup.CreateSecurityGroup(cs.SecurityGroup.NewCreateSecurityGroupParams("web"))
	if err != nil {
		t.Fatal(err)
	}
	ep := cs.SecurityGroup.NewAuthorizeSecurityGroupEgressParams()
	ep.SetSecuritygroupid(sg.Id)
	ep.SetProtocol("udp")
	ep.SetStartport(53)
	ep.SetEndport(53)
	if _, err := cs.SecurityGroup.AuthorizeSecurityGroupEgress(ep); err != nil {
		t.Fatalf("authorizeSecurityGroupEgress: %v", err)
	}
	dp := cs.VirtualMachine.NewDeployVirtualMachineParams(so, tpl, zone)
	dp.SetName("old-sdk")
	dp.SetKeypair("k1")
	dp.SetSecuritygroupnames([]string{"web"})
	dp.SetUserdata(base64.StdEncoding.EncodeToString([]byte("hello")))
	vm, err := cs.VirtualMachine.DeployVirtualMachine(dp)
	if err != nil || vm.State != "Running" {
		t.Fatalf("deploy: %v %+v", err, vm)
	}
	if _, err := cs.VirtualMachine.StopVirtualMachine(cs.VirtualMachine.NewStopVirtualMachineParams(vm.Id)); err != nil {
		t.Fatal(err)
	}
	rp := cs.SSH.NewResetSSHKeyForVirtualMachineParams(vm.Id)
	rp.SetKeypair("k1")
	if _, err := cs.SSH.ResetSSHKeyForVirtualMachine(rp); err != nil {
		t.Fatalf("resetSSHKeyForVirtualMachine: %v", err)
	}
	if _, err := cs.VirtualMachine.StartVirtualMachine(cs.VirtualMachine.NewStartVirtualMachineParams(vm.Id)); err != nil {
		t.Fatal(err)
	}
	lsg := cs.SecurityGroup.NewListSecurityGroupsParams()
	lsg.SetSecuritygroupname("web")
	groups, err := cs.SecurityGroup.ListSecurityGroups(lsg)
	if err != nil || groups.Count != 1 || len(groups.SecurityGroups[0].Egressrule) != 1 || groups.SecurityGroups[0].Virtualmachinecount != 1 {
		t.Fatalf("listSecurityGroups: %v %+v", err, groups)
	}
	if _, err := cs.SecurityGroup.DeleteSecurityGroup(withName(cs.SecurityGroup.NewDeleteSecurityGroupParams(), "web")); err == nil ||
		!strings.Contains(err.Error(), "536") {
		t.Fatalf("deleting a group in use: %v", err)
	}
	xp := cs.VirtualMachine.NewDestroyVirtualMachineParams(vm.Id)
	xp.SetExpunge(true)
	if _, err := cs.VirtualMachine.DestroyVirtualMachine(xp); err != nil {
		t.Fatal(err)
	}
	if _, n, err := cs.VirtualMachine.GetVirtualMachineByID(vm.Id); n != 0 || err == nil {
		t.Fatalf("expunged VM: %d %v", n, err)
	}
	jobs, err := cs.Asyncjob.ListAsyncJobs(cs.Asyncjob.NewListAsyncJobsParams())
	if err != nil || jobs.Count < 5 {
		t.Fatalf("listAsyncJobs: %v %+v", err, jobs)
	}
	ev, err := cs.Event.ListEvents(cs.Event.NewListEventsParams())
	if err != nil || ev.Count == 0 {
		t.Fatalf("listEvents: %v", err)
	}
}

func withName(p *cloudstack.DeleteSecurityGroupParams, n string) *cloudstack.DeleteSecurityGroupParams {
	p.SetName(n)
	return p
}
