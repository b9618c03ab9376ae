package apiserver_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver"
	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
)

// TestKubectlOpenAPI drives the OpenAPI documents with the kubectl versions
// that read them differently: 1.27 and 1.28 validate from /openapi/v2 (in
// protobuf), 1.29 on from /openapi/v3; explain reads v3.
func TestKubectlOpenAPI(t *testing.T) {
	for _, v := range []string{"1.27", "1.28", "1.29", "1.33"} {
		t.Run(v, func(t *testing.T) {
			srv := apiservertest.Start(t)
			warmOpenAPI(t, srv)
			k := newKubectl(t, v, srv)
			contains(t, "explain", k.ok("explain", "deployment.spec.replicas"),
				"GROUP:", "apps", "KIND:", "Deployment", "FIELD: replicas <integer>", "Number of desired pods.")
			contains(t, "explain pods", k.ok("explain", "pods.spec.containers.ports"),
				"KIND:", "Pod", "containerPort", "<integer> -required-")
			contains(t, "explain recursive", k.ok("explain", "service.spec", "--recursive"), "clusterIP", "sessionAffinityConfig")

			// Default validation: apply goes through, twice, and a changed
			// manifest patches.
			k.file("deploy.yaml", fmt.Sprintf(deployYAML, 2, "nginx:1.27"))
			contains(t, "apply", k.ok("apply", "-f", "deploy.yaml"), "deployment.apps/app created")
			contains(t, "apply again", k.ok("apply", "-f", "deploy.yaml"), "deployment.apps/app unchanged")
			k.file("deploy.yaml", fmt.Sprintf(deployYAML, 3, "nginx:1.28"))
			out, errs, err := k.run("", "apply", "-f", "deploy.yaml", "-v=6")
			if err != nil {
				t.Fatalf("apply changed: %v\n%s", err, errs)
			}
			contains(t, "apply changed", out, "deployment.apps/app configured")
			if v == "1.27" || v == "1.28" {
				// These read the v2 document (protobuf) to learn that the
				// server validates.
				contains(t, "apply -v=6", errs, "/openapi/v2?timeout=32s 200 OK")
			}
			contains(t, "diff", k.ok("diff", "-f", "deploy.yaml"))

			// Unknown fields are refused with default validation.
			k.file("unknown.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unk\nfoo: bar\n")
			contains(t, "strict", k.fails("apply", "-f", "unknown.yaml"), `unknown field "foo"`)
		})
	}
}

// TestKubectlAllKinds applies a manifest of every served kind with default
// validation, reads each back in kubectl's table form and checks that
// invalid objects get the real server's messages.
func TestKubectlAllKinds(t *testing.T) {
	manifest, err := os.ReadFile("testdata/allkinds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1.27", "1.29", "1.33"} {
		t.Run(v, func(t *testing.T) {
			srv := apiservertest.Start(t)
			warmOpenAPI(t, srv)
			k := newKubectl(t, v, srv)
			k.file("all.yaml", string(manifest))
			out := k.ok("apply", "-f", "all.yaml")
			kinds := strings.Count(string(manifest), "\nkind: ")
			if got := strings.Count(out, " created\n"); got != kinds {
				t.Fatalf("apply created %d of %d objects:\n%s", got, kinds, out)
			}
			// A second apply changes nothing. kubectl's three-way diff still
			// sends a patch (and says "configured") where the live object
			// differs from the manifest in an atomic list or map that the
			// server defaulted or folded (stringData, volume claim
			// templates, a PDB's selector, ports without merge keys), as it
			// does against a real server; the patch changes nothing.
			// Webhook configurations and policies get the real server's
			// defaults inside atomic lists (a rule's scope, a policy's
			// resource rules), so they are "configured" again too.
			configured := map[string]bool{"secret/all-secret": true, "statefulset.apps/all-sts": true, "poddisruptionbudget.policy/all-pdb": true,
				"networkpolicy.networking.k8s.io/all-netpol": true, "endpointslice.discovery.k8s.io/all-slice": true,
				"validatingwebhookconfiguration.admissionregistration.k8s.io/all-vwc": true,
				"mutatingwebhookconfiguration.admissionregistration.k8s.io/all-mwc":   true,
				"validatingadmissionpolicy.admissionregistration.k8s.io/all-vap":      true}
			for _, line := range strings.Split(strings.TrimSpace(k.ok("apply", "-f", "all.yaml")), "\n") {
				name, verb, _ := strings.Cut(line, " ")
				if want := map[bool]string{true: "configured", false: "unchanged"}[configured[name]]; verb != want {
					t.Errorf("second apply: %s %s, want %s", name, verb, want)
				}
			}

			contains(t, "api-resources", k.ok("api-resources"),
				"statefulsets", "sts", "daemonsets", "ds", "controllerrevisions", "cronjobs", "cj", "batch/v1",
				"horizontalpodautoscalers", "hpa", "autoscaling/v2", "poddisruptionbudgets", "pdb", "policy/v1",
				"ingresses", "ing", "networkpolicies", "netpol", "networking.k8s.io/v1", "clusterrolebindings",
				"rbac.authorization.k8s.io/v1", "priorityclasses", "pc", "scheduling.k8s.io/v1", "storageclasses", "sc",
				"storage.k8s.io/v1", "persistentvolumeclaims", "pvc", "limitranges", "limits", "resourcequotas", "quota", "podtemplates",
				"runtimeclasses", "node.k8s.io/v1", "csidrivers", "csinodes", "csistoragecapacities", "volumeattachments",
				"certificatesigningrequests", "csr", "certificates.k8s.io/v1", "mutatingwebhookconfigurations", "validatingwebhookconfigurations",
				"validatingadmissionpolicies", "validatingadmissionpolicybindings", "admissionregistration.k8s.io/v1",
				"flowschemas", "prioritylevelconfigurations", "flowcontrol.apiserver.k8s.io/v1", "ipaddresses", "servicecidrs")

			tables := []struct {
				args []string
				want []string
			}{
				{[]string{"get", "sts"}, []string{"NAME", "READY", "AGE", "all-sts", "0/2"}},
				{[]string{"get", "ds", "-o", "wide"}, []string{"DESIRED", "CURRENT", "UP-TO-DATE", "NODE SELECTOR", "<none>", "CONTAINERS", "fluentd"}},
				{[]string{"get", "controllerrevisions"}, []string{"CONTROLLER", "REVISION", "all-revision"}},
				{[]string{"get", "jobs"}, []string{"STATUS", "COMPLETIONS", "DURATION", "all-job", "0/2"}},
				{[]string{"get", "cj"}, []string{"SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "*/5 * * * *", "Europe/Paris", "false", "<none>"}},
				{[]string{"get", "hpa"}, []string{"REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "Deployment/all-deploy", "cpu: <unknown>/70%"}},
				{[]string{"get", "pdb"}, []string{"MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "N/A"}},
				{[]string{"get", "ing"}, []string{"CLASS", "HOSTS", "ADDRESS", "PORTS", "all-class", "web.example.com", "80"}},
				{[]string{"get", "ingressclass"}, []string{"CONTROLLER", "PARAMETERS", "stratus.dev/ingress"}},
				{[]string{"get", "netpol"}, []string{"POD-SELECTOR", "app=web"}},
				{[]string{"get", "pv"}, []string{"CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "1Gi", "RWO", "Retain", "Pending", "manual"}},
				{[]string{"get", "pvc"}, []string{"STATUS", "VOLUME", "STORAGECLASS", "all-pvc", "Pending", "manual"}},
				{[]string{"get", "quota"}, []string{"REQUEST", "LIMIT", "all-quota"}},
				{[]string{"get", "limits"}, []string{"CREATED AT", "all-limits"}},
				{[]string{"get", "podtemplates"}, []string{"TEMPLATE", "POD LABELS", "app=tmpl"}},
				{[]string{"get", "sc"}, []string{"PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "all-sc (default)", "WaitForFirstConsumer", "Delete"}},
				{[]string{"get", "pc"}, []string{"VALUE", "GLOBAL-DEFAULT", "PREEMPTIONPOLICY", "1000", "PreemptLowerPriority"}},
				{[]string{"get", "rolebindings", "-o", "wide"}, []string{"ROLE", "SERVICEACCOUNTS", "Role/all-role", ":all-sa"}},
				{[]string{"get", "clusterrolebindings", "-o", "wide"}, []string{"ClusterRole/all-clusterrole", "alice", "default:all-sa"}},
				{[]string{"get", "roles,clusterroles"}, []string{"CREATED AT", "all-role", "all-clusterrole"}},
				{[]string{"get", "runtimeclass"}, []string{"HANDLER", "runc"}},
				{[]string{"get", "csidrivers"}, []string{"ATTACHREQUIRED", "PODINFOONMOUNT", "MODES", "all.csi.example.com", "Persistent"}},
				{[]string{"get", "csinodes"}, []string{"DRIVERS", "node-1"}},
				{[]string{"get", "csistoragecapacities"}, []string{"STORAGECLASSNAME", "CAPACITY", "all-sc", "10Gi"}},
				{[]string{"get", "volumeattachments"}, []string{"ATTACHER", "PV", "NODE", "ATTACHED", "all-pv", "false"}},
				{[]string{"get", "csr"}, []string{"SIGNERNAME", "REQUESTOR", "CONDITION", "kubernetes.io/kube-apiserver-client", "Pending"}},
				{[]string{"get", "validatingwebhookconfigurations,mutatingwebhookconfigurations"}, []string{"WEBHOOKS", "all-vwc", "all-mwc"}},
				{[]string{"get", "validatingadmissionpolicies"}, []string{"VALIDATIONS", "PARAMKIND", "all-vap"}},
				{[]string{"get", "validatingadmissionpolicybindings"}, []string{"POLICYNAME", "PARAMREF", "all-vap"}},
				{[]string{"get", "flowschemas"}, []string{"PRIORITYLEVEL", "MATCHINGPRECEDENCE", "DISTINGUISHERMETHOD", "all-plc", "1000", "ByUser"}},
				{[]string{"get", "prioritylevelconfigurations"}, []string{"NOMINALCONCURRENCYSHARES", "Limited", "10"}},
				{[]string{"get", "servicecidrs"}, []string{"CIDRS", "10.96.0.0/16"}},
				{[]string{"get", "ipaddresses"}, []string{"PARENTREF", "10.96.0.10", "services/default/all-svc"}},
				{[]string{"get", "all"}, []string{"statefulset.apps/all-sts", "daemonset.apps/all-ds", "job.batch/all-job", "cronjob.batch/all-cron", "horizontalpodautoscaler.autoscaling/all-hpa"}},
			}
			for _, tt := range tables {
				contains(t, strings.Join(tt.args, " "), k.ok(tt.args...), tt.want...)
			}

			// Defaulting, as the real server does it.
			contains(t, "job defaults", k.ok("get", "job", "all-job", "-o", "yaml"),
				"backoffLimit: 3", "completionMode: NonIndexed", "suspend: false", "batch.kubernetes.io/controller-uid:", "job-name: all-job", "podReplacementPolicy: TerminatingOrFailed")
			contains(t, "sts defaults", k.ok("get", "sts", "all-sts", "-o", "yaml"),
				"podManagementPolicy: OrderedReady", "partition: 0", "revisionHistoryLimit: 10", "whenDeleted: Retain", "volumeMode: Filesystem")
			contains(t, "cronjob defaults", k.ok("get", "cj", "all-cron", "-o", "yaml"),
				"concurrencyPolicy: Allow", "successfulJobsHistoryLimit: 3", "failedJobsHistoryLimit: 1")
			contains(t, "netpol defaults", k.ok("get", "netpol", "all-netpol", "-o", "yaml"), "protocol: TCP", "- Ingress")

			// Invalid objects: the real messages, nothing stored.
			invalid := []struct {
				name, yaml string
				want       []string
			}{
				{"job-always", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: bad-job}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: busybox}]\n",
					[]string{`The Job "bad-job" is invalid`, `spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"`}},
				{"cron-schedule", "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: bad-cron}\nspec:\n  schedule: \"every day\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{name: c, image: busybox}]\n",
					[]string{`The CronJob "bad-cron" is invalid`, `spec.schedule: Invalid value: "every day"`}},
				{"sts-selector", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: bad-sts}\nspec:\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: b}}\n    spec:\n      containers: [{name: c, image: busybox}]\n",
					[]string{`The StatefulSet "bad-sts" is invalid`, "spec.template.metadata.labels: Invalid value: {\"app\":\"b\"}: `selector` does not match template `labels`"}},
				{"pdb-both", "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: bad-pdb}\nspec:\n  minAvailable: 1\n  maxUnavailable: 1\n",
					[]string{`The PodDisruptionBudget "bad-pdb" is invalid`, "minAvailable and maxUnavailable cannot be both set"}},
				{"binding-kind", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: bad-crb}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: x}\n",
					[]string{`The ClusterRoleBinding "bad-crb" is invalid`, `roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"`}},
				{"ingress-pathtype", "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: bad-ing}\nspec:\n  rules:\n  - http:\n      paths:\n      - path: /\n        backend: {service: {name: s, port: {number: 80}}}\n",
					[]string{`The Ingress "bad-ing" is invalid`, "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"}},
				{"priority-system", "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: system-mine}\nvalue: 10\n",
					[]string{`The PriorityClass "system-mine" is invalid`, "priority class names with 'system-' prefix are reserved for system use only"}},
			}
			for _, tt := range invalid {
				k.file(tt.name+".yaml", tt.yaml)
				contains(t, tt.name, k.fails("apply", "-f", tt.name+".yaml"), tt.want...)
			}
		})
	}
}

// TestKubectlReplaceService: `kubectl replace` of a Service manifest without
// clusterIP or nodePort keeps the allocated ones, as kube-apiserver does.
func TestKubectlReplaceService(t *testing.T) {
	srv := apiservertest.Start(t)
	k := newKubectl(t, "1.33", srv)
	const svc = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: NodePort\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080}]\n"
	k.file("svc.yaml", svc)
	k.ok("create", "-f", "svc.yaml")
	before := k.ok("get", "svc", "web", "-o", "jsonpath={.spec.clusterIP} {.spec.ports[0].nodePort}")
	k.file("svc.yaml", strings.Replace(svc, "{app: web}", "{app: web2}", 1))
	contains(t, "replace", k.ok("replace", "-f", "svc.yaml"), "service/web replaced")
	if after := k.ok("get", "svc", "web", "-o", "jsonpath={.spec.clusterIP} {.spec.ports[0].nodePort}"); after != before {
		t.Errorf("replace moved the allocations: %q, was %q", after, before)
	}
	// Asking for another address is still refused.
	k.file("svc2.yaml", strings.Replace(svc, "type: NodePort", "type: NodePort\n  clusterIP: 127.100.200.200", 1))
	contains(t, "replace with another IP", k.fails("replace", "-f", "svc2.yaml"), "spec.clusterIPs[0]", "may not change once set")
}

// warmOpenAPI asks for the OpenAPI documents once, without kubectl's 30 s
// limit: the first request builds them, which under -race on a busy
// machine can take longer than that.
func warmOpenAPI(t *testing.T, srv *apiserver.Server) {
	t.Helper()
	cfg := apiservertest.RESTConfig(t, srv)
	cfg.Timeout = 5 * time.Minute
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Discovery().OpenAPISchema(); err != nil { // v2, protobuf
		t.Fatal(err)
	}
	if _, err := c.Discovery().RESTClient().Get().AbsPath("/openapi/v3").DoRaw(context.Background()); err != nil {
		t.Fatal(err)
	}
}
