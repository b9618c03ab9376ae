package cloudstack_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/apache/cloudstack-go/v2/cloudstack"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestSDKProjects drives projects with cloudstack-go: a user creates a
// project and deploys into it; the VM is the project's (listed with
// projectid, not without), a non-member can neither see nor deploy into
// it until added; the project's own limits hold; a suspended project
// stops its VMs and takes no resources; deletion refuses while resources
// are left and cleans them up when asked; and with project.invite.required
// an account joins by accepting its invitation.
func TestSDKProjects(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	admin := e.cs
	alice, _ := newUserClient(t, srv, admin, "alice")
	bob, _ := newUserClient(t, srv, admin, "bob")

	cp := alice.Project.NewCreateProjectParams("the web tier", "web")
	prj, err := alice.Project.CreateProject(cp)
	if err != nil {
		t.Fatalf("createProject: %v", err)
	}
	if prj.State != "Active" || prj.Name != "web" || len(prj.Owner) != 1 || prj.Owner[0]["account"] != "alice" ||
		!strings.HasPrefix(prj.Projectaccountname, "PrjAcct-web-") || prj.Vmlimit == "" {
		t.Fatalf("project: %+v", prj)
	}
	if _, err := alice.Project.CreateProject(alice.Project.NewCreateProjectParams("web", "web")); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("a second project of the same name: %v", err)
	}
	countProjects := func(cs *cloudstack.CloudStackClient) int {
		l, err := cs.Project.ListProjects(cs.Project.NewListProjectsParams())
		if err != nil {
			t.Fatalf("listProjects: %v", err)
		}
		return l.Count
	}
	if countProjects(alice) != 1 || countProjects(bob) != 0 || countProjects(admin) != 1 {
		t.Fatalf("listProjects: alice %d bob %d admin %d", countProjects(alice), countProjects(bob), countProjects(admin))
	}
	// the project account is no account of listAccounts
	la := admin.Account.NewListAccountsParams()
	la.SetListall(true)
	accs, err := admin.Account.ListAccounts(la)
	if err != nil {
		t.Fatalf("listAccounts: %v", err)
	}
	for _, a := range accs.Accounts {
		if strings.HasPrefix(a.Name, "PrjAcct-") {
			t.Fatalf("listAccounts shows the project's account: %+v", a)
		}
	}

	deploy := func(cs *cloudstack.CloudStackClient, name string) (*cloudstack.DeployVirtualMachineResponse, error) {
		dp := cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.advZone)
		dp.SetName(name)
		dp.SetProjectid(prj.Id)
		return cs.VirtualMachine.DeployVirtualMachine(dp)
	}
	vm, err := deploy(alice, "web1")
	if err != nil {
		t.Fatalf("deploy into the project: %v", err)
	}
	if vm.Projectid != prj.Id || vm.Project != "web" || vm.Account != prj.Projectaccountname {
		t.Fatalf("the project's VM: project %q %q account %q", vm.Projectid, vm.Project, vm.Account)
	}
	listVMs := func(cs *cloudstack.CloudStackClient, project string) (int, error) {
		lp := cs.VirtualMachine.NewListVirtualMachinesParams()
		if project != "" {
			lp.SetProjectid(project)
		}
		l, err := cs.VirtualMachine.ListVirtualMachines(lp)
		if err != nil {
			return 0, err
		}
		return l.Count, nil
	}
	for _, c := range []struct {
		project string
		want    int
	}{{"", 0}, {prj.Id, 1}, {"-1", 1}} {
		if n, err := listVMs(alice, c.project); err != nil || n != c.want {
			t.Fatalf("alice listVirtualMachines projectid=%q: %d %v, want %d", c.project, n, err, c.want)
		}
	}
	if _, err := listVMs(bob, prj.Id); err == nil || !strings.Contains(err.Error(), "531") || !strings.Contains(err.Error(), "can't access project") {
		t.Fatalf("a non-member lists the project's VMs: %v", err)
	}
	if _, err := deploy(bob, "intruder"); err == nil || !strings.Contains(err.Error(), "is unauthorised to use project") {
		t.Fatalf("a non-member deploys into the project: %v", err)
	}
	if n, err := listVMs(bob, "-1"); err != nil || n != 0 {
		t.Fatalf("bob projectid=-1: %d %v", n, err)
	}

	// volumes, networks and public addresses of the project
	do, _, err := alice.DiskOffering.GetDiskOfferingID("Small")
	if err != nil {
		t.Fatalf("disk offering: %v", err)
	}
	cv := alice.Volume.NewCreateVolumeParams()
	cv.SetName("data")
	cv.SetDiskofferingid(do)
	cv.SetZoneid(e.advZone)
	cv.SetProjectid(prj.Id)
	vol, err := alice.Volume.CreateVolume(cv)
	if err != nil || vol.Projectid != prj.Id {
		t.Fatalf("createVolume projectid: %v %+v", err, vol)
	}
	no, _, err := alice.NetworkOffering.GetNetworkOfferingID("DefaultIsolatedNetworkOfferingWithSourceNatService")
	if err != nil {
		t.Fatalf("network offering: %v", err)
	}
	cn := alice.Network.NewCreateNetworkParams("tier", no, e.advZone)
	cn.SetDisplaytext("tier")
	cn.SetProjectid(prj.Id)
	net, err := alice.Network.CreateNetwork(cn)
	if err != nil || net.Projectid != prj.Id {
		t.Fatalf("createNetwork projectid: %v %+v", err, net)
	}
	ai := alice.Address.NewAssociateIpAddressParams()
	ai.SetNetworkid(net.Id)
	ai.SetProjectid(prj.Id)
	ip, err := alice.Address.AssociateIpAddress(ai)
	if err != nil || ip.Projectid != prj.Id {
		t.Fatalf("associateIpAddress projectid: %v %+v", err, ip)
	}
	lvol := alice.Volume.NewListVolumesParams()
	lvol.SetId(vol.Id)
	if l, err := alice.Volume.ListVolumes(lvol); err != nil || l.Count != 0 {
		t.Fatalf("the project's volume listed without projectid: %v %+v", err, l)
	}
	lvol.SetProjectid(prj.Id)
	if l, err := alice.Volume.ListVolumes(lvol); err != nil || l.Count != 1 {
		t.Fatalf("the project's volume with projectid: %v %+v", err, l)
	}
	ln := alice.Network.NewListNetworksParams()
	ln.SetProjectid(prj.Id)
	if l, err := alice.Network.ListNetworks(ln); err != nil || l.Count != 2 { // the deploy's own network and tier
		t.Fatalf("the project's networks: %v %+v", err, l)
	}
	lip := alice.Address.NewListPublicIpAddressesParams()
	lip.SetId(ip.Id)
	if l, err := alice.Address.ListPublicIpAddresses(lip); err != nil || l.Count != 0 {
		t.Fatalf("the project's address listed without projectid: %v %+v", err, l)
	}
	lip.SetProjectid(prj.Id)
	if l, err := alice.Address.ListPublicIpAddresses(lip); err != nil || l.Count != 1 {
		t.Fatalf("the project's address with projectid: %v %+v", err, l)
	}
	cv2 := bob.Volume.NewCreateVolumeParams()
	cv2.SetDiskofferingid(do)
	cv2.SetZoneid(e.advZone)
	cv2.SetProjectid(prj.Id)
	if _, err := bob.Volume.CreateVolume(cv2); err == nil || !strings.Contains(err.Error(), "is unauthorised to use project") {
		t.Fatalf("a non-member's volume in the project: %v", err)
	}
	cv2.SetAccount("bob")
	if _, err := alice.Volume.CreateVolume(cv2); err == nil || !strings.Contains(err.Error(), "Account and projectId can't be specified together") {
		t.Fatalf("account with projectid: %v", err)
	}

	// membership
	ap := alice.Project.NewAddAccountToProjectParams(prj.Id)
	ap.SetAccount("bob")
	if _, err := alice.Project.AddAccountToProject(ap); err != nil {
		t.Fatalf("addAccountToProject: %v", err)
	}
	if n, err := listVMs(bob, prj.Id); err != nil || n != 1 {
		t.Fatalf("a member lists the project's VMs: %d %v", n, err)
	}
	members, err := alice.Account.ListProjectAccounts(alice.Account.NewListProjectAccountsParams(prj.Id))
	if err != nil || members.Count != 2 {
		t.Fatalf("listProjectAccounts: %v %+v", err, members)
	}
	// a Regular member may not change the project
	ap2 := bob.Project.NewAddAccountToProjectParams(prj.Id)
	ap2.SetAccount("admin")
	if _, err := bob.Project.AddAccountToProject(ap2); err == nil || !strings.Contains(err.Error(), "531") {
		t.Fatalf("a regular member adds an account: %v", err)
	}
	if _, err := alice.Project.DeleteAccountFromProject(alice.Project.NewDeleteAccountFromProjectParams("alice", prj.Id)); err == nil ||
		!strings.Contains(err.Error(), "as the account is the owner of the project") {
		t.Fatalf("removing the only admin: %v", err)
	}

	// the project's own limits
	ul := admin.Limit.NewUpdateResourceLimitParams(0)
	ul.SetProjectid(prj.Id)
	ul.SetMax(1)
	// (cloudstack-go does not unwrap this answer's "resourcelimit": only the error tells)
	if _, err := admin.Limit.UpdateResourceLimit(ul); err != nil {
		t.Fatalf("updateResourceLimit projectid: %v", err)
	}
	ll := admin.Limit.NewListResourceLimitsParams()
	ll.SetProjectid(prj.Id)
	ll.SetResourcetype(0)
	if l, err := admin.Limit.ListResourceLimits(ll); err != nil || l.Count != 1 || l.ResourceLimits[0].Max != 1 || l.ResourceLimits[0].Projectid != prj.Id {
		t.Fatalf("listResourceLimits projectid: %v %+v", err, l)
	}
	if _, err := deploy(bob, "web2"); err == nil || !strings.Contains(err.Error(), "532") {
		t.Fatalf("deploy past the project's limit: %v", err)
	}

	// suspend and activate
	sp, err := alice.Project.SuspendProject(alice.Project.NewSuspendProjectParams(prj.Id))
	if err != nil || sp.State != "Suspended" {
		t.Fatalf("suspendProject: %v %+v", err, sp)
	}
	vp := alice.VirtualMachine.NewListVirtualMachinesParams()
	vp.SetProjectid(prj.Id)
	if l, err := alice.VirtualMachine.ListVirtualMachines(vp); err != nil || l.Count != 1 || l.VirtualMachines[0].State != "Stopped" {
		t.Fatalf("the suspended project's VM: %v %+v", err, l)
	}
	if _, err := deploy(alice, "web3"); err == nil || !strings.Contains(err.Error(), "as it's no longer active") {
		t.Fatalf("deploy into a suspended project: %v", err)
	}
	if ac, err := alice.Project.ActivateProject(alice.Project.NewActivateProjectParams(prj.Id)); err != nil || ac.State != "Active" {
		t.Fatalf("activateProject: %v %+v", err, ac)
	}

	// deletion
	if _, err := alice.Project.DeleteProject(alice.Project.NewDeleteProjectParams(prj.Id)); err == nil ||
		!strings.Contains(err.Error(), "Can't delete the project yet because it has 1 VirtualMachine to clean up") ||
		!strings.Contains(err.Error(), "530") {
		t.Fatalf("deleting a project with a VM: %v", err)
	}
	dp := alice.Project.NewDeleteProjectParams(prj.Id)
	dp.SetCleanup(true)
	if _, err := alice.Project.DeleteProject(dp); err != nil {
		t.Fatalf("deleteProject cleanup=true: %v", err)
	}
	if countProjects(alice) != 0 {
		t.Fatal("the project is still listed")
	}
	lv := admin.VirtualMachine.NewListVirtualMachinesParams()
	lv.SetId(vm.Id)
	lv.SetListall(true)
	if l, err := admin.VirtualMachine.ListVirtualMachines(lv); err != nil || l.Count != 0 {
		t.Fatalf("the project's VM outlived it: %v %+v", err, l)
	}
	lvol = admin.Volume.NewListVolumesParams()
	lvol.SetId(vol.Id)
	lvol.SetProjectid("-1")
	if l, err := admin.Volume.ListVolumes(lvol); err == nil && l.Count != 0 || err != nil && !strings.Contains(err.Error(), "entity does not exist") {
		t.Fatalf("the project's volume outlived it: %v %+v", err, l)
	}

	// invitations
	uc := admin.Configuration.NewUpdateConfigurationParams("project.invite.required")
	uc.SetValue("true")
	if c, err := admin.Configuration.UpdateConfiguration(uc); err != nil || c.Value != "true" {
		t.Fatalf("updateConfiguration: %v %+v", err, c)
	}
	prj2, err := alice.Project.CreateProject(alice.Project.NewCreateProjectParams("db", "db"))
	if err != nil {
		t.Fatalf("createProject db: %v", err)
	}
	ap = alice.Project.NewAddAccountToProjectParams(prj2.Id)
	ap.SetAccount("bob")
	if _, err := alice.Project.AddAccountToProject(ap); err != nil {
		t.Fatalf("invite bob: %v", err)
	}
	if n := countProjects(bob); n != 0 {
		t.Fatalf("an invited account is a member before accepting: %d", n)
	}
	lpi := bob.Project.NewListProjectInvitationsParams()
	lpi.SetActiveonly(true)
	invs, err := bob.Project.ListProjectInvitations(lpi)
	if err != nil || invs.Count != 1 || invs.ProjectInvitations[0].Project != "db" || invs.ProjectInvitations[0].State != "Pending" {
		t.Fatalf("listProjectInvitations: %v %+v", err, invs)
	}
	if _, err := bob.Project.UpdateProjectInvitation(bob.Project.NewUpdateProjectInvitationParams(prj2.Id)); err != nil {
		t.Fatalf("accept: %v", err)
	}
	if n := countProjects(bob); n != 1 {
		t.Fatalf("bob's projects after accepting: %d", n)
	}
	if _, err := bob.Project.UpdateProjectInvitation(bob.Project.NewUpdateProjectInvitationParams(prj2.Id)); err == nil ||
		!strings.Contains(err.Error(), "Unable to find invitation") {
		t.Fatalf("accepting twice: %v", err)
	}

	// the last Admin's account goes: its project goes with it
	accs, err = admin.Account.ListAccounts(la)
	if err != nil {
		t.Fatalf("listAccounts: %v", err)
	}
	for _, a := range accs.Accounts {
		if a.Name == "alice" {
			if _, err := admin.Account.DeleteAccount(admin.Account.NewDeleteAccountParams(a.Id)); err != nil {
				t.Fatalf("deleteAccount alice: %v", err)
			}
		}
	}
	lp := admin.Project.NewListProjectsParams()
	lp.SetListall(true)
	if l, err := admin.Project.ListProjects(lp); err != nil || l.Count != 0 {
		t.Fatalf("projects after their only Admin went: %v %+v", err, l)
	}

	// a domain deleted with cleanup takes its projects
	dom, err := admin.Domain.CreateDomain(admin.Domain.NewCreateDomainParams("team"))
	if err != nil {
		t.Fatalf("createDomain: %v", err)
	}
	cp2 := admin.Project.NewCreateProjectParams("ops", "ops")
	cp2.SetDomainid(dom.Id)
	cap := admin.Account.NewCreateAccountParams("carol@example.com", "Carol", "C", "secret-carol", "carol")
	cap.SetDomainid(dom.Id)
	if _, err := admin.Account.CreateAccount(cap); err != nil {
		t.Fatalf("createAccount in the domain: %v", err)
	}
	cp2.SetAccount("carol")
	ops, err := admin.Project.CreateProject(cp2)
	if err != nil || ops.Domainid != dom.Id || ops.Owner[0]["account"] != "carol" {
		t.Fatalf("createProject for carol: %v %+v", err, ops)
	}
	opsVM := admin.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.advZone)
	opsVM.SetProjectid(ops.Id)
	if _, err := admin.VirtualMachine.DeployVirtualMachine(opsVM); err != nil {
		t.Fatalf("an admin deploys into a project of its domain: %v", err)
	}
	dd := admin.Domain.NewDeleteDomainParams(dom.Id)
	dd.SetCleanup(true)
	if _, err := admin.Domain.DeleteDomain(dd); err != nil {
		t.Fatalf("deleteDomain cleanup: %v", err)
	}
	if l, err := admin.Project.ListProjects(lp); err != nil || l.Count != 0 {
		t.Fatalf("projects after their domain went: %v %+v", err, l)
	}
}

// TestCloudstackCLIProjects drives projects with the Debian `cloudstack`
// CLI: create (waiting for the job), deploy with projectid, list with and
// without it, delete with cleanup.
func TestCloudstackCLIProjects(t *testing.T) {
	bin := testenv.LookPath(t, "cloudstack", "apt-get install cs")
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	run := func(args ...string) string {
		t.Helper()
		out, err := runClient(t, srv, time.Minute, bin, args...)
		if err != nil {
			t.Fatalf("cloudstack %v: %v\n%s", args, err, out)
		}
		return out
	}
	out := run("createProject", "name=cli", "displaytext=from the CLI")
	if !strings.Contains(out, `"state": "Active"`) {
		t.Fatalf("createProject: %s", out)
	}
	l, err := e.cs.Project.ListProjects(e.cs.Project.NewListProjectsParams())
	if err != nil || l.Count != 1 {
		t.Fatalf("listProjects: %v", err)
	}
	id := l.Projects[0].Id
	out = run("deployVirtualMachine", "zoneid="+e.advZone, "serviceofferingid="+e.micro, "templateid="+e.template, "projectid="+id, "name=cli-prj")
	if !strings.Contains(out, `"projectid": "`+id+`"`) {
		t.Fatalf("deploy with projectid: %s", out)
	}
	if out := run("listVirtualMachines"); strings.Contains(out, "cli-prj") {
		t.Fatalf("listed without projectid: %s", out)
	}
	if out := run("listVirtualMachines", "projectid="+id); !strings.Contains(out, "cli-prj") {
		t.Fatalf("not listed with projectid: %s", out)
	}
	run("deleteProject", "id="+id, "cleanup=true")
	if out := run("listProjects"); strings.Contains(out, id) {
		t.Fatalf("still listed: %s", out)
	}
}

// TestAnsibleProjects runs Ansible's cs_project (Debian ansible:
// ngine_io.cloudstack) through create, no change, rename, tags, suspend,
// activate and removal, and deploys into the project with cs_instance's
// project parameter.
func TestAnsibleProjects(t *testing.T) {
	bin := testenv.LookPath(t, "ansible-playbook", "apt-get install ansible")
	python(t, "cs", "cs")
	_, err := os.Stat("/usr/lib/python3/dist-packages/ansible_collections/ngine_io/cloudstack/plugins/modules/cs_project.py")
	testenv.Need(t, err == nil, "ansible's ngine_io.cloudstack collection missing (install: apt-get install ansible)")
	srv := cstest.Start(t, cstest.Options{})
	out, err := runClient(t, srv, 3*time.Minute, bin, "-i", "localhost,", "-e", "ansible_python_interpreter=/usr/bin/python3",
		"testdata/ansible/projects.yml")
	if err != nil || !strings.Contains(out, "failed=0") {
		t.Fatalf("ansible-playbook projects: %v\n%s", err, out)
	}
}

// TestLibcloudProjects drives projects with Debian's python3-libcloud:
// ex_list_projects, create_node, list_nodes and ex_get_node with a
// project (testdata/libcloud_projects.py).
func TestLibcloudProjects(t *testing.T) {
	py := python(t, "python3-libcloud", "libcloud")
	srv := cstest.Start(t, cstest.Options{})
	out, err := runClient(t, srv, 2*time.Minute, py, "testdata/libcloud_projects.py")
	if err != nil || !strings.HasSuffix(strings.TrimSpace(out), "OK") {
		t.Fatalf("libcloud: %v\n%s", err, out)
	}
}

// TestSDKProjectSettings holds the project settings the simulator
// honours: allow.user.create.projects, and project.invite.required with
// project.invitation.expiration.time on a clock the test moves.
func TestSDKProjectSettings(t *testing.T) {
	clock := testingclock.NewFakeClock(time.Now().Add(-6 * time.Hour))
	srv := cstest.Start(t, cstest.Options{Clock: clock})
	admin := setup(t, srv).cs
	alice, _ := newUserClient(t, srv, admin, "alice")
	bob, _ := newUserClient(t, srv, admin, "bob")
	set := func(name, value string) {
		t.Helper()
		uc := admin.Configuration.NewUpdateConfigurationParams(name)
		uc.SetValue(value)
		if _, err := admin.Configuration.UpdateConfiguration(uc); err != nil {
			t.Fatalf("updateConfiguration %s: %v", name, err)
		}
	}
	set("allow.user.create.projects", "false")
	if _, err := alice.Project.CreateProject(alice.Project.NewCreateProjectParams("x", "x")); err == nil ||
		!strings.Contains(err.Error(), "531") || !strings.Contains(err.Error(), "Regular user is not permitted to create a project") {
		t.Fatalf("a user creates a project against allow.user.create.projects=false: %v", err)
	}
	set("allow.user.create.projects", "true")
	prj, err := alice.Project.CreateProject(alice.Project.NewCreateProjectParams("x", "x"))
	if err != nil {
		t.Fatalf("createProject: %v", err)
	}
	set("project.invite.required", "true")
	set("project.invitation.expiration.time", "60")
	ap := alice.Project.NewAddAccountToProjectParams(prj.Id)
	ap.SetAccount("bob")
	if _, err := alice.Project.AddAccountToProject(ap); err != nil {
		t.Fatalf("invite: %v", err)
	}
	if _, err := alice.Project.AddAccountToProject(ap); err == nil || !strings.Contains(err.Error(), "There is already a pending invitation") {
		t.Fatalf("a second invitation: %v", err)
	}
	clock.Step(2 * time.Minute)
	lp := bob.Project.NewListProjectInvitationsParams()
	lp.SetActiveonly(true)
	if l, err := bob.Project.ListProjectInvitations(lp); err != nil || l.Count != 0 {
		t.Fatalf("an expired invitation is active: %v %+v", err, l)
	}
	if _, err := bob.Project.UpdateProjectInvitation(bob.Project.NewUpdateProjectInvitationParams(prj.Id)); err == nil ||
		!strings.Contains(err.Error(), "Invitation is expired") {
		t.Fatalf("accepting an expired invitation: %v", err)
	}
	// the expired one gives way to a new invitation, which bob accepts in time
	if _, err := alice.Project.AddAccountToProject(ap); err != nil {
		t.Fatalf("a new invitation after expiry: %v", err)
	}
	if _, err := bob.Project.UpdateProjectInvitation(bob.Project.NewUpdateProjectInvitationParams(prj.Id)); err != nil {
		t.Fatalf("accept: %v", err)
	}
	m, err := alice.Account.ListProjectAccounts(alice.Account.NewListProjectAccountsParams(prj.Id))
	if err != nil || m.Count != 2 {
		t.Fatalf("members: %v %+v", err, m)
	}
}
