package cloudstack_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/apache/cloudstack-go/v2/cloudstack"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestSDKAccountStates drives account and user states with cloudstack-go:
// a disabled account's running VM is stopped and its keys stop working,
// a locked one keeps its VM but not its keys, enabling restores the keys;
// a disabled user is refused alone; and an admin may not disable the
// admin account.
func TestSDKAccountStates(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	cs := e.cs
	ap := cs.Account.NewCreateAccountParams("team@example.com", "Ada", "Lead", "s3cret-pass", "lead")
	ap.SetAccount("team")
	ap.SetAccounttype(0)
	acc, err := cs.Account.CreateAccount(ap)
	if err != nil {
		t.Fatalf("createAccount: %v", err)
	}
	keys, err := cs.User.RegisterUserKeys(cs.User.NewRegisterUserKeysParams(acc.User[0].Id))
	if err != nil {
		t.Fatalf("registerUserKeys: %v", err)
	}
	user := cloudstack.NewAsyncClient(srv.URL, keys.Apikey, keys.Secretkey, false)
	vm, err := user.VirtualMachine.DeployVirtualMachine(user.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.advZone))
	if err != nil {
		t.Fatalf("the account's VM: %v", err)
	}
	works := func() bool {
		_, err := user.VirtualMachine.ListVirtualMachines(user.VirtualMachine.NewListVirtualMachinesParams())
		return err == nil
	}
	state := func() string {
		lp := cs.VirtualMachine.NewListVirtualMachinesParams()
		lp.SetId(vm.Id)
		lp.SetListall(true)
		l, err := cs.VirtualMachine.ListVirtualMachines(lp)
		if err != nil || l.Count != 1 {
			t.Fatalf("the account's VM: %v", err)
		}
		return l.VirtualMachines[0].State
	}

	lockp := cs.Account.NewDisableAccountParams(true)
	lockp.SetId(acc.Id)
	if a, err := cs.Account.DisableAccount(lockp); err != nil || a.State != "locked" {
		t.Fatalf("lock: %v %+v", err, a)
	}
	if works() || state() != "Running" {
		t.Fatalf("locked: keys work %v, VM %s", works(), state())
	}
	// cloudstack-go decodes enableAccount's answer flat, as it does the
	// real server's ({"account":{…}}), so the state is read back from a list.
	accountState := func() string {
		lp := cs.Account.NewListAccountsParams()
		lp.SetId(acc.Id)
		l, err := cs.Account.ListAccounts(lp)
		if err != nil || l.Count != 1 {
			t.Fatalf("listAccounts: %v", err)
		}
		return l.Accounts[0].State
	}
	enp := cs.Account.NewEnableAccountParams()
	enp.SetId(acc.Id)
	if _, err := cs.Account.EnableAccount(enp); err != nil || accountState() != "enabled" || !works() {
		t.Fatalf("enable: %v %s", err, accountState())
	}
	disp := cs.Account.NewDisableAccountParams(false)
	disp.SetId(acc.Id)
	if a, err := cs.Account.DisableAccount(disp); err != nil || a.State != "disabled" {
		t.Fatalf("disable: %v %+v", err, a)
	}
	if works() || state() != "Stopped" {
		t.Fatalf("disabled: keys work %v, VM %s", works(), state())
	}
	if _, err := cs.Account.EnableAccount(enp); err != nil || !works() {
		t.Fatalf("enable again: %v", err)
	}

	if u, err := cs.User.DisableUser(cs.User.NewDisableUserParams(acc.User[0].Id)); err != nil || u.State != "disabled" || works() {
		t.Fatalf("disableUser: %v %+v", err, u)
	}
	if u, err := cs.User.EnableUser(cs.User.NewEnableUserParams(acc.User[0].Id)); err != nil || u.State != "enabled" || !works() {
		t.Fatalf("enableUser: %v %+v", err, u)
	}

	admins, err := cs.Account.ListAccounts(cs.Account.NewListAccountsParams())
	if err != nil {
		t.Fatalf("listAccounts: %v", err)
	}
	for _, a := range admins.Accounts {
		if a.Name == "admin" {
			p := cs.Account.NewDisableAccountParams(false)
			p.SetId(a.Id)
			if _, err := cs.Account.DisableAccount(p); err == nil || !strings.Contains(err.Error(), "own account") && !strings.Contains(err.Error(), "system account") {
				t.Fatalf("disabling the admin account: %v", err)
			}
		}
	}
}

// TestAnsibleAccountStates runs Ansible's cs_account and cs_user through
// every state (Debian ansible: ngine_io.cloudstack).
func TestAnsibleAccountStates(t *testing.T) {
	bin := testenv.LookPath(t, "ansible-playbook", "apt-get install ansible")
	python(t, "cs", "cs")
	_, err := os.Stat("/usr/lib/python3/dist-packages/ansible_collections/ngine_io/cloudstack/plugins/modules/cs_account.py")
	testenv.Need(t, err == nil, "ansible's ngine_io.cloudstack collection missing (install: apt-get install ansible)")
	srv := cstest.Start(t, cstest.Options{})
	out, err := runClient(t, srv, 3*time.Minute, bin, "-i", "localhost,", "-e", "ansible_python_interpreter=/usr/bin/python3",
		"testdata/ansible/account_state.yml")
	if err != nil || !strings.Contains(out, "failed=0") {
		t.Fatalf("ansible-playbook account_state: %v\n%s", err, out)
	}
}
