package stratustest_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/cloudstack-go/v2/cloudstack"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/stratus-cloud/stratus/stratustest"
)

// TestSeedAndFaults: a seed file's state is there at start (read with
// client-go and the CloudStack SDK with the file's fixed keys), a fault
// given at start acts (client-go waits out a 429), and Reset goes back to
// the seeded state.
func TestSeedAndFaults(t *testing.T) {
	file := filepath.Join(t.TempDir(), "seed.yaml")
	if err := os.WriteFile(file, []byte(`apiVersion: seed.stratus.io/v1
kind: Account
name: tester
apiKey: tester-key-0123
secretKey: tester-secret-0123
---
apiVersion: v1
kind: ConfigMap
metadata: {name: seeded}
data: {a: b}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := stratustest.Start(t, stratustest.WithSeed(file),
		stratustest.WithFaults(stratustest.Fault{Kind: "kube-api", Verb: "get", Resource: "configmaps", Status: 429, RetryAfter: 1, Count: 1}))
	ctx := context.Background()
	kc := kubernetes.NewForConfigOrDie(s.KubeConfig)
	t0 := time.Now()
	cm, err := kc.CoreV1().ConfigMaps("default").Get(ctx, "seeded", metav1.GetOptions{})
	if err != nil || cm.Data["a"] != "b" {
		t.Fatalf("seeded ConfigMap: %v %v", cm, err)
	}
	if time.Since(t0) < time.Second {
		t.Errorf("the get took %s: the 429 fault did not act", time.Since(t0))
	}
	cs := cloudstack.NewAsyncClient(s.CloudStack.URL, "tester-key-0123", "tester-secret-0123", false)
	if _, err := cs.VirtualMachine.ListVirtualMachines(cs.VirtualMachine.NewListVirtualMachinesParams()); err != nil {
		t.Fatalf("the seeded account's keys: %v", err)
	}
	if _, err := kc.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "later"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.CoreV1().ConfigMaps("default").Get(ctx, "later", metav1.GetOptions{}); err == nil {
		t.Error("a ConfigMap made after the seed survived the reset")
	}
	if _, err := kc.CoreV1().ConfigMaps("default").Get(ctx, "seeded", metav1.GetOptions{}); err != nil {
		t.Errorf("the seeded ConfigMap after reset: %v", err)
	}
}
