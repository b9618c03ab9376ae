package apiserver_test

import (
	"testing"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
)

func TestSmoke(t *testing.T) {
	srv := apiservertest.Start(t)
	k := newKubectl(t, "1.33", srv)
	t.Log(k.ok("version"))
	t.Log(k.ok("api-resources"))
	t.Log(k.ok("get", "ns"))
	t.Log(k.ok("run", "nginx", "--image=nginx", "--port=80"))
	t.Log(k.ok("get", "pods", "-o", "wide"))
	t.Log(k.ok("get", "all", "-A"))
	t.Log(k.ok("create", "deployment", "web", "--image=nginx", "--replicas=3"))
	t.Log(k.ok("get", "deploy", "web", "-o", "yaml"))
}
