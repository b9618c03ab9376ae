package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/cloudstack-go/v2/cloudstack"
	"github.com/go-logr/logr"
	"golang.org/x/oauth2"
	compute "google.golang.org/api/compute/v1"
	"google.golang.org/api/option"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
	crclient "sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/backend"
	"github.com/stratus-cloud/stratus/internal/store/bolt"
)

// TestSoak compresses a busy day of churn into minutes against `stratus up`
// as a user starts it (built binary, default bolt store, fresh data dir),
// with the expiry intervals scaled down, and checks that nothing grows:
//
//   - CloudStack: VM deploy/destroy cycles through the CloudStack Go SDK
//     (destroyed VMs are expunged by the expunge sweep, jobs and events
//     expire);
//   - GCE: instance insert/delete through Google's Go client;
//   - Kubernetes: 10 Deployments scaled up and down on simulated nodes,
//     and a controller-runtime controller updating ConfigMaps all along;
//     Events expire by --event-ttl, history by the compactor;
//   - a probe reading each API every 50 ms, for latency.
//
// What an expiry removes (Kubernetes Events, CloudStack jobs, events,
// destroyed VMs and expunged ids, GCE operations) is bounded by its
// lifetime times the churn rate, and the rate follows the shared machine's
// load. So those are checked by age (every live Event younger than
// --event-ttl plus slack; Events are counted with a limit=1 list's
// remainingItemCount), and the flatness checks hold the rest: after a
// warm-up, the peak of the other store keys and of goroutines in the last
// quarter must be within 10 % of the third quarter's; server RSS, the live
// heap after a collection (bytes and objects, from the admin API's heap
// profile) and the file size within 10 %, or within the growth of the
// rate-bounded records' peak when the last quarter was busier. No client
// call may fail, and the probe's p99 over the last minute must be within
// 20 % of its first minute after the warm-up (or under 20 ms, below which
// a shared 2-core machine's noise dominates).
//
// It runs only with STRATUS_SOAK=1; STRATUS_SOAK_DURATION (default 6m) sets
// the length; STRATUS_SOAK_PROFILES=DIR keeps a heap profile a minute there
// (compare two with go tool pprof -base). It prints the figures it measured.
//
// The live heap rises for the first ~3.5 minutes of this churn and is flat
// after: bounded caches fill (each watch cache's ring of 4,096 events with
// their decoded objects and encoded frames, the slowest being ConfigMaps';
// client-go's event correlators' 4,096-entry LRUs; the registry's cache of
// encoded objects). So the run is 6 minutes by default: a shorter one
// compares a filling third quarter with a full last one.
func TestSoak(t *testing.T) {
	if os.Getenv("STRATUS_SOAK") == "" {
		t.Skip("soak test: set STRATUS_SOAK=1 (and STRATUS_SOAK_DURATION, default 6m)")
	}
	dur := 6 * time.Minute
	if s := os.Getenv("STRATUS_SOAK_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		dur = d
	}
	warm := dur / 8
	dir := t.TempDir()
	dcFile := filepath.Join(dir, "dc.yaml")
	example, err := exec.Command(stratusBinary(t), "datacenter", "example").Output()
	if err != nil {
		t.Fatal(err)
	}
	// Scaled-down CloudStack expiry, set through the data center file.
	dc := strings.Replace(string(example), "simulator:\n",
		"simulator:\n  expiry: {jobs: 15s, jobSweepInterval: 2s, events: 20s, eventPurgeInterval: 5s, expungeDelay: 3s, expungeInterval: 3s}\n", 1)
	if dc == string(example) {
		t.Fatal("no simulator section in the example data center")
	}
	if err := os.WriteFile(dcFile, []byte(dc), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	up := startUp(t, data, "--runtime", "sim", "--sim-nodes", "5", "--datacenter", dcFile,
		"--event-ttl", "20s", "--compaction-interval", "10s", "--gce-operation-ttl", "15s", "--log-level", "warn")
	up.waitReady(t, 60*time.Second)
	stopped := false
	defer func() {
		if !stopped {
			up.stop(t)
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var (
		errMu  sync.Mutex
		errs   []string
		counts = map[string]*atomic.Int64{"vm cycles": {}, "gce cycles": {}, "deployment scalings": {}, "configmap updates": {}}
	)
	fail := func(what string, err error) {
		if ctx.Err() != nil {
			return // the run ended mid-call
		}
		errMu.Lock()
		defer errMu.Unlock()
		if len(errs) < 20 {
			errs = append(errs, fmt.Sprintf("%s: %v", what, err))
		}
	}
	var wg sync.WaitGroup
	goLoop := func(name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := f(); err != nil {
					fail(name, err)
					select {
					case <-ctx.Done():
					case <-time.After(100 * time.Millisecond):
					}
				}
			}
		}()
	}

	// CloudStack: two SDK clients deploying and destroying VMs.
	csVars := env(t, data, "cloudstack")
	cs := cloudstack.NewAsyncClient(csVars["CLOUDSTACK_API_URL"], csVars["CLOUDSTACK_API_KEY"], csVars["CLOUDSTACK_SECRET_KEY"], false)
	zones, err := cs.Zone.ListZones(cs.Zone.NewListZonesParams())
	if err != nil {
		t.Fatal(err)
	}
	var zone string
	for _, z := range zones.Zones {
		if z.Networktype == "Basic" {
			zone = z.Id
		}
	}
	offering, _, err := cs.ServiceOffering.GetServiceOfferingID("Micro")
	if err != nil {
		t.Fatal(err)
	}
	template, _, err := cs.Template.GetTemplateID("Debian 12", "executable", zone)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		goLoop("cloudstack", func() error {
			vm, err := cs.VirtualMachine.DeployVirtualMachine(cs.VirtualMachine.NewDeployVirtualMachineParams(offering, template, zone))
			if err != nil {
				return err
			}
			if _, err := cs.VirtualMachine.DestroyVirtualMachine(cs.VirtualMachine.NewDestroyVirtualMachineParams(vm.Id)); err != nil {
				return err
			}
			counts["vm cycles"].Add(1)
			return nil
		})
	}

	// GCE: Google's client inserting and deleting an instance.
	gv := env(t, data, "gcloud")
	tok, err := os.ReadFile(gv["CLOUDSDK_AUTH_ACCESS_TOKEN_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	svc, err := compute.NewService(context.Background(), option.WithEndpoint(gv["CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE"]),
		option.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: strings.TrimSpace(string(tok))})))
	if err != nil {
		t.Fatal(err)
	}
	project, gzone := gv["CLOUDSDK_CORE_PROJECT"], gv["CLOUDSDK_COMPUTE_ZONE"]
	var gseq atomic.Int64
	goLoop("gce", func() error {
		name := fmt.Sprintf("soak-%d", gseq.Add(1))
		op, err := svc.Instances.Insert(project, gzone, &compute.Instance{Name: name, MachineType: "zones/" + gzone + "/machineTypes/n1-standard-1",
			Disks: []*compute.AttachedDisk{{Boot: true, AutoDelete: true, InitializeParams: &compute.AttachedDiskInitializeParams{
				SourceImage: "projects/debian-cloud/global/images/family/debian-12"}}}}).Context(ctx).Do()
		if err != nil {
			return err
		}
		if err := gceWait(ctx, svc, project, gzone, op); err != nil {
			return err
		}
		op, err = svc.Instances.Delete(project, gzone, name).Context(ctx).Do()
		if err != nil {
			return err
		}
		if err := gceWait(ctx, svc, project, gzone, op); err != nil {
			return err
		}
		counts["gce cycles"].Add(1)
		return nil
	})

	// Kubernetes: Deployments scaling between 0 and 15 pods.
	cfg, err := clientcmd.BuildConfigFromFlags("", env(t, data, "kubectl")["KUBECONFIG"])
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = -1, -1
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const deployments, replicas = 10, 15
	for i := range deployments {
		name := fmt.Sprintf("soak-%d", i)
		labels := map[string]string{"app": name}
		_, err := kc.AppsV1().Deployments("default").Create(context.Background(), &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](0), Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		up := true
		goLoop("kubernetes", func() error {
			n := int32(0)
			if up {
				n = replicas
			}
			up = !up
			if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
				s, err := kc.AppsV1().Deployments("default").GetScale(ctx, name, metav1.GetOptions{})
				if err != nil {
					return err
				}
				s.Spec.Replicas = n
				_, err = kc.AppsV1().Deployments("default").UpdateScale(ctx, name, s, metav1.UpdateOptions{})
				return err
			}); err != nil {
				return err
			}
			for ctx.Err() == nil {
				d, err := kc.AppsV1().Deployments("default").Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					return err
				}
				if d.Status.ObservedGeneration >= d.Generation && d.Status.Replicas == n && d.Status.ReadyReplicas == n {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			counts["deployment scalings"].Add(1)
			return nil
		})
	}

	// A controller-runtime controller: its manager's cache holds the
	// labelled ConfigMaps, and its reconciler bumps each one every 100 ms
	// all along (requeued by time, not by its own writes).
	for i := range 20 {
		if _, err := kc.CoreV1().ConfigMaps("default").Create(context.Background(), &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("soak-%d", i), Labels: map[string]string{"soak": "yes"}}, Data: map[string]string{"n": "0"},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	startConfigMapController(ctx, t, cfg, counts["configmap updates"], fail, &wg)

	// The probe: one cheap read of each API every 50 ms.
	type lat struct {
		at time.Duration
		d  time.Duration
	}
	var (
		latMu sync.Mutex
		lats  []lat
	)
	start := time.Now()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			for _, f := range []func() error{
				func() error {
					_, err := cs.Zone.ListZones(cs.Zone.NewListZonesParams())
					return err
				},
				func() error { _, err := svc.Zones.Get(project, gzone).Context(ctx).Do(); return err },
				func() error {
					_, err := kc.CoreV1().ConfigMaps("default").Get(ctx, "soak-0", metav1.GetOptions{})
					return err
				},
			} {
				t0 := time.Now()
				if err := f(); err != nil {
					fail("probe", err)
					continue
				}
				latMu.Lock()
				lats = append(lats, lat{at: t0.Sub(start), d: time.Since(t0)})
				latMu.Unlock()
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()

	// Samples of what must stay flat.
	type sample struct {
		at                         time.Duration
		rss                        float64
		keys, file, jobs, evs, vms float64
		ops, history               float64
		// kevs is the Kubernetes Events, counted by a limit=1 list's
		// remainingItemCount; rvms the expunged VMs' ids remembered; rest
		// the keys that no expiry bounds by rate (keys less Kubernetes
		// Events, CloudStack jobs, events, VMs and expunged ids, and GCE
		// operations).
		kevs, rvms, rest float64
		// evAge is the oldest live Event's age (since its last write),
		// measured every 30 s (0 in between).
		evAge time.Duration
		// heap and objects are the live heap after a collection (bytes,
		// count); goroutines the server's.
		heap, objects, goroutines float64
	}
	admin := adminDebug(t, data)
	profDir := os.Getenv("STRATUS_SOAK_PROFILES")
	lastProf := time.Duration(0)
	var samples []sample
	lastAge, lastProgress := time.Duration(0), time.Duration(0)
	metricsURL := "http://" + up.http + "/metrics"
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
sampling:
	for {
		select {
		case <-ctx.Done():
			break sampling
		case <-tick.C:
		}
		// The Events are counted right after the scrape: they churn by
		// the hundred a second.
		m, err := scrape(metricsURL)
		if err != nil {
			fail("metrics", err)
			continue
		}
		kevs, err := countEvents(ctx, kc)
		if err != nil {
			fail("events count", err)
			continue
		}
		heap, objects, err := admin.liveHeap()
		if err != nil {
			fail("heap", err)
			continue
		}
		at := time.Since(start)
		var age time.Duration
		if at-lastAge >= 30*time.Second {
			lastAge = at
			if age, err = oldestEventAge(ctx, kc); err != nil {
				fail("events age", err)
			}
		}
		smp := sample{at: at, rss: rssMB(up.cmd.Process.Pid), keys: m["stratus_store_keys"], file: m["stratus_store_file_size_bytes"],
			jobs: m["stratus_cloudstack_jobs"], evs: m["stratus_cloudstack_events"], vms: m["stratus_cloudstack_vms"], ops: m["stratus_gce_operations"], history: m["stratus_store_history_events"],
			heap: heap, objects: objects, goroutines: m["go_goroutines"], kevs: float64(kevs), rvms: m["stratus_cloudstack_removed_vms"], evAge: age}
		smp.rest = smp.keys - smp.kevs - smp.jobs - smp.evs - smp.vms - smp.rvms - smp.ops
		samples = append(samples, smp)
		if age > 0 && (at-lastProgress >= time.Minute || lastProgress == 0) {
			lastProgress = at
			errMu.Lock()
			n := len(errs)
			errMu.Unlock()
			t.Logf("progress %s: rss %.0f MB, live heap %.0f MB, other keys %.0f, Events %.0f (oldest %s), file %.1f MB, client errors %d",
				at.Round(time.Second), smp.rss, smp.heap/(1<<20), smp.rest, smp.kevs, age.Round(time.Second), smp.file/(1<<20), n)
		}
		if profDir != "" && at-lastProf >= time.Minute {
			lastProf = at
			if err := admin.saveHeapProfile(filepath.Join(profDir, fmt.Sprintf("heap-%03.0fs.pb.gz", at.Seconds()))); err != nil {
				t.Logf("heap profile: %v", err)
			}
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	up.stop(t)
	stopped = true
	logKeysByPrefix(t, filepath.Join(data, backend.FileName))

	t.Logf("soak of %s (warm-up %s):", elapsed.Round(time.Second), warm)
	for k, v := range counts {
		t.Logf("  %-20s %d", k, v.Load())
	}
	t.Logf("  %-8s %-8s %-8s %-9s %-8s %-8s %-6s %-7s %-10s %-6s %-6s %-5s %-5s %-8s %-6s", "t", "rss MB", "live MB", "objects", "gorout.", "keys", "rest", "k8s ev", "file B", "jobs", "events", "vms", "ops", "history", "ev age")
	for _, s := range samples {
		age := ""
		if s.evAge > 0 {
			age = s.evAge.Round(time.Second).String()
		}
		t.Logf("  %-8s %-8.1f %-8.1f %-9.0f %-8.0f %-8.0f %-6.0f %-7.0f %-10.0f %-6.0f %-6.0f %-5.0f %-5.0f %-8.0f %-6s", s.at.Round(time.Second), s.rss, s.heap/(1<<20), s.objects, s.goroutines,
			s.keys, s.rest, s.kevs, s.file, s.jobs, s.evs, s.vms, s.ops, s.history, age)
	}
	errMu.Lock()
	for _, e := range errs {
		t.Errorf("client error: %s", e)
	}
	errMu.Unlock()

	// Records an expiry removes are bounded by their lifetime times the
	// churn rate, which follows the machine's load: Kubernetes Events must
	// all be younger than --event-ttl (plus the sweep and the recorders'
	// queues), whatever their number.
	const eventTTL, eventSlack = 20 * time.Second, 15 * time.Second
	for _, s := range samples {
		if s.at >= warm && s.evAge > eventTTL+eventSlack {
			t.Errorf("at %s the oldest Event was written %s ago; --event-ttl is %s", s.at.Round(time.Second), s.evAge.Round(time.Second), eventTTL)
		}
	}

	// Flat: the peaks of the last quarter within 10 % of the third's. The
	// keys no expiry bounds by rate must be flat outright. The server's
	// memory and file also hold the rate-bounded records, so they may grow
	// past 10 % only as far as those records' peak grew (a busier last
	// quarter); beyond that something else grew.
	q3, q4 := elapsed/2, elapsed*3/4
	peak := func(from, to time.Duration, f func(sample) float64) float64 {
		m := 0.0
		for _, s := range samples {
			if s.at >= from && s.at < to {
				m = max(m, f(s))
			}
		}
		return m
	}
	bounded := func(s sample) float64 { return s.kevs + s.jobs + s.evs + s.vms + s.rvms + s.ops }
	boundedGrowth := peak(q4, elapsed+time.Second, bounded) / max(peak(q3, q4, bounded), 1)
	t.Logf("  rate-bounded records (Events, jobs, CloudStack events, VMs, expunged ids, operations): peak grew ×%.2f", boundedGrowth)
	for _, c := range []struct {
		name string
		f    func(sample) float64
		// byRate: may grow with the rate-bounded records.
		byRate bool
	}{
		{"RSS", func(s sample) float64 { return s.rss }, true},
		{"live heap", func(s sample) float64 { return s.heap }, true},
		{"heap objects", func(s sample) float64 { return s.objects }, true},
		{"goroutines", func(s sample) float64 { return s.goroutines }, false},
		{"other keys", func(s sample) float64 { return s.rest }, false},
		{"file size", func(s sample) float64 { return s.file }, true},
	} {
		a, b := peak(q3, q4, c.f), peak(q4, elapsed+time.Second, c.f)
		limit := 1.10
		if c.byRate {
			limit = max(limit, boundedGrowth)
		}
		t.Logf("  %-12s peak third quarter %.0f, last quarter %.0f (%+.1f %%, limit %+.1f %%)", c.name, a, b, 100*(b-a)/a, 100*(limit-1))
		if a == 0 || b > a*limit {
			t.Errorf("%s grew: peak %.0f in the third quarter, %.0f in the last", c.name, a, b)
		}
	}

	// Latency: p99 of the last minute against the first after warm-up.
	p99 := func(from, to time.Duration) (time.Duration, int) {
		var ds []time.Duration
		for _, l := range lats {
			if l.at >= from && l.at < to {
				ds = append(ds, l.d)
			}
		}
		if len(ds) == 0 {
			return 0, 0
		}
		slices.Sort(ds)
		return ds[len(ds)*99/100], len(ds)
	}
	minute := min(time.Minute, (elapsed-warm)/3)
	first, n1 := p99(warm, warm+minute)
	last, n2 := p99(elapsed-minute, elapsed)
	t.Logf("  probe p99: first %s after warm-up %s (%d calls), last %s %s (%d calls)", minute, first, n1, minute, last, n2)
	if last > first*12/10 && last > 20*time.Millisecond {
		t.Errorf("latency grew: p99 %s in the first %s after warm-up, %s in the last", first, minute, last)
	}
}

// countEvents counts the Kubernetes Events in every namespace with a
// one-item list: the item and its remainingItemCount.
func countEvents(ctx context.Context, kc kubernetes.Interface) (int64, error) {
	l, err := kc.CoreV1().Events("").List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return 0, err
	}
	if l.Continue != "" && l.RemainingItemCount == nil {
		return 0, fmt.Errorf("a limited list of Events has no remainingItemCount")
	}
	return int64(len(l.Items)) + ptr.Deref(l.RemainingItemCount, 0), nil
}

// oldestEventAge pages through the Events and answers the age of the one
// written longest ago, by its newest timestamp.
func oldestEventAge(ctx context.Context, kc kubernetes.Interface) (time.Duration, error) {
	var oldest time.Time
	opts := metav1.ListOptions{Limit: 500}
	for {
		l, err := kc.CoreV1().Events("").List(ctx, opts)
		if err != nil {
			return 0, err
		}
		for i := range l.Items {
			ev := &l.Items[i]
			last := ev.CreationTimestamp.Time
			for _, t := range []time.Time{ev.LastTimestamp.Time, ev.EventTime.Time} {
				if t.After(last) {
					last = t
				}
			}
			if ev.Series != nil && ev.Series.LastObservedTime.After(last) {
				last = ev.Series.LastObservedTime.Time
			}
			if oldest.IsZero() || last.Before(oldest) {
				oldest = last
			}
		}
		if l.Continue == "" {
			break
		}
		opts.Continue = l.Continue
	}
	if oldest.IsZero() {
		return 0, nil
	}
	return time.Since(oldest), nil
}

// startConfigMapController runs a controller-runtime manager whose
// controller bumps data.n of each ConfigMap labelled soak=yes in default
// every 100 ms until ctx ends. Its own updates do not trigger it; the
// requeue does. A conflict (its cache behind its last write) is retried.
func startConfigMapController(ctx context.Context, t *testing.T, cfg *rest.Config, updates *atomic.Int64, fail func(string, error), wg *sync.WaitGroup) {
	t.Helper()
	// controller-runtime's own logger is process-global; without one set
	// it prints a warning with a stack.
	crlog.SetLogger(logr.Discard())
	sel := labels.SelectorFromSet(labels.Set{"soak": "yes"})
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Metrics: metricsserver.Options{BindAddress: "0"},
		Logger:  logr.Discard(),
		Cache: crcache.Options{DefaultNamespaces: map[string]crcache.Config{"default": {}},
			ByObject: map[crclient.Object]crcache.ByObject{&corev1.ConfigMap{}: {Label: sel}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := mgr.GetClient()
	skip := true
	err = ctrl.NewControllerManagedBy(mgr).Named("soak-configmaps").
		For(&corev1.ConfigMap{}, builder.WithPredicates(predicate.Funcs{UpdateFunc: func(event.UpdateEvent) bool { return false }})).
		WithOptions(crcontroller.Options{SkipNameValidation: &skip, MaxConcurrentReconciles: 2}).
		Complete(reconcile.Func(func(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
			var cm corev1.ConfigMap
			if err := c.Get(ctx, req.NamespacedName, &cm); err != nil {
				return ctrl.Result{}, crclient.IgnoreNotFound(err)
			}
			n, _ := strconv.Atoi(cm.Data["n"])
			cm.Data["n"] = strconv.Itoa(n + 1)
			switch err := c.Update(ctx, &cm); {
			case apierrors.IsConflict(err):
				return ctrl.Result{RequeueAfter: 10 * time.Millisecond}, nil
			case err != nil:
				fail("configmap controller", err)
			default:
				updates.Add(1)
			}
			return ctrl.Result{RequeueAfter: 100 * time.Millisecond}, nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := mgr.Start(ctx); err != nil {
			fail("configmap controller", err)
		}
	}()
}

// logKeysByPrefix logs how many keys the stopped server's store file holds
// under each of its busiest prefixes, to show what grew.
func logKeysByPrefix(t *testing.T, path string) {
	st, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Logf("open %s: %v", path, err)
		return
	}
	defer st.Close()
	res, err := st.List(context.Background(), "/", store.ListOptions{})
	if err != nil {
		t.Logf("list: %v", err)
		return
	}
	by := map[string]int{}
	for _, kv := range res.KVs {
		// /registry/group/resource, /cloud/table
		parts := strings.SplitN(kv.Key, "/", 5)
		n := 3
		if parts[1] == "registry" {
			n = 4
		}
		by[strings.Join(parts[:min(n, len(parts))], "/")]++
	}
	keys := slices.SortedFunc(maps.Keys(by), func(a, b string) int { return by[b] - by[a] })
	for _, k := range keys[:min(20, len(keys))] {
		t.Logf("  %6d keys under %s", by[k], k)
	}
}

// gceWait waits for an operation with operations.wait.
func gceWait(ctx context.Context, svc *compute.Service, project, zone string, op *compute.Operation) error {
	for op.Status != "DONE" {
		var err error
		if op, err = svc.ZoneOperations.Wait(project, zone, op.Name).Context(ctx).Do(); err != nil {
			return err
		}
	}
	if op.Error != nil && len(op.Error.Errors) > 0 {
		return fmt.Errorf("operation %s: %s", op.Name, op.Error.Errors[0].Message)
	}
	return nil
}

// scrape reads the unlabelled samples of a Prometheus text page.
func scrape(url string) (map[string]float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.Contains(line, "{") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			out[name] = v
		}
	}
	return out, sc.Err()
}

// soakAdmin reads the server's Go runtime figures through the admin API.
type soakAdmin struct {
	url, token string
}

func adminDebug(t *testing.T, dataDir string) soakAdmin {
	t.Helper()
	c, err := newAdminClient(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	return soakAdmin{url: c.url + "debug/pprof/heap", token: c.token}
}

func (a soakAdmin) get(query string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodGet, a.url+query, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %s", resp.Status, b)
	}
	return b, err
}

// liveHeap collects garbage in the server and answers the heap's bytes
// and objects right after: what is live.
func (a soakAdmin) liveHeap() (bytes, objects float64, err error) {
	b, err := a.get("?gc=1&debug=1")
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "# HeapAlloc = "); ok {
			bytes, _ = strconv.ParseFloat(v, 64)
		}
		if v, ok := strings.CutPrefix(line, "# HeapObjects = "); ok {
			objects, _ = strconv.ParseFloat(v, 64)
		}
	}
	if bytes == 0 || objects == 0 {
		return 0, 0, fmt.Errorf("no HeapAlloc/HeapObjects in the heap profile")
	}
	return bytes, objects, nil
}

// saveHeapProfile writes a heap profile (after a collection) for `go tool pprof`.
func (a soakAdmin) saveHeapProfile(path string) error {
	b, err := a.get("?gc=1")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
