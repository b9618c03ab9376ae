package cloudstack_test

import (
	"strings"
	"testing"

	"github.com/apache/cloudstack-go/v2/cloudstack"

	"github.com/stratus-cloud/stratus/internal/cloud"
	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
)

// newUserClient creates an account and returns a client with its keys.
func newUserClient(t *testing.T, srv *cstest.Server, admin *cloudstack.CloudStackClient, name string) (*cloudstack.CloudStackClient, string) {
	t.Helper()
	p := admin.Account.NewCreateAccountParams(name+"@example.com", "First", "Last", "secret-"+name, name)
	p.SetAccounttype(0)
	acc, err := admin.Account.CreateAccount(p)
	if err != nil {
		t.Fatalf("createAccount %s: %v", name, err)
	}
	if len(acc.User) != 1 {
		t.Fatalf("account users: %+v", acc.User)
	}
	keys, err := admin.User.RegisterUserKeys(admin.User.NewRegisterUserKeysParams(acc.User[0].Id))
	if err != nil || keys.Apikey == "" || keys.Secretkey == "" {
		t.Fatalf("registerUserKeys: %v %+v", err, keys)
	}
	got, err := admin.User.GetUserKeys(admin.User.NewGetUserKeysParams(acc.User[0].Id))
	if err != nil || got.Apikey != keys.Apikey || got.Secretkey != keys.Secretkey {
		t.Fatalf("getUserKeys: %v %+v", err, got)
	}
	return cloudstack.NewAsyncClient(srv.URL, keys.Apikey, keys.Secretkey, false), acc.Id
}

func TestAccountsAreIsolated(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	alice, _ := newUserClient(t, srv, e.cs, "alice")
	bob, bobID := newUserClient(t, srv, e.cs, "bob")

	vm, err := alice.VirtualMachine.DeployVirtualMachine(alice.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.basicZone))
	if err != nil {
		t.Fatalf("alice deploy: %v", err)
	}
	if _, err := alice.SSH.CreateSSHKeyPair(alice.SSH.NewCreateSSHKeyPairParams("alicekey")); err != nil {
		t.Fatal(err)
	}
	// bob sees nothing of alice's
	list, err := bob.VirtualMachine.ListVirtualMachines(bob.VirtualMachine.NewListVirtualMachinesParams())
	if err != nil || list.Count != 0 {
		t.Fatalf("bob lists alice's VMs: %v %+v", err, list)
	}
	lp := bob.VirtualMachine.NewListVirtualMachinesParams()
	lp.SetListall(true)
	lp.SetId(vm.Id)
	if list, err = bob.VirtualMachine.ListVirtualMachines(lp); err != nil || list.Count != 0 {
		t.Fatalf("bob lists alice's VM by id with listall: %v %+v", err, list)
	}
	keys, err := bob.SSH.ListSSHKeyPairs(bob.SSH.NewListSSHKeyPairsParams())
	if err != nil || keys.Count != 0 {
		t.Fatalf("bob lists alice's keys: %v %+v", err, keys)
	}
	// bob cannot change alice's VM
	_, err = bob.VirtualMachine.StopVirtualMachine(bob.VirtualMachine.NewStopVirtualMachineParams(vm.Id))
	if err == nil || !strings.Contains(err.Error(), "531") {
		t.Fatalf("bob stops alice's VM: %v", err)
	}
	// bob cannot act for alice's account, nor reach admin-only commands
	if _, err := bob.Account.ListAccounts(withListAll(bob.Account.NewListAccountsParams())); err != nil {
		t.Fatal(err)
	} else if accs, _ := bob.Account.ListAccounts(withListAll(bob.Account.NewListAccountsParams())); accs.Count != 1 || accs.Accounts[0].Id != bobID {
		t.Fatalf("bob sees accounts %+v", accs.Accounts)
	}
	if _, err := bob.Host.ListHosts(bob.Host.NewListHostsParams()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("bob lists hosts: %v", err)
	}
	// the root admin sees both with listall
	ap := e.cs.VirtualMachine.NewListVirtualMachinesParams()
	ap.SetListall(true)
	if list, err = e.cs.VirtualMachine.ListVirtualMachines(ap); err != nil || list.Count != 1 || list.VirtualMachines[0].Account != "alice" {
		t.Fatalf("admin listall: %v %+v", err, list)
	}
}

func withListAll(p *cloudstack.ListAccountsParams) *cloudstack.ListAccountsParams {
	p.SetListall(true)
	return p
}

func TestResourceLimit(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	carol, _ := newUserClient(t, srv, e.cs, "carol")
	up := e.cs.Limit.NewUpdateResourceLimitParams(0)
	up.SetAccount("carol")
	up.SetMax(1)
	if _, err := e.cs.Limit.UpdateResourceLimit(up); err != nil {
		t.Fatalf("updateResourceLimit: %v", err)
	}
	lp := carol.Limit.NewListResourceLimitsParams()
	lp.SetResourcetype(0)
	lims, err := carol.Limit.ListResourceLimits(lp)
	if err != nil || lims.Count != 1 || lims.ResourceLimits[0].Max != 1 {
		t.Fatalf("listResourceLimits: %v %+v", err, lims)
	}
	if _, err := carol.VirtualMachine.DeployVirtualMachine(carol.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.basicZone)); err != nil {
		t.Fatal(err)
	}
	_, err = carol.VirtualMachine.DeployVirtualMachine(carol.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.basicZone))
	if err == nil || !strings.Contains(err.Error(), "CloudStack API error 532") || !strings.Contains(err.Error(), "user_vm") {
		t.Fatalf("deploy past the limit: %v", err)
	}
}

func TestCapacityExhaustion(t *testing.T) {
	dc, err := cloud.ParseDatacenter([]byte(smallDC))
	if err != nil {
		t.Fatal(err)
	}
	srv := cstest.Start(t, cstest.Options{Datacenter: dc})
	cs := cloudstack.NewAsyncClient(srv.URL, srv.APIKey, srv.SecretKey, false)
	zone, _, err := cs.Zone.GetZoneID("z1")
	if err != nil {
		t.Fatal(err)
	}
	so, _, _ := cs.ServiceOffering.GetServiceOfferingID("big")
	tpl, _, _ := cs.Template.GetTemplateID("t1", "executable", zone)
	// the one host has room for two
	for i := 0; i < 2; i++ {
		if _, err := cs.VirtualMachine.DeployVirtualMachine(cs.VirtualMachine.NewDeployVirtualMachineParams(so, tpl, zone)); err != nil {
			t.Fatalf("deploy %d: %v", i, err)
		}
	}
	_, err = cs.VirtualMachine.DeployVirtualMachine(cs.VirtualMachine.NewDeployVirtualMachineParams(so, tpl, zone))
	if err == nil || !strings.Contains(err.Error(), `"errorcode":533`) || !strings.Contains(err.Error(), "Unable to create a deployment for VM") {
		t.Fatalf("deploy past capacity: %v", err)
	}
	// the failed VM is in Error, holds no capacity
	lp := cs.VirtualMachine.NewListVirtualMachinesParams()
	lp.SetState("Error")
	list, err := cs.VirtualMachine.ListVirtualMachines(lp)
	if err != nil || list.Count != 1 {
		t.Fatalf("error VMs: %v %+v", err, list)
	}
	hosts, err := cs.Host.ListHosts(cs.Host.NewListHostsParams())
	if err != nil || hosts.Count != 1 || hosts.Hosts[0].Memoryallocated != 2*4096<<20 {
		t.Fatalf("host: %v %+v", err, hosts)
	}
}

const smallDC = `
admin: {username: admin, password: password}
zones:
  - name: z1
    networkType: Basic
    securityGroups: true
    pods:
      - name: p1
        gateway: 172.16.0.1
        netmask: 255.255.255.0
        startIp: 172.16.0.2
        endIp: 172.16.0.20
        guestIpRanges: [{gateway: 10.0.0.1, netmask: 255.255.255.0, startIp: 10.0.0.2, endIp: 10.0.0.10}]
        clusters:
          - name: c1
            hosts: [{name: h1, cpus: 4, cpuSpeed: 1000, memory: 8192}]
serviceOfferings:
  - {name: big, cpus: 1, cpuSpeed: 1000, memory: 4096}
osTypes: [{description: Other, category: Other}]
templates: [{name: t1, osType: Other, size: 1}]
`
