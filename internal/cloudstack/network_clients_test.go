package cloudstack_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// python returns Debian's python3 (/usr/bin/python3, where Debian's
// python3-* packages are; a python3 earlier on PATH may be another one) if
// it can import every module named, or skips (fails in CI) naming the
// package to install.
func python(t *testing.T, pkg string, modules ...string) string {
	t.Helper()
	bin := "/usr/bin/python3"
	if _, err := os.Stat(bin); err != nil {
		bin = testenv.LookPath(t, "python3", "apt-get install python3")
	}
	for _, m := range modules {
		err := exec.Command(bin, "-c", "import "+m).Run()
		testenv.Need(t, err == nil, "python module "+m+" missing (install: apt-get install "+pkg+")")
	}
	return bin
}

// runClient runs a client program against srv with the CloudStack
// endpoint and keys in its environment, and returns its output.
func runClient(t *testing.T, srv *cstest.Server, timeout time.Duration, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "CLOUDSTACK_ENDPOINT="+srv.URL,
		"CLOUDSTACK_KEY="+srv.APIKey, "CLOUDSTACK_SECRET="+srv.SecretKey, "CLOUDSTACK_API_KEY="+srv.APIKey,
		"CLOUDSTACK_API_URL="+srv.URL, "CLOUDSTACK_API_SECRET="+srv.SecretKey, "CLOUDSTACK_SECRET_KEY="+srv.SecretKey)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestLibcloudNetworking drives the networking family with Debian's
// python3-libcloud: list_nodes (which lists port and IP forwarding rules),
// wait_until_running, ex_get_node, and the driver's ex_ methods for public
// addresses, port and IP forwarding, firewall and egress rules, network
// offerings, networks and NICs (testdata/libcloud_network.py).
func TestLibcloudNetworking(t *testing.T) {
	py := python(t, "python3-libcloud", "libcloud")
	srv := cstest.Start(t, cstest.Options{})
	out, err := runClient(t, srv, 2*time.Minute, py, "testdata/libcloud_network.py")
	if err != nil || !strings.HasSuffix(strings.TrimSpace(out), "OK") {
		t.Fatalf("libcloud: %v\n%s", err, out)
	}
	t.Log(out)
}

// TestAnsibleNetworking runs one playbook per family of Ansible's
// CloudStack modules (Debian ansible: ngine_io.cloudstack) against the
// server: cs_ip_address and cs_staticnat, cs_portforward, cs_firewall,
// cs_loadbalancer_rule and cs_loadbalancer_rule_member. Each playbook
// asserts the modules' own results, including that a second run of the
// same task changes nothing.
func TestAnsibleNetworking(t *testing.T) {
	bin := testenv.LookPath(t, "ansible-playbook", "apt-get install ansible")
	python(t, "cs", "cs")
	_, err := os.Stat("/usr/lib/python3/dist-packages/ansible_collections/ngine_io/cloudstack/plugins/modules/cs_portforward.py")
	testenv.Need(t, err == nil, "ansible's ngine_io.cloudstack collection missing (install: apt-get install ansible)")
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	dp := e.cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.advZone)
	dp.SetName("web1")
	vm, err := e.cs.VirtualMachine.DeployVirtualMachine(dp)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	for _, book := range []string{"ip_staticnat", "portforward", "firewall", "loadbalancer"} {
		t.Run(book, func(t *testing.T) {
			out, err := runClient(t, srv, 3*time.Minute, bin, "-i", "localhost,", "-e", "ansible_python_interpreter=/usr/bin/python3",
				"-e", "vm="+vm.Name, "-e", "network="+vm.Nic[0].Networkname, "testdata/ansible/"+book+".yml")
			if err != nil || !strings.Contains(out, "failed=0") {
				t.Fatalf("ansible-playbook %s: %v\n%s", book, err, out)
			}
		})
	}
}

// TestCloudstackCLINetworking drives port forwarding with the Debian
// `cloudstack` CLI (python cs): an address, a rule that the CLI waits for,
// its listing, and a bad rule answered with the API's 431.
func TestCloudstackCLINetworking(t *testing.T) {
	bin := testenv.LookPath(t, "cloudstack", "apt-get install cs")
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	vm, err := e.cs.VirtualMachine.DeployVirtualMachine(e.cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.advZone))
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	run := func(args ...string) map[string]any {
		t.Helper()
		out, err := runClient(t, srv, time.Minute, bin, args...)
		if err != nil {
			t.Fatalf("cloudstack %v: %v\n%s", args, err, out)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("cloudstack %v: %v\n%s", args, err, out)
		}
		return m
	}
	ip := run("associateIpAddress", "networkid="+vm.Nic[0].Networkid)["ipaddress"].(map[string]any)
	rule := run("createPortForwardingRule", "ipaddressid="+ip["id"].(string), "protocol=tcp", "publicport=8022",
		"privateport=22", "virtualmachineid="+vm.Id)["portforwardingrule"].(map[string]any)
	if rule["publicport"] != "8022" || rule["virtualmachineid"] != vm.Id || rule["ipaddress"] != ip["ipaddress"] {
		t.Fatalf("rule: %v", rule)
	}
	list := run("listPortForwardingRules", "ipaddressid="+ip["id"].(string))
	if list["count"] != float64(1) {
		t.Fatalf("listPortForwardingRules: %v", list)
	}
	out, err := runClient(t, srv, time.Minute, bin, "createFirewallRule", "ipaddressid="+ip["id"].(string), "protocol=gre")
	if err == nil || !strings.Contains(out, "HTTP 431") || !strings.Contains(out, "Invalid protocol gre") {
		t.Fatalf("bad protocol: %v %s", err, out)
	}
}
