package multihost

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/stratus-cloud/stratus/internal/runtime/sim"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

var (
	servers = []string{"server1", "server2", "server3"}
	agents  = []string{"agent1", "agent2", "agent3"}
)

// needStratus skips (fails in CI) when the stratus image cannot run the
// cluster: no `stratus server` or `stratus agent` yet, or no image.
func needStratus(t *testing.T, err error) {
	t.Helper()
	testenv.Need(t, false, "the stratus image cannot run `stratus server` and `stratus agent`: "+firstLine(err.Error()))
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// kube returns a Kubernetes client of one server, through its published
// port, with the admin credentials of the kubeconfig the server wrote in
// its data dir (read with `docker exec … stratus env kubectl` and `docker
// cp`).
func kube(t *testing.T, c *cluster, server string) kubernetes.Interface {
	t.Helper()
	id := c.id(server)
	env := c.must(c.run(time.Minute, "docker", "exec", id, "/stratus", "env", "kubectl", "--data-dir", "/data"))
	var path string
	for _, l := range strings.Split(env, "\n") {
		if v, ok := strings.CutPrefix(l, "export KUBECONFIG="); ok {
			path = strings.Trim(v, "'")
		}
	}
	if path == "" {
		t.Fatalf("%s: no KUBECONFIG in %q", server, env)
	}
	raw := readFileFromContainer(t, c, id, path)
	cfg, err := clientcmd.RESTConfigFromKubeConfig(raw)
	if err != nil {
		t.Fatalf("%s kubeconfig: %v", server, err)
	}
	cfg.Host = "https://" + c.addr(server, 6443)
	cfg.Timeout = 5 * time.Second
	// client-go's default (5/s) would pace the writers, not the cluster
	cfg.QPS, cfg.Burst = 25, 25
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// readFileFromContainer reads one file out of a container (docker cp to a
// tar stream: the images have no shell or cat).
func readFileFromContainer(t *testing.T, c *cluster, id, path string) []byte {
	t.Helper()
	cmd := exec.Command("docker", "cp", id+":"+path, "-")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("docker cp %s: %v", path, err)
	}
	tr := tar.NewReader(bytes.NewReader(out))
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("docker cp %s: %v", path, err)
		}
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}

// waitServers waits until every server answers /readyz on its published
// HTTP port.
func waitServers(t *testing.T, c *cluster, names ...string) {
	t.Helper()
	for _, s := range names {
		deadline := time.Now().Add(2 * time.Minute)
		for {
			err := ready("http://" + c.addr(s, 8080) + "/readyz")
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not ready: %v", s, err)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
}

func ready(url string) error {
	hc := http.Client{Timeout: 2 * time.Second}
	resp, err := hc.Get(url)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s %s", url, resp.Status, body)
	}
	return nil
}

// configMapWriter creates ConfigMaps prefix-<i> with data i through cs.
func configMapWriter(cs kubernetes.Interface, prefix string) *writer {
	return startWriter(func(ctx context.Context, i int) error {
		_, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", prefix, i)},
			Data:       map[string]string{"i": strconv.Itoa(i)},
		}, metav1.CreateOptions{})
		return err
	}, 5*time.Second)
}

// checkConfigMaps checks through cs that every acknowledged ConfigMap of
// each writer is there with its data.
func checkConfigMaps(t *testing.T, cs kubernetes.Interface, acked map[string][]int) {
	t.Helper()
	// A server that was just cut off may time a first whole list out while
	// its store client catches up (seen once in two runs after the
	// partition heals): what counts here is that nothing acknowledged is
	// lost, so the list is retried for a minute.
	deadline := time.Now().Add(time.Minute)
	var list *corev1.ConfigMapList
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		l, err := cs.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{})
		cancel()
		if err == nil {
			list = l
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		t.Logf("listing the ConfigMaps: %v; again", err)
		time.Sleep(time.Second)
	}
	have := map[string]string{}
	for _, cm := range list.Items {
		have[cm.Name] = cm.Data["i"]
	}
	total := 0
	for prefix, ids := range acked {
		if len(ids) == 0 {
			t.Errorf("writer %s: nothing acknowledged", prefix)
		}
		for _, i := range ids {
			total++
			if name := fmt.Sprintf("%s-%d", prefix, i); have[name] != strconv.Itoa(i) {
				t.Errorf("acknowledged ConfigMap %s lost (have %q)", name, have[name])
			}
		}
	}
	t.Logf("all %d acknowledged ConfigMaps present", total)
}

func testStratus(t *testing.T, c *cluster) {
	waitServers(t, c, servers...)
	t.Run("ServerStopped", func(t *testing.T) { testServerStopped(t, c) })
	t.Run("EtcdMemberStoppedUnderServers", func(t *testing.T) { testEtcdUnderServers(t, c) })
	t.Run("ServerPartitioned", func(t *testing.T) { testServerPartitioned(t, c) })
	t.Run("AgentStopped", func(t *testing.T) { testAgentStopped(t, c) })
	t.Run("MarathonServerKilled", func(t *testing.T) { testMarathonServerStopped(t, c) })
}

// testServerStopped: clients of server1 and server2 write; server1 stops;
// server2's clients carry on; server3 has every acknowledged object.
func testServerStopped(t *testing.T, c *cluster) {
	w1 := configMapWriter(kube(t, c, "server1"), "stop-s1")
	defer w1.stop()
	w2 := configMapWriter(kube(t, c, "server2"), "stop-s2")
	defer w2.stop()
	w1.waitMore(t, 10, time.Minute, "server1 before the fault")
	w2.waitMore(t, 10, time.Minute, "server2 before the fault")
	stopped := time.Now()
	c.stop("server1")
	w2.waitMore(t, 20, time.Minute, "server2 with server1 stopped")
	// agent1 used server1: its heartbeats go on through another server
	waitLeaseRenewed(t, kube(t, c, "server2"), "agent1", stopped, time.Minute)
	acked := map[string][]int{"stop-s1": w1.stop(), "stop-s2": w2.stop()}
	c.start("server1")
	waitServers(t, c, "server1")
	checkConfigMaps(t, kube(t, c, "server3"), acked)
	checkConfigMaps(t, kube(t, c, "server1"), acked)
}

// waitLeaseRenewed waits until node's lease is renewed after since (twice,
// so that one renewal in flight at the fault does not count).
func waitLeaseRenewed(t *testing.T, cs kubernetes.Interface, node string, since time.Time, timeout time.Duration) {
	t.Helper()
	until := time.Now().Add(timeout)
	var renewals []time.Time
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		l, err := cs.CoordinationV1().Leases("kube-node-lease").Get(ctx, node, metav1.GetOptions{})
		cancel()
		if err == nil && l.Spec.RenewTime != nil {
			r := l.Spec.RenewTime.Time
			if r.After(since) && (len(renewals) == 0 || r.After(renewals[len(renewals)-1])) {
				renewals = append(renewals, r)
			}
		}
		if len(renewals) >= 2 {
			t.Logf("%s: lease renewed at %v after the fault", node, renewals)
			return
		}
		if time.Now().After(until) {
			t.Fatalf("%s: lease not renewed twice within %v of the fault (renewals %v, last err %v)", node, timeout, renewals, err)
		}
		time.Sleep(time.Second)
	}
}

// testEtcdUnderServers: an etcd member (the leader) stops while a server
// takes writes; the server carries on.
func testEtcdUnderServers(t *testing.T, c *cluster) {
	leader := etcdLeader(t, c, time.Minute)
	w := configMapWriter(kube(t, c, "server2"), "etcd")
	defer w.stop()
	w.waitMore(t, 10, time.Minute, "before the fault")
	c.stop(leader)
	w.waitMore(t, 20, time.Minute, "etcd leader "+leader+" stopped")
	c.start(leader)
	etcdLeader(t, c, time.Minute)
	w.waitMore(t, 5, time.Minute, leader+" back")
	checkConfigMaps(t, kube(t, c, "server3"), map[string][]int{"etcd": w.stop()})
}

// testServerPartitioned: server3's host is cut off while server1 takes
// writes; agent3, which used server3, carries on through another; once
// healed, server3 serves every acknowledged object.
func testServerPartitioned(t *testing.T, c *cluster) {
	w := configMapWriter(kube(t, c, "server1"), "part")
	defer w.stop()
	w.waitMore(t, 10, time.Minute, "before the partition")
	cut := time.Now()
	c.partition("server3")
	w.waitMore(t, 20, time.Minute, "server3 cut off")
	// agent3 used server3: its connections there hang rather than fail,
	// and its heartbeats go on through another server all the same
	waitLeaseRenewed(t, kube(t, c, "server1"), "agent3", cut, time.Minute)
	c.heal("server3")
	w.waitMore(t, 5, time.Minute, "healed")
	acked := w.stop()
	waitServers(t, c, "server3")
	// server3's etcd client may need a moment to reconnect: wait until it
	// lists again (a subtest that failed meanwhile would fail the test).
	cs := kube(t, c, "server3")
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := cs.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{Limit: 1})
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server3 still not answering a minute after the partition healed: %v", err)
		}
		t.Logf("server3 not answering yet: %v", err)
		time.Sleep(time.Second)
	}
	checkConfigMaps(t, cs, map[string][]int{"part": acked})
}

// testAgentStopped: a Deployment's pods run on the agents; one agent's host
// stops; its node goes NotReady and its pods are replaced on the others.
func testAgentStopped(t *testing.T, c *cluster) {
	cs := kube(t, c, "server1")
	ctx := context.Background()
	deadline := func(d time.Duration) time.Time { return time.Now().Add(d) }
	until := deadline(2 * time.Minute)
	for {
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err == nil && readyNodes(nodes.Items, agents) == len(agents) {
			break
		}
		if time.Now().After(until) {
			t.Fatalf("agents not all Ready: %v", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	checkJoinedWithBootstrapToken(t, c, cs)
	const replicas = 6
	labels := map[string]string{"app": "mh-web"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "mh-web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(replicas)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{sim.AnnotationOutput: "hello from mh-web"}},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: "web", Image: "nginx"}},
					// leave a lost node after 5 s, not the default 300 s
					Tolerations: []corev1.Toleration{
						{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To(int64(5))},
						{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To(int64(5))},
					},
				},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	byNode := waitPods(t, cs, replicas, "", 2*time.Minute)
	victim := ""
	for _, a := range agents {
		if len(byNode[a]) > 0 {
			victim = a
			break
		}
	}
	if victim == "" {
		t.Fatalf("no agent runs a pod: %v", byNode)
	}
	t.Logf("pods by node %v; stopping %s", counts(byNode), victim)
	w := configMapWriter(cs, "agent")
	defer w.stop()
	w.waitMore(t, 10, time.Minute, "before the fault")
	t0 := time.Now()
	c.stop(victim)
	waitNodeNotReady(t, cs, victim, 2*time.Minute)
	t.Logf("%s NotReady after %v", victim, time.Since(t0).Round(time.Second))
	byNode = waitPods(t, cs, replicas, victim, 3*time.Minute)
	t.Logf("pods moved off %s in %v: %v", victim, time.Since(t0).Round(time.Second), counts(byNode))
	w.waitMore(t, 5, time.Minute, victim+" stopped")
	// the logs of every pod, whichever agent runs it, through another server
	checkLogs(t, kube(t, c, "server2"), byNode)
	c.start(victim)
	checkConfigMaps(t, kube(t, c, "server3"), map[string][]int{"agent": w.stop()})
	until = deadline(2 * time.Minute)
	for {
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err == nil && readyNodes(nodes.Items, []string{victim}) == 1 {
			t.Logf("%s Ready again", victim)
			return
		}
		if time.Now().After(until) {
			t.Fatalf("%s not Ready again after its start: %v", victim, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// checkLogs reads every pod's log through cs: the API server reaches the
// agent that runs the pod on its host.
func checkLogs(t *testing.T, cs kubernetes.Interface, byNode map[string][]string) {
	t.Helper()
	for node, pods := range byNode {
		for _, pod := range pods {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			b, err := cs.CoreV1().Pods("default").GetLogs(pod, &corev1.PodLogOptions{}).DoRaw(ctx)
			cancel()
			if err != nil || !strings.Contains(string(b), "hello from mh-web") {
				t.Errorf("logs of %s on %s: %q, %v", pod, node, b, err)
			}
		}
	}
}

// waitNodeNotReady waits until the node's Ready condition is not True.
func waitNodeNotReady(t *testing.T, cs kubernetes.Interface, node string, timeout time.Duration) {
	t.Helper()
	until := time.Now().Add(timeout)
	for {
		nodes, err := cs.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
		if err == nil && readyNodes(nodes.Items, []string{node}) == 0 {
			return
		}
		if time.Now().After(until) {
			t.Fatalf("%s still Ready %v after it stopped (err %v)", node, timeout, err)
		}
		time.Sleep(time.Second)
	}
}

// waitPods waits until want pods of mh-web run, none on avoid, and returns
// them by node.
func waitPods(t *testing.T, cs kubernetes.Interface, want int, avoid string, timeout time.Duration) map[string][]string {
	t.Helper()
	until := time.Now().Add(timeout)
	for {
		pods, err := cs.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{LabelSelector: "app=mh-web"})
		byNode := map[string][]string{}
		running := 0
		if err == nil {
			for _, p := range pods.Items {
				if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil && p.Spec.NodeName != avoid {
					running++
					byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p.Name)
				}
			}
		}
		if running >= want {
			return byNode
		}
		if time.Now().After(until) {
			t.Fatalf("%d of %d pods running off %q after %v (err %v): %v", running, want, avoid, timeout, err, counts(byNode))
		}
		time.Sleep(time.Second)
	}
}

func counts(m map[string][]string) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = len(v)
	}
	return out
}

func readyNodes(nodes []corev1.Node, names []string) int {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	n := 0
	for _, node := range nodes {
		for _, cond := range node.Status.Conditions {
			if want[node.Name] && cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				n++
			}
		}
	}
	return n
}

// checkJoinedWithBootstrapToken: every agent exchanged the cluster's
// bootstrap token for its node's own certificate, through an approved and
// issued CSR requested as system:bootstrap:<token id>.
func checkJoinedWithBootstrapToken(t *testing.T, c *cluster, cs kubernetes.Interface) {
	var id string
	for _, e := range c.env {
		if tok, ok := strings.CutPrefix(e, "STRATUS_TOKEN="); ok {
			id, _, _ = strings.Cut(tok, ".")
		}
	}
	csrs, err := cs.CertificatesV1().CertificateSigningRequests().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	issued := 0
	for _, csr := range csrs.Items {
		if csr.Spec.Username == "system:bootstrap:"+id && len(csr.Status.Certificate) > 0 {
			issued++
		}
	}
	if issued < len(agents) {
		t.Errorf("%d of %d CSRs issued to bootstrap token %q, want one per agent (%d)", issued, len(csrs.Items), id, len(agents))
	}
}
