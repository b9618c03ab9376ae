package main

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/cloudstack-go/v2/cloudstack"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestLoadBalancerService: two VMs deployed with the CloudStack Go SDK in
// the advanced zone, with user data that joins, become nodes; a Service of
// type LoadBalancer (client-go) gets a public address in its ingress, and
// the SDK's listLoadBalancerRules shows the rule (public port → node port)
// over both VMs; deleting the Service releases rule and address.
func TestLoadBalancerService(t *testing.T) {
	c := startJoinable(t)
	csEnv, kc := c.csEnv, c.kc
	cs := cloudstack.NewAsyncClient(csEnv["CLOUDSTACK_API_URL"], csEnv["CLOUDSTACK_API_KEY"], csEnv["CLOUDSTACK_SECRET_KEY"], false)
	zoneID, _, err := cs.Zone.GetZoneID("Sandbox-simulator")
	if err != nil {
		t.Fatal(err)
	}
	offID, _, err := cs.ServiceOffering.GetServiceOfferingID("Small")
	if err != nil {
		t.Fatal(err)
	}
	tmplID, _, err := cs.Template.GetTemplateID("Debian 12", "featured", zoneID)
	if err != nil {
		t.Fatal(err)
	}
	ud := base64.StdEncoding.EncodeToString([]byte("#cloud-config\nruncmd:\n  - " + c.join + "\n"))
	vmIDs := map[string]bool{}
	for _, name := range []string{"web-1", "web-2"} {
		dp := cs.VirtualMachine.NewDeployVirtualMachineParams(offID, tmplID, zoneID)
		dp.SetName(name)
		dp.SetUserdata(ud)
		vm, err := cs.VirtualMachine.DeployVirtualMachine(dp)
		if err != nil {
			t.Fatalf("deploy %s: %v", name, err)
		}
		vmIDs[vm.Id] = true
	}

	ctx := context.Background()
	poll := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	poll("two joined nodes", func() bool {
		nl, err := kc.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		n := 0
		for _, nd := range nl.Items {
			if strings.HasPrefix(nd.Spec.ProviderID, "cloudstack://Sandbox-simulator/") {
				n++
			}
		}
		return err == nil && n == 2
	})

	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.ServiceSpec{
		Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "web"},
		Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}}}
	created, err := kc.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nodePort := created.Spec.Ports[0].NodePort
	start := time.Now()
	var ingress string
	poll("the Service's ingress", func() bool {
		s, err := kc.CoreV1().Services("default").Get(ctx, "web", metav1.GetOptions{})
		if err == nil && len(s.Status.LoadBalancer.Ingress) == 1 {
			ingress = s.Status.LoadBalancer.Ingress[0].IP
		}
		return ingress != ""
	})
	t.Logf("ingress %s after %v", ingress, time.Since(start))
	lp := cs.LoadBalancer.NewListLoadBalancerRulesParams()
	lp.SetListall(true)
	rules, err := cs.LoadBalancer.ListLoadBalancerRules(lp)
	if err != nil {
		t.Fatal(err)
	}
	if rules.Count != 1 || rules.LoadBalancerRules[0].Publicip != ingress || rules.LoadBalancerRules[0].Publicport != "80" ||
		rules.LoadBalancerRules[0].Privateport != strconv.Itoa(int(nodePort)) {
		t.Fatalf("listLoadBalancerRules: %+v (want %s:80 → %d)", rules.LoadBalancerRules, ingress, nodePort)
	}
	ip := cs.LoadBalancer.NewListLoadBalancerRuleInstancesParams(rules.LoadBalancerRules[0].Id)
	inst, err := cs.LoadBalancer.ListLoadBalancerRuleInstances(ip)
	if err != nil {
		t.Fatal(err)
	}
	if inst.Count != 2 || !vmIDs[inst.LoadBalancerRuleInstances[0].Id] || !vmIDs[inst.LoadBalancerRuleInstances[1].Id] {
		t.Fatalf("rule members: %+v", inst.LoadBalancerRuleInstances)
	}

	if err := kc.CoreV1().Services("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	poll("rule and address released", func() bool {
		rules, err := cs.LoadBalancer.ListLoadBalancerRules(lp)
		if err != nil || rules.Count != 0 {
			return false
		}
		pp := cs.Address.NewListPublicIpAddressesParams()
		pp.SetIpaddress(ingress)
		pp.SetListall(true)
		addrs, err := cs.Address.ListPublicIpAddresses(pp)
		return err == nil && addrs.Count == 0
	})
}
