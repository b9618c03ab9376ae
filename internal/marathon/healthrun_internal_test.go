package marathon

import "testing"

// TestHealthCheckSplit: the probes run the first COMMAND check (it needs
// the task's sandbox), else the first; the server runs the other HTTP
// and TCP checks; the pod template says how many checks there are.
func TestHealthCheckSplit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		protos []string
		probed int
		server []int
	}{
		{"one", []string{"HTTP"}, 0, nil},
		{"http and tcp", []string{"HTTP", "TCP"}, 0, []int{1}},
		{"command probed", []string{"TCP", "COMMAND", "HTTP"}, 1, []int{0, 2}},
		{"second command not run", []string{"COMMAND", "HTTP", "COMMAND"}, 0, []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newApp()
			a.ID = "/x"
			cmd := "serve"
			a.Cmd = &cmd
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
			if multiCheck(d) != (len(tc.protos) > 1) {
				t.Fatalf("template annotation %q", d.Spec.Template.Annotations[annotationChecks])
			}
			rp := d.Spec.Template.Spec.Containers[0].ReadinessProbe
			if (rp.Exec != nil) != (tc.protos[tc.probed] == "COMMAND") {
				t.Fatalf("readiness probe %+v for check %s", rp, tc.protos[tc.probed])
			}
		})
	}
}
