package marathon_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/stratus-cloud/stratus/internal/marathon"
	"github.com/stratus-cloud/stratus/internal/marathon/marathontest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestDeploymentSurvivesRestart: a deployment of two steps (db, then web
// which depends on it) is acknowledged while its first step cannot
// finish (db's constraint matches no node yet). The server stops and a
// new one starts on the same cluster: the deployment is listed again,
// still locks its apps (409, force=false), and once db can run the new
// server applies the second step and finishes it; its ConfigMap goes.
func TestDeploymentSurvivesRestart(t *testing.T) {
	c := marathontest.Start(t, marathontest.Options{Nodes: 2})
	ctx := context.Background()
	group := map[string]any{"id": "/shop", "apps": []map[string]any{
		{"id": "db", "cmd": "sleep 1000", "cpus": 0.01, "mem": 8, "constraints": [][]string{{"zone", "CLUSTER", "late"}}},
		{"id": "web", "cmd": "sleep 1000", "cpus": 0.01, "mem": 8, "dependencies": []string{"/shop/db"}},
	}}
	var ack struct{ DeploymentID, Version string }
	if code, b := call(t, c, "POST", "/v2/groups", group, &ack); code != 201 || ack.DeploymentID == "" {
		t.Fatalf("create group: %d %s", code, b)
	}
	if code, _ := call(t, c, "GET", "/v2/apps/shop/web", nil, nil); code != 404 {
		t.Fatalf("web exists before db has started: %d", code)
	}

	c.Restart(t)

	var ds []struct {
		ID          string
		CurrentStep int
		TotalSteps  int
	}
	if code, b := call(t, c, "GET", "/v2/deployments", nil, &ds); code != 200 || len(ds) != 1 || ds[0].ID != ack.DeploymentID || ds[0].CurrentStep != 1 || ds[0].TotalSteps != 2 {
		t.Fatalf("deployments after restart: %d %s", code, b)
	}
	code, b := call(t, c, "PUT", "/v2/apps/shop/db", map[string]any{"env": map[string]string{"A": "1"}}, nil)
	if code != 409 || !strings.Contains(string(b), ack.DeploymentID) {
		t.Fatalf("update of a locked app after restart: %d %s", code, b)
	}

	// db can run now: the new server applies web's step and finishes.
	nodes, err := c.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil || len(nodes.Items) == 0 {
		t.Fatalf("nodes: %v", err)
	}
	if _, err := c.Kube.CoreV1().Nodes().Patch(ctx, nodes.Items[0].Name, types.MergePatchType, []byte(`{"metadata":{"labels":{"zone":"late"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	// stratus's scheduler retries an unschedulable pod on pod changes,
	// not on a node's new labels: the pending pod is replaced.
	if err := c.Kube.CoreV1().Pods(marathon.Namespace).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 60*time.Second, "deployment finished", func() bool {
		var ds []any
		_, b := call(t, c, "GET", "/v2/deployments", nil, &ds)
		t.Logf("deployments: %s", b)
		return len(ds) == 0
	})
	var web struct{ App struct{ TasksRunning int } }
	if code, b := call(t, c, "GET", "/v2/apps/shop/web", nil, &web); code != 200 || web.App.TasksRunning != 1 {
		t.Fatalf("web after the deployment: %d %s", code, b)
	}
	cms, err := c.Kube.CoreV1().ConfigMaps(marathon.Namespace).List(ctx, metav1.ListOptions{LabelSelector: marathon.LabelDeployment})
	if err != nil || len(cms.Items) != 0 {
		t.Fatalf("stored deployments after the end: %v %d", err, len(cms.Items))
	}
}

// TestStoredPlanIsFinished: a plan stored just before a crash (its first
// step never applied: the process died between the two writes) is
// applied by the next start, so an acknowledged deployment cannot be
// lost; a plan some app has moved past is dropped.
func TestStoredPlanIsFinished(t *testing.T) {
	c := marathontest.Start(t, marathontest.Options{Nodes: 1})
	ctx := context.Background()
	plan := `{"id":"5f0c2a9e-0000-4000-8000-000000000001","version":"2026-01-01T00:00:00.000Z","current":0,"steps":[{"changes":[
	  {"id":"/late","action":"StartApplication","create":true,"app":{"id":"/late","cmd":"sleep 1000","instances":2,"cpus":0.01,"mem":8,
	   "version":"2026-01-01T00:00:00.000Z","versionInfo":{"lastScalingAt":"2026-01-01T00:00:00.000Z","lastConfigChangeAt":"2026-01-01T00:00:00.000Z"}}}]}]}`
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "deployment-5f0c2a9e-0000-4000-8000-000000000001", Namespace: marathon.Namespace,
		Labels: map[string]string{marathon.LabelDeployment: "5f0c2a9e-0000-4000-8000-000000000001"}}, Data: map[string]string{"plan": plan}}
	if _, err := c.Kube.CoreV1().ConfigMaps(marathon.Namespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c.Restart(t)
	testenv.Eventually(t, 60*time.Second, "the stored plan finished", func() bool {
		var app struct{ App struct{ TasksRunning int } }
		var ds []any
		call(t, c, "GET", "/v2/deployments", nil, &ds)
		code, _ := call(t, c, "GET", "/v2/apps/late", nil, &app)
		return code == 200 && app.App.TasksRunning == 2 && len(ds) == 0
	})

	// A plan older than the app it changes is stale: dropped, not applied.
	stale := strings.ReplaceAll(strings.ReplaceAll(plan, "000000000001", "000000000002"), `"instances":2`, `"instances":0`)
	stale = strings.ReplaceAll(stale, `"create":true`, `"create":false`)
	stale = strings.ReplaceAll(stale, "2026-01-01T00:00:00.000Z", "2025-01-01T00:00:00.000Z")
	cm.Name, cm.Labels[marathon.LabelDeployment] = "deployment-5f0c2a9e-0000-4000-8000-000000000002", "5f0c2a9e-0000-4000-8000-000000000002"
	cm.Data["plan"] = stale
	if _, err := c.Kube.CoreV1().ConfigMaps(marathon.Namespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c.Restart(t)
	var app struct{ App struct{ Instances int } }
	if code, b := call(t, c, "GET", "/v2/apps/late", nil, &app); code != 200 || app.App.Instances != 2 {
		t.Fatalf("a stale plan was applied: %d %s", code, b)
	}
	if _, err := c.Kube.CoreV1().ConfigMaps(marathon.Namespace).Get(ctx, cm.Name, metav1.GetOptions{}); err == nil {
		t.Fatal("the stale plan was kept")
	}
}
