package gomarathon

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	marathon "github.com/gambol99/go-marathon"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/stratus-cloud/stratus/internal/marathon/marathontest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestGoMarathonConstraints: apps with constraints, made with go-marathon,
// run where their constraints allow on three nodes labelled rack r1, r2
// and s1; a task no node may take waits; a malformed constraint gets
// Marathon's 422.
func TestGoMarathonConstraints(t *testing.T) {
	c := marathontest.Start(t, marathontest.Options{Nodes: 3})
	m := client(t, c, c.Username, c.Password)
	ctx := context.Background()
	nodes, err := c.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil || len(nodes.Items) != 3 {
		t.Fatalf("nodes: %v", err)
	}
	rackOf := map[string]string{}
	for i, n := range nodes.Items {
		rack := []string{"r1", "r2", "s1"}[i]
		rackOf[n.Name] = rack
		if _, err := c.Kube.CoreV1().Nodes().Patch(ctx, n.Name, types.MergePatchType, []byte(`{"metadata":{"labels":{"rack":"`+rack+`"}}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// LIKE patterns are resolved against the nodes marathon sees: wait
	// until the Mesos agents carry the new attribute.
	testenv.Eventually(t, timeout, "rack attributes seen", func() bool {
		req, _ := http.NewRequest("GET", c.URL+"/master/slaves", nil)
		req.SetBasicAuth(c.Username, c.Password)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var st struct {
			Slaves []struct{ Attributes map[string]string }
		}
		if json.NewDecoder(resp.Body).Decode(&st) != nil {
			return false
		}
		n := 0
		for _, a := range st.Slaves {
			if a.Attributes["rack"] != "" {
				n++
			}
		}
		return n == 3
	})

	tests := []struct {
		id         string
		constraint []string
		instances  int
		want       map[string]int // rack → tasks
	}{
		{"/c/unique", []string{"hostname", "UNIQUE"}, 3, map[string]int{"r1": 1, "r2": 1, "s1": 1}},
		{"/c/like", []string{"rack", "LIKE", "r[0-9]"}, 4, map[string]int{"r1": 2, "r2": 2}},
		{"/c/unlike", []string{"rack", "UNLIKE", "r.*"}, 2, map[string]int{"s1": 2}},
		{"/c/cluster", []string{"rack", "CLUSTER", "r2"}, 2, map[string]int{"r2": 2}},
		{"/c/groupby", []string{"rack", "GROUP_BY"}, 6, map[string]int{"r1": 2, "r2": 2, "s1": 2}},
		{"/c/maxper", []string{"rack", "MAX_PER", "1"}, 3, map[string]int{"r1": 1, "r2": 1, "s1": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			app := marathon.NewDockerApplication().Name(tc.id).Count(tc.instances).CPU(0.01).Memory(8)
			app.Container.Docker.Container("busybox")
			app.AddConstraint(tc.constraint...)
			created, err := m.CreateApplication(app)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.WaitOnDeployment(created.Deployments[0]["id"], timeout); err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, x := range runningTasks(t, m, tc.id) {
				got[rackOf[x.Host]]++
			}
			if len(got) != len(tc.want) {
				t.Fatalf("tasks per rack %v, want %v", got, tc.want)
			}
			for r, n := range tc.want {
				if got[r] != n {
					t.Fatalf("tasks per rack %v, want %v", got, tc.want)
				}
			}
		})
	}

	// A fourth unique task has no node: it waits, and the scale's
	// deployment stays until it is taken back with force.
	d, err := m.ScaleApplicationInstances("/c/unique", 4, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.WaitOnDeployment(d.DeploymentID, 2*timeout/10); err == nil {
		t.Fatal("a scale past the nodes of a UNIQUE app finished")
	}
	if n := len(runningTasks(t, m, "/c/unique")); n != 3 {
		t.Fatalf("unique app: %d running, want 3", n)
	}
	if _, err := m.ScaleApplicationInstances("/c/unique", 3, true); err != nil {
		t.Fatal(err)
	}

	// Malformed: Marathon's 422 and message, nothing made.
	bad := marathon.NewDockerApplication().Name("/c/bad").Count(1).CPU(0.01).Memory(8)
	bad.Container.Docker.Container("busybox")
	bad.AddConstraint("hostname", "UNIQUE", "x")
	_, err = m.CreateApplication(bad)
	if apiCode(err) != marathon.ErrCodeInvalidBean || !strings.Contains(err.Error(), "Value specified but not used") {
		t.Fatalf("bad constraint: %v", err)
	}
	if _, err := m.Application("/c/bad"); apiCode(err) != marathon.ErrCodeNotFound {
		t.Fatalf("a refused app exists: %v", err)
	}
}
