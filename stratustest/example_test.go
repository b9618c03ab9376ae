package stratustest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/cloudstack-go/v2/cloudstack"
	"golang.org/x/oauth2"
	"google.golang.org/api/compute/v1"
	"google.golang.org/api/option"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/stratus-cloud/stratus/stratustest"
)

// A Kubernetes client (client-go) against a stratus with two simulated
// nodes. In a test, use stratustest.Start(t, …) instead of New and Close.
func Example_clientGo() {
	ctx := context.Background()
	s, err := stratustest.New(ctx, stratustest.WithSimNodes(2))
	if err != nil {
		panic(err)
	}
	defer s.Close()

	kc := kubernetes.NewForConfigOrDie(s.KubeConfig)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "hello"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}},
	}
	if _, err := kc.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		panic(err)
	}
	// The scheduler places it and a simulated node runs it.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		p, err := kc.CoreV1().Pods("default").Get(ctx, "hello", metav1.GetOptions{})
		if err == nil && p.Status.Phase == corev1.PodRunning {
			break
		}
	}
	p, _ := kc.CoreV1().Pods("default").Get(ctx, "hello", metav1.GetOptions{})
	fmt.Println(p.Status.Phase, p.Spec.NodeName != "")
	// Output: Running true
}

// A CloudStack client (cloudstack-go) deploys a virtual machine.
func Example_cloudStack() {
	s, err := stratustest.New(context.Background())
	if err != nil {
		panic(err)
	}
	defer s.Close()

	cs := cloudstack.NewAsyncClient(s.CloudStack.URL, s.CloudStack.APIKey, s.CloudStack.SecretKey, false)
	zones, err := cs.Zone.ListZones(cs.Zone.NewListZonesParams())
	if err != nil {
		panic(err)
	}
	offerings, err := cs.ServiceOffering.ListServiceOfferings(cs.ServiceOffering.NewListServiceOfferingsParams())
	if err != nil {
		panic(err)
	}
	tp := cs.Template.NewListTemplatesParams("featured")
	tp.SetZoneid(zones.Zones[0].Id)
	templates, err := cs.Template.ListTemplates(tp)
	if err != nil {
		panic(err)
	}
	p := cs.VirtualMachine.NewDeployVirtualMachineParams(offerings.ServiceOfferings[0].Id, templates.Templates[0].Id, zones.Zones[0].Id)
	p.SetName("web-1")
	vm, err := cs.VirtualMachine.DeployVirtualMachine(p)
	if err != nil {
		panic(err)
	}
	fmt.Println(vm.Name, vm.State)
	// Output: web-1 Running
}

// Google's Compute Engine client lists zones and creates an instance
// through the GCE gateway.
func Example_compute() {
	ctx := context.Background()
	s, err := stratustest.New(ctx)
	if err != nil {
		panic(err)
	}
	defer s.Close()

	svc, err := compute.NewService(ctx, option.WithEndpoint(s.GCE.Endpoint),
		option.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: s.GCE.Token})))
	if err != nil {
		panic(err)
	}
	zone, err := svc.Zones.Get(s.GCE.Project, s.GCE.Zone).Context(ctx).Do()
	if err != nil {
		panic(err)
	}
	fmt.Println(zone.Name == s.GCE.Zone, zone.Status)
	// Output: true UP
}
