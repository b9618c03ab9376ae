package apiserver_test

import (
	"strings"
	"testing"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
)

// Identities and authorization as kubectl users meet them, with three
// kubectl releases (1.33 sends protobuf review bodies): a ServiceAccount
// without bindings is refused with the real server's message and allowed
// after a RoleBinding; auth can-i (and --list), --as, whoami and create
// token; role escalation refused; the join (bootstrap) token good only for
// joining; a node refused writing another node's status.
func TestKubectlRBAC(t *testing.T) {
	srv := apiservertest.Start(t)
	admin := newKubectl(t, "1.33", srv)
	admin.ok("apply", "-f", admin.file("bootstrap.yaml", `apiVersion: v1
kind: Secret
metadata: {name: bootstrap-token-abcdef, namespace: kube-system}
type: bootstrap.kubernetes.io/token
stringData: {token-id: abcdef, token-secret: 0123456789abcdef, usage-bootstrap-authentication: "true"}
`))
	for _, v := range []string{"1.27", "1.29", "1.33"} {
		t.Run(v, func(t *testing.T) {
			k := newKubectl(t, v, srv)
			ns := "rbac-" + strings.ReplaceAll(v, ".", "-")
			k.ok("create", "namespace", ns)
			k.ok("create", "serviceaccount", "x", "-n", ns)
			tok := strings.TrimSpace(k.ok("create", "token", "x", "-n", ns))
			as := func(args ...string) []string { return append([]string{"--token", tok}, args...) }

			user := `User "system:serviceaccount:` + ns + `:x"`
			errs := k.fails(as("get", "pods", "-n", ns)...)
			contains(t, "unbound SA list pods", errs, `pods is forbidden: `+user+` cannot list resource "pods" in API group "" in the namespace "`+ns+`"`)
			out, _, _ := k.run("", as("auth", "can-i", "list", "pods", "-n", ns)...)
			contains(t, "can-i before binding", out, "no")

			k.ok("create", "rolebinding", "x-admin", "--clusterrole=admin", "--serviceaccount="+ns+":x", "-n", ns)
			k.ok(as("get", "pods", "-n", ns)...)
			contains(t, "can-i after binding", k.ok(as("auth", "can-i", "list", "pods", "-n", ns)...), "yes")
			out, _, _ = k.run("", as("auth", "can-i", "list", "secrets", "-n", "default")...)
			contains(t, "can-i in another namespace", out, "no")
			contains(t, "can-i --list", k.ok(as("auth", "can-i", "--list", "-n", ns)...), "pods", "rolebindings.rbac.authorization.k8s.io", "selfsubjectaccessreviews.authorization.k8s.io")
			errs = k.fails(as("create", "rolebinding", "grab", "--clusterrole=cluster-admin", "--serviceaccount="+ns+":x", "-n", ns)...)
			contains(t, "escalation", errs, "is attempting to grant RBAC permissions not currently held")

			contains(t, "--as", k.ok("--as=system:serviceaccount:"+ns+":x", "auth", "can-i", "create", "deployments.apps", "-n", ns), "yes")
			errs = k.fails("--as=nobody", "get", "pods", "-n", ns)
			contains(t, "--as nobody", errs, `pods is forbidden: User "nobody" cannot list resource "pods"`)
			contains(t, "whoami --as", k.ok("--as=nobody", "--as-group=devs", "auth", "whoami"), "nobody", "devs", "system:authenticated")
			contains(t, "whoami token", k.ok(as("auth", "whoami")...), "system:serviceaccount:"+ns+":x", "system:serviceaccounts:"+ns)
			errs = k.fails(as("--as=nobody", "get", "pods")...)
			contains(t, "SA may not impersonate users", errs, `users "nobody" is forbidden: `+user+` cannot impersonate resource "users" in API group "" at the cluster scope`)

			join := []string{"--token", "abcdef.0123456789abcdef"}
			errs = k.fails(append(join, "get", "secrets", "-A")...)
			contains(t, "join token reads secrets", errs, `secrets is forbidden: User "system:bootstrap:abcdef" cannot list resource "secrets" in API group "" at the cluster scope`)
			errs = k.fails(append(join, "delete", "namespace", ns)...)
			contains(t, "join token deletes namespace", errs, `namespaces "`+ns+`" is forbidden`)
			contains(t, "join token can join", k.ok(append(join, "auth", "can-i", "create", "certificatesigningrequests.certificates.k8s.io")...), "yes")

			node := []string{"--as=system:node:" + ns + "-a", "--as-group=system:nodes"}
			k.ok("apply", "-f", k.file("nodes.yaml", "apiVersion: v1\nkind: Node\nmetadata: {name: "+ns+"-a}\n---\napiVersion: v1\nkind: Node\nmetadata: {name: "+ns+"-b}\n"))
			k.ok(append(node, "label", "node", ns+"-a", "mine=yes")...)
			errs = k.fails(append(node, "label", "node", ns+"-b", "mine=yes")...)
			contains(t, "node writes another node", errs, `node "`+ns+`-a" is not allowed to modify node "`+ns+`-b"`)
		})
	}
}
