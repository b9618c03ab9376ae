package cloudstack_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestAnsibleVMMore runs Ansible's cs_instancegroup, cs_instance with a
// group and cs_instance_password_reset (Debian ansible: ngine_io.cloudstack)
// through testdata/ansible/vm_more.yml: create, idempotent reruns, a
// deploy that makes its group, a password reset, removal.
func TestAnsibleVMMore(t *testing.T) {
	bin := testenv.LookPath(t, "ansible-playbook", "apt-get install ansible")
	python(t, "cs", "cs")
	_, err := os.Stat("/usr/lib/python3/dist-packages/ansible_collections/ngine_io/cloudstack/plugins/modules/cs_instancegroup.py")
	testenv.Need(t, err == nil, "ansible's ngine_io.cloudstack collection missing (install: apt-get install ansible)")
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	tp := e.cs.Template.NewUpdateTemplateParams(e.template)
	tp.SetPasswordenabled(true)
	if _, err := e.cs.Template.UpdateTemplate(tp); err != nil {
		t.Fatalf("updateTemplate passwordenabled: %v", err)
	}
	out, err := runClient(t, srv, 3*time.Minute, bin, "-i", "localhost,", "-e", "ansible_python_interpreter=/usr/bin/python3",
		"testdata/ansible/vm_more.yml")
	if err != nil || !strings.Contains(out, "failed=0") {
		t.Fatalf("ansible-playbook vm_more: %v\n%s", err, out)
	}
}

// TestCloudstackCLIVMMore drives the Debian `cloudstack` CLI through the
// VM family's further commands: an instance group and a deploy into it,
// getVMPassword of a VM with a key pair on a password-enabled template,
// and restoreVirtualMachine (waited for by the CLI) answering a new
// password.
func TestCloudstackCLIVMMore(t *testing.T) {
	bin := testenv.LookPath(t, "cloudstack", "apt-get install cs")
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	run := func(args ...string) map[string]any {
		t.Helper()
		out, err := runClient(t, srv, time.Minute, bin, args...)
		var m map[string]any
		if err != nil || json.Unmarshal([]byte(out), &m) != nil {
			t.Fatalf("cloudstack %v: %v\n%s", args, err, out)
		}
		return m
	}
	obj := func(m map[string]any, key string) map[string]any {
		t.Helper()
		o, _ := m[key].(map[string]any)
		if o == nil {
			t.Fatalf("no %s in %v", key, m)
		}
		return o
	}
	g := obj(run("createInstanceGroup", "name=cli-group"), "instancegroup")
	if g["name"] != "cli-group" || g["id"] == "" {
		t.Fatalf("createInstanceGroup: %v", g)
	}
	run("updateTemplate", "id="+e.template, "passwordenabled=true")
	run("createSSHKeyPair", "name=cli-key")
	vm := obj(run("deployVirtualMachine", "zoneid="+e.advZone, "serviceofferingid="+e.micro, "templateid="+e.template,
		"name=cli-pw", "group=cli-group", "keypair=cli-key"), "virtualmachine")
	if vm["groupid"] != g["id"] || vm["password"] == nil {
		t.Fatalf("deploy into the group: %v", vm)
	}
	id := vm["id"].(string)
	if pw := obj(run("getVMPassword", "id="+id), "password"); pw["encryptedpassword"] == "" {
		t.Fatalf("getVMPassword: %v", pw)
	}
	l := run("listVirtualMachines", "groupid="+g["id"].(string))
	if l["count"] != float64(1) {
		t.Fatalf("listVirtualMachines groupid: %v", l)
	}
	r := obj(run("restoreVirtualMachine", "virtualmachineid="+id), "virtualmachine")
	if r["state"] != "Running" || r["password"] == nil || r["password"] == vm["password"] {
		t.Fatalf("restoreVirtualMachine: %v", r)
	}
}
