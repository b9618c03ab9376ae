package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/cloudstack-go/v2/cloudstack"
	"golang.org/x/oauth2"
	"google.golang.org/api/compute/v1"
	"google.golang.org/api/option"

	"github.com/stratus-cloud/stratus/internal/testenv"
)

// ephemeralUp is a running `stratus up --ephemeral --output json`.
type ephemeralUp struct {
	*upProcess
	info    upInfo
	envFile string
}

// startEphemeral starts `stratus up --ephemeral --output json` and returns
// once it printed its addresses (it is ready then). It may run on any
// goroutine: it reports failure as an error; the process is killed at
// the end of the test.
func startEphemeral(t *testing.T, extra ...string) (*ephemeralUp, error) {
	e := &ephemeralUp{upProcess: &upProcess{done: make(chan error, 1), stderr: &strings.Builder{}}, envFile: filepath.Join(t.TempDir(), "stratus.env")}
	args := append([]string{"up", "--ephemeral", "--output", "json", "--env-file", e.envFile, "--runtime", "sim", "--trim-memory=false"}, extra...)
	e.cmd = exec.Command(stratusBinary(t), args...)
	stdout, err := e.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	e.cmd.Stderr = &syncWriter{b: e.stderr}
	if err := e.cmd.Start(); err != nil {
		return nil, err
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		_, _ = io.Copy(io.Discard, stdout)
		e.done <- e.cmd.Wait()
	}()
	t.Cleanup(func() {
		if e.cmd.ProcessState == nil {
			_ = e.cmd.Process.Kill()
			<-e.done
		}
	})
	select {
	case l, ok := <-line:
		if !ok {
			return nil, fmt.Errorf("stratus up --ephemeral printed nothing\n%s", e.stderr.String())
		}
		if err := json.Unmarshal([]byte(l), &e.info); err != nil {
			return nil, fmt.Errorf("--output json: %v: %q", err, l)
		}
	case <-time.After(90 * time.Second):
		return nil, fmt.Errorf("stratus up --ephemeral not up within 90 s\n%s", e.stderr.String())
	}
	return e, nil
}

// stop stops it as upProcess.stop does and checks its data dir is gone.
func (e *ephemeralUp) stop(t *testing.T) {
	t.Helper()
	e.upProcess.stop(t)
	if _, err := os.Stat(e.info.DataDir); !os.IsNotExist(err) {
		t.Errorf("ephemeral data dir %s left behind: %v", e.info.DataDir, err)
	}
}

// envFileVars reads the KEY=value lines of an env file.
func envFileVars(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("env file line without '=': %q", l)
		}
		vars[k] = v
	}
	return vars
}

// TestEightSideBySide runs eight ephemeral instances at once on one machine
// and drives each with kubectl, cloudstack-go and Google's compute client:
// each has its own cluster IPs, pod IPs and node address, its services
// answer from its own pods, and none sees another's objects.
func TestEightSideBySide(t *testing.T) {
	testenv.Need(t, fileExists(kubectl133), kubectl133+" not found (the Google Cloud SDK ships it)")
	const n = 8
	ups := make([]*ephemeralUp, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ups[i], errs[i] = startEphemeral(t)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
	}
	seen := map[string]int{}
	for i, e := range ups {
		nw := e.info.Network
		if nw == nil {
			t.Fatalf("instance %d: no network in --output json", i)
		}
		for _, r := range []string{nw.ServiceCIDR, nw.PodCIDR, nw.NodeAddress} {
			if j, dup := seen[r]; dup {
				t.Fatalf("instances %d and %d share %s", j, i, r)
			}
			seen[r] = i
		}
	}
	// All eight keep running while each is driven in turn (or a few at a
	// time, as -parallel allows); each stops at the end of the test.
	t.Run("clients", func(t *testing.T) {
		for i, e := range ups {
			t.Run(fmt.Sprint("instance", i), func(t *testing.T) {
				t.Parallel()
				checkInstance(t, e)
			})
		}
	})
	for _, e := range ups {
		e.stop(t)
	}
}

func checkInstance(t *testing.T, e *ephemeralUp) {
	home := t.TempDir()
	vars := envFileVars(t, e.envFile)
	if vars["STRATUS_DATA_DIR"] != e.info.DataDir || vars["KUBECONFIG"] != e.info.Kubernetes.Kubeconfig {
		t.Fatalf("env file disagrees with --output json: %v", vars)
	}
	for _, k := range []string{"CLOUDSTACK_API_URL", "CLOUDSDK_CORE_PROJECT", "MARATHON_URL", "MARATHON_PASSWORD"} {
		if vars[k] == "" {
			t.Errorf("env file lacks %s: every client's lines belong in it", k)
		}
	}
	// `stratus env` reads the env file too.
	out, err := exec.Command(stratusBinary(t), "env", "--env-file", e.envFile, "kubectl").Output()
	if err != nil || strings.TrimSpace(string(out)) != "export KUBECONFIG="+e.info.Kubernetes.Kubeconfig {
		t.Fatalf("stratus env --env-file: %v %q", err, out)
	}

	// Kubernetes, with kubectl: a NodePort service answers on the cluster
	// IP and on the node address of this instance, from this instance's pod.
	kEnv := map[string]string{"KUBECONFIG": vars["KUBECONFIG"]}
	run(t, kEnv, home, kubectl133, "create", "deployment", "web", "--image=nginx", "--port=80")
	run(t, kEnv, home, kubectl133, "expose", "deployment", "web", "--type=NodePort", "--port=80")
	run(t, kEnv, home, kubectl133, "wait", "--for=condition=Available", "deployment/web", "--timeout=60s")
	ip := run(t, kEnv, home, kubectl133, "get", "service", "web", "-o", "jsonpath={.spec.clusterIP}")
	port := run(t, kEnv, home, kubectl133, "get", "service", "web", "-o", "jsonpath={.spec.ports[0].nodePort}")
	podIP := run(t, kEnv, home, kubectl133, "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].status.podIP}")
	for what, addr := range map[string]string{"cluster IP": ip, "pod IP": podIP} {
		cidr := e.info.Network.ServiceCIDR
		if what == "pod IP" {
			cidr = e.info.Network.PodCIDR
		}
		a, err := netip.ParseAddr(addr)
		if err != nil || !netip.MustParsePrefix(cidr).Contains(a) {
			t.Fatalf("%s %q is not in this instance's %s", what, addr, cidr)
		}
	}
	for _, url := range []string{"http://" + net.JoinHostPort(ip, "80") + "/", "http://" + net.JoinHostPort(e.info.Network.NodeAddress, port) + "/"} {
		pollBody(t, url, "default/web-")
	}

	// CloudStack, with cloudstack-go: a VM deployed here is the only one.
	cs := cloudstack.NewAsyncClient(e.info.CloudStack.URL, e.info.CloudStack.APIKey, e.info.CloudStack.SecretKey, false)
	zones, err := cs.Zone.ListZones(cs.Zone.NewListZonesParams())
	if err != nil || zones.Count == 0 {
		t.Fatalf("cloudstack-go listZones: %v", err)
	}
	sos, err := cs.ServiceOffering.ListServiceOfferings(cs.ServiceOffering.NewListServiceOfferingsParams())
	if err != nil || sos.Count == 0 {
		t.Fatalf("cloudstack-go listServiceOfferings: %v", err)
	}
	tp := cs.Template.NewListTemplatesParams("featured")
	tp.SetZoneid(zones.Zones[0].Id)
	tpls, err := cs.Template.ListTemplates(tp)
	if err != nil || tpls.Count == 0 {
		t.Fatalf("cloudstack-go listTemplates: %v", err)
	}
	if _, err := cs.VirtualMachine.DeployVirtualMachine(cs.VirtualMachine.NewDeployVirtualMachineParams(sos.ServiceOfferings[0].Id, tpls.Templates[0].Id, zones.Zones[0].Id)); err != nil {
		t.Fatalf("cloudstack-go deployVirtualMachine: %v", err)
	}
	vms, err := cs.VirtualMachine.ListVirtualMachines(cs.VirtualMachine.NewListVirtualMachinesParams())
	if err != nil || vms.Count != 1 {
		t.Fatalf("cloudstack-go listVirtualMachines: %v, count %d (want this instance's one)", err, vms.Count)
	}

	// GCE, with Google's compute client: the gateway sees that same VM.
	token, err := os.ReadFile(e.info.GCE.TokenFile)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	svc, err := compute.NewService(ctx, option.WithEndpoint(e.info.GCE.Endpoint),
		option.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: strings.TrimSpace(string(token))})))
	if err != nil {
		t.Fatal(err)
	}
	zl, err := svc.Zones.List(e.info.GCE.Project).Context(ctx).Do()
	if err != nil || len(zl.Items) == 0 {
		t.Fatalf("compute zones.list: %v", err)
	}
	agg, err := svc.Instances.AggregatedList(e.info.GCE.Project).Context(ctx).Do()
	if err != nil {
		t.Fatalf("compute instances.aggregatedList: %v", err)
	}
	count := 0
	for _, s := range agg.Items {
		count += len(s.Instances)
	}
	if count != 1 {
		t.Fatalf("compute instances.aggregatedList: %d instances, want this instance's one", count)
	}
}

// pollBody polls url until its body contains want.
func pollBody(t *testing.T, url, want string) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), want) {
				return
			}
			err = &unexpectedBody{string(b)}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not answer %q: %v", url, want, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type unexpectedBody struct{ body string }

func (u *unexpectedBody) Error() string { return "body " + u.body }
