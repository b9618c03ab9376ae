package cloudstack_test

import (
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
