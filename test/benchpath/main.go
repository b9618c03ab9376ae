// Command benchpath measures stratus on the product path: it starts the
// built binary as a user does (`stratus up`, bolt store by default, a fresh
// data dir), drives it over HTTPS with kubectl and client-go, and reports
// wall time beside the server's CPU-seconds (user+sys from /proc) and its
// memory (RSS, peak RSS), so figures stay comparable on a shared machine.
//
// The scenarios are the targets of the project's design (DESIGN.md):
//
//	scale  `up --sim-nodes 100`; one `kubectl scale rc --replicas=10000`
//	       (-kind deployment: a Deployment) until it reports every pod Ready; the
//	       server's RSS after; then a scale to 0 until every pod is gone.
//	nodes  `up --sim-nodes 5000` until every node is Ready.
//
// With -profile-dir it takes the server's CPU profile during the scale up
// and a heap profile once the pods are Ready (from the admin API's
// debug/pprof), for `go tool pprof`.
//
//	go run ./test/benchpath -runs 3                       # both scenarios
//	go run ./test/benchpath -scenario scale -profile-dir /tmp/prof
//
// In-process benchmarks (internal/kube/controller/e2e) stay the tool for
// profiling one part; this one is the judge of the targets.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
)

type config struct {
	stratus     string
	kubectl     string
	store       string
	scenario    string
	kind        string
	runs        int
	nodes       int
	pods        int
	bigNodes    int
	profileDir  string
	profileSecs int
	timeout     time.Duration
	keep        bool
}

func main() {
	var c config
	flag.StringVar(&c.stratus, "stratus", "", "stratus binary (default: go build ./cmd/stratus into a temporary dir)")
	flag.StringVar(&c.kubectl, "kubectl", "kubectl", "kubectl binary for the scaling (empty: scale with client-go)")
	flag.StringVar(&c.store, "store", "bolt", "the server's --store")
	flag.StringVar(&c.scenario, "scenario", "all", "scale, nodes or all")
	flag.StringVar(&c.kind, "kind", "rc", "what the scale scenario scales: rc or deployment")
	flag.IntVar(&c.runs, "runs", 3, "runs of each scenario (the machine may be shared: take several)")
	flag.IntVar(&c.nodes, "nodes", 100, "sim nodes of the scale scenario")
	flag.IntVar(&c.pods, "pods", 10000, "replicas of the scale scenario")
	flag.IntVar(&c.bigNodes, "big-nodes", 5000, "sim nodes of the nodes scenario")
	flag.StringVar(&c.profileDir, "profile-dir", "", "write the server's CPU (scale up) and heap (after) profiles here")
	flag.IntVar(&c.profileSecs, "profile-seconds", 10, "length of the CPU profile taken from the start of the scale up")
	flag.DurationVar(&c.timeout, "timeout", 5*time.Minute, "give up on a phase after this long")
	flag.BoolVar(&c.keep, "keep", false, "keep each run's data dir (store file, stratus.log)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "benchpath:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	if c.stratus == "" {
		dir, err := os.MkdirTemp("", "benchpath-bin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		c.stratus = filepath.Join(dir, "stratus")
		fmt.Fprintln(os.Stderr, "building", c.stratus)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", c.stratus, "./cmd/stratus")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build (run from the repository root): %w", err)
		}
	}
	if c.kind != "rc" && c.kind != "deployment" {
		return fmt.Errorf("-kind %q: want rc or deployment", c.kind)
	}
	if c.kubectl != "" {
		if p, err := exec.LookPath(c.kubectl); err == nil {
			c.kubectl = p
		} else {
			fmt.Fprintf(os.Stderr, "no %s on PATH: scaling with client-go\n", c.kubectl)
			c.kubectl = ""
		}
	}
	if c.profileDir != "" {
		if err := os.MkdirAll(c.profileDir, 0o755); err != nil {
			return err
		}
	}
	var results []result
	for i := 1; i <= c.runs; i++ {
		if c.scenario == "all" || c.scenario == "scale" {
			r, err := scaleRun(ctx, c, i)
			if err != nil {
				return fmt.Errorf("scale run %d: %w", i, err)
			}
			results = append(results, r...)
		}
		if (c.scenario == "all" || c.scenario == "nodes") && c.bigNodes > 0 {
			r, err := nodesRun(ctx, c, i)
			if err != nil {
				return fmt.Errorf("nodes run %d: %w", i, err)
			}
			results = append(results, r)
		}
	}
	summarise(os.Stdout, results)
	return nil
}

// result is one measured phase of one run.
type result struct {
	phase   string
	wall    time.Duration
	cpu     float64 // server CPU-seconds in the phase
	rssMB   float64 // server RSS at the end of the phase
	hwmMB   float64 // server peak RSS so far
	revs    int64   // store revisions the phase wrote
	perUnit int     // pods or nodes, for revisions per unit
}

func (r result) String() string {
	s := fmt.Sprintf("%-22s wall %6.2f s  cpu %6.2f s  rss %6.0f MB  peak %6.0f MB", r.phase, r.wall.Seconds(), r.cpu, r.rssMB, r.hwmMB)
	if r.revs > 0 && r.perUnit > 0 {
		s += fmt.Sprintf("  writes %d (%.2f each)", r.revs, float64(r.revs)/float64(r.perUnit))
	}
	return s
}

func summarise(w io.Writer, rs []result) {
	byPhase := map[string][]result{}
	var order []string
	for _, r := range rs {
		if _, ok := byPhase[r.phase]; !ok {
			order = append(order, r.phase)
		}
		byPhase[r.phase] = append(byPhase[r.phase], r)
	}
	fmt.Fprintln(w, "\nsummary (min / median / max over runs):")
	for _, p := range order {
		l := byPhase[p]
		f := func(get func(result) float64) string {
			v := make([]float64, len(l))
			for i, r := range l {
				v[i] = get(r)
			}
			slices.Sort(v)
			med := v[len(v)/2]
			if len(v)%2 == 0 {
				med = (v[len(v)/2-1] + v[len(v)/2]) / 2
			}
			return fmt.Sprintf("%.2f / %.2f / %.2f", v[0], med, v[len(v)-1])
		}
		fmt.Fprintf(w, "%-22s wall s %s | cpu s %s | rss MB %s | peak MB %s\n", p,
			f(func(r result) float64 { return r.wall.Seconds() }), f(func(r result) float64 { return r.cpu }),
			f(func(r result) float64 { return r.rssMB }), f(func(r result) float64 { return r.hwmMB }))
	}
}

// server is one `stratus up` process.
type server struct {
	cmd     *exec.Cmd
	dir     string
	info    upInfo
	started time.Time
	ready   time.Duration // exec to the JSON line (printed once up)
	kube    *kubernetes.Clientset
	token   string
	keep    bool
}

// upInfo is the part of `up --output json` the harness reads.
type upInfo struct {
	PID        int    `json:"pid"`
	HTTPURL    string `json:"httpURL"`
	Kubernetes struct {
		Kubeconfig string `json:"kubeconfig"`
	} `json:"kubernetes"`
}

// startServer runs `stratus up` in a fresh data dir on free ports
// (--ephemeral, with the store given) and waits for its JSON line.
func startServer(ctx context.Context, c config, simNodes int) (*server, error) {
	dir, err := os.MkdirTemp("", "benchpath-data-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, keep: c.keep}
	args := []string{"up", "--ephemeral", "--store", c.store, "--data-dir", dir, "--runtime", "sim",
		"--sim-nodes", strconv.Itoa(simNodes), "--output", "json"}
	s.cmd = exec.Command(c.stratus, args...)
	s.cmd.Env = append(os.Environ(), "HOME="+dir)
	logf, err := os.Create(filepath.Join(dir, "stratus.log"))
	if err != nil {
		return nil, err
	}
	s.cmd.Stderr = logf
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s.started = time.Now()
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case l, ok := <-line:
		if !ok {
			s.stop()
			return nil, fmt.Errorf("stratus up exited before it was up; see %s/stratus.log", dir)
		}
		s.ready = time.Since(s.started)
		if err := json.Unmarshal([]byte(l), &s.info); err != nil {
			s.stop()
			return nil, fmt.Errorf("up's JSON line %q: %w", l, err)
		}
	case <-time.After(c.timeout):
		s.stop()
		return nil, errors.New("stratus up not up in time")
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
	if s.info.PID == 0 {
		s.info.PID = s.cmd.Process.Pid
	}
	rc, err := clientcmd.BuildConfigFromFlags("", s.info.Kubernetes.Kubeconfig)
	if err != nil {
		s.stop()
		return nil, err
	}
	rc.QPS, rc.Burst = 1000, 2000
	if s.kube, err = kubernetes.NewForConfig(rc); err != nil {
		s.stop()
		return nil, err
	}
	tok, err := os.ReadFile(filepath.Join(dir, "admin-token"))
	if err == nil {
		s.token = strings.TrimSpace(string(tok))
	}
	return s, nil
}

func (s *server) stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Kill()
			<-done
		}
	}
	if s.keep {
		fmt.Fprintln(os.Stderr, "kept", s.dir)
		return
	}
	_ = os.RemoveAll(s.dir)
}

// sample is the server's counters at one moment.
type sample struct {
	at         time.Time
	cpu        float64
	rssMB, hwm float64
	rev        int64
}

func (s *server) sample() sample {
	sm := sample{at: time.Now()}
	sm.cpu = procCPU(s.info.PID)
	sm.rssMB = procStatusMB(s.info.PID, "VmRSS:")
	sm.hwm = procStatusMB(s.info.PID, "VmHWM:")
	sm.rev = s.revision()
	return sm
}

func phase(name string, a, b sample, units int) result {
	return result{phase: name, wall: b.at.Sub(a.at), cpu: b.cpu - a.cpu, rssMB: b.rssMB, hwmMB: b.hwm, revs: b.rev - a.rev, perUnit: units}
}

// revision scrapes stratus_store_revision from /metrics (-1 if absent).
func (s *server) revision() int64 {
	resp, err := http.Get(s.info.HTTPURL + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "stratus_store_revision "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int64(f)
		}
	}
	return -1
}

// profile saves the admin API's profile name (query q) to path.
func (s *server) profile(name, q, path string) error {
	req, err := http.NewRequest("GET", s.info.HTTPURL+"/stratus/v1/debug/pprof/"+name+q, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("profile %s: %s: %s", name, resp.Status, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

const ns = "bench"

func scaleRun(ctx context.Context, c config, run int) ([]result, error) {
	s, err := startServer(ctx, c, c.nodes)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	ctx, cancel := context.WithTimeout(ctx, 3*c.timeout)
	defer cancel()
	fmt.Fprintf(os.Stderr, "run %d: up after %.2f s; waiting for %d nodes\n", run, s.ready.Seconds(), c.nodes)
	if _, err := waitNodesReady(ctx, s, c.nodes); err != nil {
		return nil, err
	}
	if _, err := s.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	if err := createWorkload(ctx, c.kind, s); err != nil {
		return nil, err
	}
	time.Sleep(time.Second) // let start-up's own work (leases, status) settle

	var profWG sync.WaitGroup
	profErr := make(chan error, 1)
	a := s.sample()
	if c.profileDir != "" {
		profWG.Add(1)
		go func() {
			defer profWG.Done()
			profErr <- s.profile("profile", "?seconds="+strconv.Itoa(c.profileSecs),
				filepath.Join(c.profileDir, fmt.Sprintf("scale-cpu-%d.pprof", run)))
		}()
	}
	if err := scale(ctx, c, s, int32(c.pods)); err != nil {
		return nil, err
	}
	if err := waitReady(ctx, c.kind, s, int32(c.pods)); err != nil {
		return nil, fmt.Errorf("scale to %d: %w", c.pods, err)
	}
	b := s.sample()
	up := phase(fmt.Sprintf("scale-up %d pods", c.pods), a, b, c.pods)
	fmt.Fprintf(os.Stderr, "run %d: %v\n", run, up)
	if c.profileDir != "" {
		if err := s.profile("heap", "?gc=1", filepath.Join(c.profileDir, fmt.Sprintf("scale-heap-%d.pprof", run))); err != nil {
			return nil, err
		}
		profWG.Wait()
		if err := <-profErr; err != nil {
			return nil, err
		}
	}

	a = s.sample()
	if err := scale(ctx, c, s, 0); err != nil {
		return nil, err
	}
	if err := waitPodsGone(ctx, s); err != nil {
		return nil, fmt.Errorf("scale to 0: %w", err)
	}
	b = s.sample()
	down := phase("scale-down to 0", a, b, c.pods)
	fmt.Fprintf(os.Stderr, "run %d: %v\n", run, down)
	return []result{up, down}, nil
}

// scale sets the RC's replicas with `kubectl scale`, as a user would, or
// through the scale subresource with client-go.
func scale(ctx context.Context, c config, s *server, n int32) error {
	if c.kubectl != "" {
		cmd := exec.CommandContext(ctx, c.kubectl, "scale", c.kind, "bench", "-n", ns, "--replicas="+strconv.Itoa(int(n)))
		cmd.Env = append(os.Environ(), "KUBECONFIG="+s.info.Kubernetes.Kubeconfig)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("kubectl scale: %v: %s", err, out)
		}
		return nil
	}
	if c.kind == "deployment" {
		sc, err := s.kube.AppsV1().Deployments(ns).GetScale(ctx, "bench", metav1.GetOptions{})
		if err != nil {
			return err
		}
		sc.Spec.Replicas = n
		_, err = s.kube.AppsV1().Deployments(ns).UpdateScale(ctx, "bench", sc, metav1.UpdateOptions{})
		return err
	}
	sc, err := s.kube.CoreV1().ReplicationControllers(ns).GetScale(ctx, "bench", metav1.GetOptions{})
	if err != nil {
		return err
	}
	sc.Spec.Replicas = n
	_, err = s.kube.CoreV1().ReplicationControllers(ns).UpdateScale(ctx, "bench", sc, metav1.UpdateOptions{})
	return err
}

// createWorkload makes the workload "bench" (rc or deployment) with no
// replicas, pods of one pause container.
func createWorkload(ctx context.Context, kind string, s *server) error {
	labels := map[string]string{"app": "bench"}
	tmpl := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "pause", Image: "registry.k8s.io/pause:3.10"}}},
	}
	meta := metav1.ObjectMeta{Name: "bench"}
	if kind == "deployment" {
		_, err := s.kube.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{ObjectMeta: meta,
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](0), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl}},
			metav1.CreateOptions{})
		return err
	}
	_, err := s.kube.CoreV1().ReplicationControllers(ns).Create(ctx, &corev1.ReplicationController{ObjectMeta: meta,
		Spec: corev1.ReplicationControllerSpec{Replicas: ptr.To[int32](0), Selector: labels, Template: &tmpl}},
		metav1.CreateOptions{})
	return err
}

// poll is how often the harness looks; its own cost on the server is one
// small GET per look.
const poll = 25 * time.Millisecond

// waitReady polls the workload's status until it reports n Ready
// replicas (an rc's or deployment's readyReplicas).
func waitReady(ctx context.Context, kind string, s *server, n int32) error {
	for {
		var ready int32
		if kind == "deployment" {
			d, err := s.kube.AppsV1().Deployments(ns).Get(ctx, "bench", metav1.GetOptions{})
			if err != nil {
				return err
			}
			ready = d.Status.ReadyReplicas
		} else {
			rc, err := s.kube.CoreV1().ReplicationControllers(ns).Get(ctx, "bench", metav1.GetOptions{})
			if err != nil {
				return err
			}
			ready = rc.Status.ReadyReplicas
		}
		if ready == n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d Ready: %w", ready, n, ctx.Err())
		case <-time.After(poll):
		}
	}
}

// waitPodsGone waits until the namespace lists no pod (one-item pages, so
// each look is cheap).
func waitPodsGone(ctx context.Context, s *server) error {
	for {
		l, err := s.kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{Limit: 1})
		if err != nil {
			return err
		}
		if len(l.Items) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			left := int64(1)
			if l.RemainingItemCount != nil {
				left += *l.RemainingItemCount
			}
			return fmt.Errorf("%d pods left: %w", left, ctx.Err())
		case <-time.After(poll):
		}
	}
}

// waitNodesReady lists nodes, then watches them from the list's version,
// until at least n are Ready, and returns when that happened. (Not an
// informer: client-go's informers now start with a watch-list request,
// which is not what a plain list+watch client measures.)
func waitNodesReady(ctx context.Context, s *server, n int) (time.Time, error) {
	ready := map[string]bool{}
	count := 0
	update := func(node *corev1.Node) bool {
		r := false
		for _, cnd := range node.Status.Conditions {
			if cnd.Type == corev1.NodeReady && cnd.Status == corev1.ConditionTrue {
				r = true
			}
		}
		if r != ready[node.Name] {
			ready[node.Name] = r
			if r {
				count++
			} else {
				count--
			}
		}
		return count >= n
	}
	l, err := s.kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return time.Time{}, err
	}
	for i := range l.Items {
		if update(&l.Items[i]) {
			return time.Now(), nil
		}
	}
	rv := l.ResourceVersion
	for {
		w, err := s.kube.CoreV1().Nodes().Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
		if err != nil {
			return time.Time{}, fmt.Errorf("%d of %d nodes Ready: %w", count, n, err)
		}
		for ev := range w.ResultChan() {
			node, ok := ev.Object.(*corev1.Node)
			if !ok {
				continue
			}
			rv = node.ResourceVersion
			if ev.Type == watch.Bookmark {
				continue
			}
			if ev.Type == watch.Deleted {
				if ready[node.Name] {
					count--
				}
				delete(ready, node.Name)
				continue
			}
			if update(node) {
				w.Stop()
				return time.Now(), nil
			}
		}
		w.Stop()
		if err := ctx.Err(); err != nil {
			return time.Time{}, fmt.Errorf("%d of %d nodes Ready: %w", count, n, err)
		}
	}
}

func nodesRun(ctx context.Context, c config, run int) (result, error) {
	s, err := startServer(ctx, c, c.bigNodes)
	if err != nil {
		return result{}, err
	}
	defer s.stop()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	at, err := waitNodesReady(ctx, s, c.bigNodes)
	if err != nil {
		return result{}, err
	}
	a := sample{at: s.started}
	b := s.sample()
	b.at = at
	r := phase(fmt.Sprintf("up %d nodes Ready", c.bigNodes), a, b, c.bigNodes)
	fmt.Fprintf(os.Stderr, "run %d: %v (up printed its line after %.2f s)\n", run, r, s.ready.Seconds())
	return r, nil
}

// procCPU is the process's user+sys CPU-seconds (/proc/PID/stat).
func procCPU(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / clockTicks
}

// clockTicks is Linux's USER_HZ, 100 on every architecture Go supports.
const clockTicks = 100

// procStatusMB reads a kB field of /proc/PID/status, in MB.
func procStatusMB(pid int, field string) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(f), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}
