package stratustest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/cloudstack-go/v2/cloudstack"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/stratus-cloud/stratus/stratustest"
)

// A seed file gives every test the same starting state in both layers:
// here a CloudStack account whose keys the test hard-codes, and a
// Kubernetes ConfigMap. Reset goes back to it between tests.
func ExampleWithSeed() {
	dir, err := os.MkdirTemp("", "seed-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "seed.yaml")
	if err := os.WriteFile(file, []byte(`apiVersion: seed.stratus.io/v1
kind: Account
name: ci
apiKey: ci-key-0123456789
secretKey: ci-secret-0123456789
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: test}
`), 0o600); err != nil {
		panic(err)
	}
	ctx := context.Background()
	s, err := stratustest.New(ctx, stratustest.WithSeed(file))
	if err != nil {
		panic(err)
	}
	defer s.Close()

	cm, err := kubernetes.NewForConfigOrDie(s.KubeConfig).CoreV1().ConfigMaps("default").Get(ctx, "settings", metav1.GetOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println("mode:", cm.Data["mode"])
	cs := cloudstack.NewAsyncClient(s.CloudStack.URL, "ci-key-0123456789", "ci-secret-0123456789", false)
	users, err := cs.User.ListUsers(cs.User.NewListUsersParams())
	if err != nil {
		panic(err)
	}
	fmt.Println("signed in as:", users.Users[0].Account)
	// Output:
	// mode: test
	// signed in as: ci
}
