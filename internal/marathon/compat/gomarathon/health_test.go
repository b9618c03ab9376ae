package gomarathon

import (
	"testing"

	marathon "github.com/gambol99/go-marathon"

	"github.com/stratus-cloud/stratus/internal/marathon/marathontest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestGoMarathonHealthChecks: every health check of an app has its
// result (simulated nodes, where network checks pass unrun): go-marathon
// reads one result per check on every task, the tasks count healthy and
// the deployment finishes.
func TestGoMarathonHealthChecks(t *testing.T) {
	c := marathontest.Start(t, marathontest.Options{Nodes: 3})
	m := client(t, c, c.Username, c.Password)
	app := marathon.NewDockerApplication().Name("/checked")
	app.Container = nil
	app.Command("serve").CPU(0.01).Memory(16).Count(3)
	app.AddHealthCheck(marathon.HealthCheck{Protocol: "HTTP", IntervalSeconds: 1, TimeoutSeconds: 1}.SetPath("/health").SetPortIndex(0))
	app.AddHealthCheck(marathon.HealthCheck{Protocol: "TCP", IntervalSeconds: 1, TimeoutSeconds: 1}.SetPortIndex(0))
	app.AddHealthCheck(marathon.HealthCheck{Protocol: "HTTP", IntervalSeconds: 1, TimeoutSeconds: 1}.SetPath("/ready").SetPortIndex(0))
	created, err := m.CreateApplication(app)
	if err != nil {
		t.Fatal(err)
	}
	if len(created.Deployments) != 1 {
		t.Fatalf("deployments: %+v", created.Deployments)
	}
	testenv.Eventually(t, timeout, "the deployment finished", func() bool {
		ds, err := m.Deployments()
		return err == nil && len(ds) == 0
	})
	got, err := m.ApplicationBy("/checked", &marathon.GetAppOpts{Embed: []string{"apps.tasks"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.TasksHealthy != 3 || got.TasksUnhealthy != 0 || len(got.Tasks) != 3 {
		t.Fatalf("%d healthy, %d unhealthy, %d tasks", got.TasksHealthy, got.TasksUnhealthy, len(got.Tasks))
	}
	for _, task := range got.Tasks {
		if len(task.HealthCheckResults) != 3 {
			t.Fatalf("task %s: %d results, want one per check", task.ID, len(task.HealthCheckResults))
		}
		for i, r := range task.HealthCheckResults {
			if !r.Alive || r.FirstSuccess == "" {
				t.Fatalf("task %s check %d: %+v", task.ID, i, r)
			}
		}
	}
}
