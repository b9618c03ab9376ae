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
// over both VMs; a host failure under one VM shuts its node down and the
// rule drops it; deleting the Service releases rule and address.
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

	// a host failure: web-1's host stops answering pings, web-1 (no HA)
	// stops, its node is shut down and the rule drops it
	vm1, _, err := cs.VirtualMachine.GetVirtualMachineByName("web-1")
	if err != nil {
		t.Fatal(err)
	}
	fp := &cloudstack.CustomServiceParams{}
	fp.SetParam("name", "PingCommand")
	fp.SetParam("value", "result:fail")
	fp.SetParam("hostid", vm1.Hostid)
	var mock map[string]any
	if err := cs.Custom.(*cloudstack.CustomService).CustomRequest("configureSimulator", fp, &mock); err != nil {
		t.Fatalf("configureSimulator: %v", err)
	}
	start = time.Now()
	poll("web-1's node shut down", func() bool {
		n, err := kc.CoreV1().Nodes().Get(ctx, "web-1", metav1.GetOptions{})
		if err != nil {
			return false
		}
		tainted, ready := false, false
		for _, tt := range n.Spec.Taints {
			tainted = tainted || tt.Key == "node.cloudprovider.kubernetes.io/shutdown"
		}
		for _, cd := range n.Status.Conditions {
			ready = ready || cd.Type == corev1.NodeReady && cd.Status == corev1.ConditionTrue
		}
		return tainted && !ready
	})
	t.Logf("host down reached the node in %v", time.Since(start))
	poll("the rule to drop web-1", func() bool {
		inst, err := cs.LoadBalancer.ListLoadBalancerRuleInstances(ip)
		return err == nil && inst.Count == 1 && inst.LoadBalancerRuleInstances[0].Id != vm1.Id
	})

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

// BenchmarkJoin500: 500 VMs deployed by 32 CloudStack Go SDK clients with
// join user data, until all 500 are Ready nodes (target ≤ 5 s). Reports
// the server's CPU seconds and RSS after.
func BenchmarkJoin500(b *testing.B) {
	const vms, clients = 500, 32
	for range b.N {
		b.StopTimer()
		c := startJoinable(b)
		cs := cloudstack.NewAsyncClient(c.csEnv["CLOUDSTACK_API_URL"], c.csEnv["CLOUDSTACK_API_KEY"], c.csEnv["CLOUDSTACK_SECRET_KEY"], false)
		zoneID, _, err := cs.Zone.GetZoneID("Sandbox-simulator-basic")
		if err != nil {
			b.Fatal(err)
		}
		offID, _, _ := cs.ServiceOffering.GetServiceOfferingID("Micro")
		tmplID, _, _ := cs.Template.GetTemplateID("Debian 12", "featured", zoneID)
		ud := base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\n" + c.join + "\n"))
		cpu0 := cpuSeconds(c.p.cmd.Process.Pid)
		prof := serverProfile(b, c.p.dataDir, "join500")
		b.StartTimer()
		start := time.Now()
		work := make(chan int)
		errs := make(chan error, clients)
		for range clients {
			go func() {
				for i := range work {
					dp := cs.VirtualMachine.NewDeployVirtualMachineParams(offID, tmplID, zoneID)
					dp.SetName("node-" + strconv.Itoa(i))
					dp.SetUserdata(ud)
					if _, err := cs.VirtualMachine.DeployVirtualMachine(dp); err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
		}
		for i := range vms {
			work <- i
		}
		close(work)
		for range clients {
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
		deployed := time.Since(start)
		ctx := context.Background()
		deadline := time.Now().Add(60 * time.Second)
		for {
			nl, err := c.kc.CoreV1().Nodes().List(ctx, metav1.ListOptions{ResourceVersion: "0"})
			ready := 0
			for _, n := range nl.Items {
				for _, cd := range n.Status.Conditions {
					if cd.Type == corev1.NodeReady && cd.Status == corev1.ConditionTrue && strings.HasPrefix(n.Name, "node-") {
						ready++
					}
				}
			}
			if err == nil && ready == vms {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%d of %d nodes Ready after 60 s (%v)", ready, vms, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		b.StopTimer()
		b.ReportMetric(time.Since(start).Seconds(), "s-to-ready")
		b.ReportMetric(deployed.Seconds(), "s-deployed")
		b.ReportMetric(cpuSeconds(c.p.cmd.Process.Pid)-cpu0, "server-cpu-s")
		b.ReportMetric(rssMB(c.p.cmd.Process.Pid), "server-RSS-MB")
		b.ReportMetric(peakRSSMB(c.p.cmd.Process.Pid), "server-peak-RSS-MB")
		prof()
		c.p.stop(b)
	}
}
