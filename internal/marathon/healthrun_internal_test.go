package marathon

import "testing"

// TestHealthCheckSplit: the probes run the first COMMAND check (it needs
// the task's sandbox), else the first with a port the same in every task;
// the server runs the other HTTP and TCP checks (all of them when every
// port is a task's own); the pod template says how many checks there are.
func TestHealthCheckSplit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		protos []string
		probed int
		server []int
		own    bool // the task's own host ports (requirePorts false)
	}{
		{"one", []string{"HTTP"}, 0, nil, false},
		{"one on the task's own port", []string{"HTTP"}, -1, []int{0}, true},
		{"command probed, own ports", []string{"TCP", "COMMAND"}, 1, []int{0}, true},
		{"http and tcp", []string{"HTTP", "TCP"}, 0, []int{1}, false},
		{"command probed", []string{"TCP", "COMMAND", "HTTP"}, 1, []int{0, 2}, false},
		{"second command not run", []string{"COMMAND", "HTTP", "COMMAND"}, 0, []int{1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newApp()
			a.ID = "/x"
			cmd := "serve"
			a.Cmd = &cmd
			a.PortDefinitions, a.RequirePorts = []PortDefinition{{Port: 10500}}, !tc.own
			for _, p := range tc.protos {
				a.HealthChecks = append(a.HealthChecks, HealthCheck{Protocol: p, Command: &HealthCmd{Value: "true"}})
			}
			normalize(&a, nil)
			if got := probedCheck(&a); got != tc.probed {
				t.Fatalf("probed %d, want %d", got, tc.probed)
			}
			var server []int
			for i := range a.HealthChecks {
				if serverChecked(&a, i) {
					server = append(server, i)
				}
			}
			if len(server) != len(tc.server) {
				t.Fatalf("server runs %v, want %v", server, tc.server)
			}
			for i := range server {
				if server[i] != tc.server[i] {
					t.Fatalf("server runs %v, want %v", server, tc.server)
				}
			}
			d := kubeDeployment(&a, []byte("{}"), noNodes)
			if multiCheck(d) != (len(tc.protos) > 1 || len(tc.server) > 0) {
				t.Fatalf("template annotation %q", d.Spec.Template.Annotations[annotationChecks])
			}
			rp := d.Spec.Template.Spec.Containers[0].ReadinessProbe
			if tc.probed < 0 {
				if rp != nil {
					t.Fatalf("readiness probe %+v, want none", rp)
				}
				return
			}
			if (rp.Exec != nil) != (tc.protos[tc.probed] == "COMMAND") {
				t.Fatalf("readiness probe %+v for check %s", rp, tc.protos[tc.probed])
			}
		})
	}
}
