package compose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Client applies projects through the Kubernetes API.
type Client struct {
	Kube kubernetes.Interface
	// Out receives compose-style progress lines (nil: discarded).
	Out io.Writer
	Log *slog.Logger
	// Poll is how often waits without a watch (a namespace or Job going)
	// look again (default 20 ms).
	Poll time.Duration

	outMu sync.Mutex
}

func (c *Client) out() io.Writer {
	if c.Out == nil {
		return io.Discard
	}
	return c.Out
}

func (c *Client) progress(kind, name, what string) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	fmt.Fprintf(c.out(), " %s %s  %s\n", kind, name, what)
}

// UpOptions tune Up.
type UpOptions struct {
	// Wait: return only once every service is running and ready.
	Wait bool
	// RemoveOrphans deletes the project's workloads of services the file
	// no longer has; without it they are only reported, as compose does.
	RemoveOrphans bool
	// Timeout bounds each wait (dependencies, --wait); default 5 minutes.
	Timeout time.Duration
}

// Up creates what the project lacks and changes what differs, service by
// service in start order, waiting for each dependency's condition first.
// A port another project publishes, or a port already taken on this host,
// stops it before anything is created.
func (c *Client) Up(ctx context.Context, objs *Objects, o UpOptions) error {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	ns := objs.Namespace.Name
	project := objs.Namespace.Labels[LabelProject]
	if err := c.checkPorts(ctx, objs); err != nil {
		return err
	}
	if err := c.ensureNamespace(ctx, objs.Namespace, o.Timeout); err != nil {
		return err
	}
	for _, cm := range objs.ConfigMaps {
		if err := upsert(ctx, c.Kube.CoreV1().ConfigMaps(ns), cm, func(cur, want *corev1.ConfigMap) bool {
			return equality.Semantic.DeepEqual(cur.BinaryData, want.BinaryData) && equality.Semantic.DeepEqual(cur.Labels, want.Labels)
		}, func(cur, want *corev1.ConfigMap) {
			cur.BinaryData, cur.Data, cur.Labels = want.BinaryData, nil, want.Labels
		}); err != nil {
			return fmt.Errorf("config %s: %w", cm.Name, err)
		}
	}
	for _, s := range objs.Secrets {
		if err := upsert(ctx, c.Kube.CoreV1().Secrets(ns), s, func(cur, want *corev1.Secret) bool {
			return equality.Semantic.DeepEqual(cur.Data, want.Data) && equality.Semantic.DeepEqual(cur.Labels, want.Labels)
		}, func(cur, want *corev1.Secret) { cur.Data, cur.StringData, cur.Labels = want.Data, nil, want.Labels }); err != nil {
			return fmt.Errorf("secret %s: %w", s.Name, err)
		}
	}
	for _, pvc := range objs.Claims {
		// A claim is made once and kept: its spec does not change.
		if _, err := c.Kube.CoreV1().PersistentVolumeClaims(ns).Create(ctx, pvc, metav1.CreateOptions{}); err == nil {
			c.progress("Volume", pvc.Name, "Created")
		} else if !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("volume %s: %w", pvc.Labels[LabelVolume], err)
		}
	}
	have, err := c.existing(ctx, objs)
	if err != nil {
		return err
	}
	ips, err := c.applyServices(ctx, objs, have)
	if err != nil {
		return err
	}
	aliases := hostAliases(ips)
	w, err := c.watch(ctx, ns, project)
	if err != nil {
		return err
	}
	defer w.close()
	// Services start as soon as what they depend on is as their
	// depends_on asks (independent ones at once, as compose does); one
	// look at the project's pods per round decides for all of them.
	pending := append([]*Workload(nil), objs.Workloads...)
	deadline := time.Now().Add(o.Timeout)
	for len(pending) > 0 {
		snap, err := w.snapshot(objs)
		if err != nil {
			return err
		}
		var still, now []*Workload
		for _, wl := range pending {
			ok, err := snap.ready(wl, pending)
			if err != nil {
				return fmt.Errorf("service %q: %w", wl.Service, err)
			}
			if ok {
				now = append(now, wl)
			} else {
				still = append(still, wl)
			}
		}
		if err := parallel(len(now), func(i int) error {
			if err := c.applyWorkload(ctx, ns, now[i], have, aliases, o.Timeout); err != nil {
				return fmt.Errorf("service %q: %w", now[i].Service, err)
			}
			return nil
		}); err != nil {
			return err
		}
		if len(still) > 0 && len(still) == len(pending) {
			if err := w.wait(ctx, deadline, "dependencies of "+waitingFor(still)); err != nil {
				return err
			}
		}
		pending = still
	}
	if err := c.orphans(ctx, objs, project, o.RemoveOrphans); err != nil {
		return err
	}
	if o.Wait {
		healthy := types.ServiceDependency{Condition: types.ServiceConditionHealthy}
		for {
			snap, err := w.snapshot(objs)
			if err != nil {
				return err
			}
			var waiting []*Workload
			for _, wl := range objs.Workloads {
				cond := healthy
				if wl.Job != nil {
					// A one-off is done when it has run.
					cond = types.ServiceDependency{Condition: types.ServiceConditionStarted}
				}
				ok, err := snap.meets(wl.Service, cond)
				if err != nil {
					return err
				}
				if !ok {
					waiting = append(waiting, wl)
				}
			}
			if len(waiting) == 0 {
				break
			}
			if err := w.wait(ctx, deadline, waitingFor(waiting)+" to be ready"); err != nil {
				return err
			}
		}
	}
	return nil
}

// HasDefaultStorageClass says whether the cluster names a default
// StorageClass, so named volumes can be PersistentVolumeClaims
// (ConvertOptions.Claims). A cluster that does not serve StorageClasses,
// or does not let the user read them, has none.
func (c *Client) HasDefaultStorageClass(ctx context.Context) (bool, error) {
	l, err := c.Kube.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, sc := range l.Items {
		if sc.Annotations[DefaultStorageClass] == "true" || sc.Annotations["storageclass.beta.kubernetes.io/is-default-class"] == "true" {
			return true, nil
		}
	}
	return false, nil
}

// DefaultStorageClass is the annotation that makes a StorageClass the
// cluster's default.
const DefaultStorageClass = "storageclass.kubernetes.io/is-default-class"

func (c *Client) ensureNamespace(ctx context.Context, want *corev1.Namespace, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		cur, err := c.Kube.CoreV1().Namespaces().Get(ctx, want.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			if _, err := c.Kube.CoreV1().Namespaces().Create(ctx, want, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("namespace %s: %w", want.Name, err)
			}
			c.progress("Namespace", want.Name, "Created")
			return nil
		case err != nil:
			return fmt.Errorf("namespace %s: %w", want.Name, err)
		case cur.Labels[LabelProject] != want.Labels[LabelProject]:
			return fmt.Errorf("namespace %s exists and does not belong to compose project %q", want.Name, want.Labels[LabelProject])
		case cur.DeletionTimestamp == nil:
			return nil
		}
		// A down of the same project is still finishing.
		if err := c.sleep(ctx, deadline, "namespace "+want.Name+" to finish terminating"); err != nil {
			return err
		}
	}
}

func (c *Client) sleep(ctx context.Context, deadline time.Time, what string) error {
	if time.Now().After(deadline) {
		return fmt.Errorf("timed out waiting for %s", what)
	}
	p := c.Poll
	if p <= 0 {
		p = 20 * time.Millisecond
	}
	t := time.NewTimer(p)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// namespaced is the part of a typed client upsert needs.
type namespaced[T any] interface {
	Get(ctx context.Context, name string, o metav1.GetOptions) (T, error)
	Create(ctx context.Context, obj T, o metav1.CreateOptions) (T, error)
	Update(ctx context.Context, obj T, o metav1.UpdateOptions) (T, error)
}

// upsert creates want or updates the current object when same says it
// differs; it returns the stored object.
func upsert[T metav1.Object](ctx context.Context, cl namespaced[T], want T, same func(cur, want T) bool, merge func(cur, want T)) error {
	cur, err := cl.Get(ctx, want.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = cl.Create(ctx, want, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	if same(cur, want) {
		return nil
	}
	merge(cur, want)
	_, err = cl.Update(ctx, cur, metav1.UpdateOptions{})
	return err
}

// checkPorts fails when a published address and port is taken: by
// another project's or any Service's external IP or node port, or on
// this host by something else.
func (c *Client) checkPorts(ctx context.Context, objs *Objects) error {
	type addr struct {
		ip   string
		port int32
	}
	wanted := map[addr]string{}
	for _, s := range objs.Services {
		for _, ip := range s.Spec.ExternalIPs {
			for _, p := range s.Spec.Ports {
				wanted[addr{ip, p.Port}] = s.Labels[LabelService]
			}
		}
	}
	if len(wanted) == 0 {
		return nil
	}
	all, err := c.Kube.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	ours := map[addr]bool{}
	for _, s := range all.Items {
		for _, p := range s.Spec.Ports {
			held := []addr{}
			for _, ip := range s.Spec.ExternalIPs {
				held = append(held, addr{ip, p.Port})
			}
			if p.NodePort != 0 {
				held = append(held, addr{"127.0.0.1", p.NodePort})
			}
			for _, a := range held {
				svc, clash := wanted[a]
				if !clash {
					continue
				}
				if s.Namespace == objs.Namespace.Name {
					ours[a] = true
					continue
				}
				by := fmt.Sprintf("Service %s/%s", s.Namespace, s.Name)
				if pr := s.Labels[LabelProject]; pr != "" {
					by = fmt.Sprintf("compose project %q, service %q", pr, s.Labels[LabelService])
				}
				return &Error{Service: svc, Key: "ports", Err: fmt.Errorf("Bind for %s failed: port is already allocated (by %s)", net.JoinHostPort(a.ip, strconv.Itoa(int(a.port))), by)}
			}
		}
	}
	keys := make([]addr, 0, len(wanted))
	for a := range wanted {
		keys = append(keys, a)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].port < keys[j].port })
	for _, a := range keys {
		if ours[a] {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(a.ip, strconv.Itoa(int(a.port))))
		if err != nil {
			return &Error{Service: wanted[a], Key: "ports", Err: fmt.Errorf("Bind for %s failed: %w", net.JoinHostPort(a.ip, strconv.Itoa(int(a.port))), errors.Unwrap(err))}
		}
		_ = ln.Close()
	}
	return nil
}

// applyServices creates or updates the project's Services and returns
// the cluster IP of each name.
// current is what a project has in the cluster, listed once so a fresh
// up only creates and a repeated one only reads three lists.
type current struct {
	services    map[string]*corev1.Service
	deployments map[string]*appsv1.Deployment
	jobs        map[string]*batchv1.Job
}

func (c *Client) existing(ctx context.Context, objs *Objects) (*current, error) {
	ns, project := objs.Namespace.Name, objs.Namespace.Labels[LabelProject]
	lo := metav1.ListOptions{LabelSelector: LabelProject + "=" + project}
	have := &current{services: map[string]*corev1.Service{}, deployments: map[string]*appsv1.Deployment{}, jobs: map[string]*batchv1.Job{}}
	svcs, err := c.Kube.CoreV1().Services(ns).List(ctx, lo)
	if err != nil {
		return nil, err
	}
	for i := range svcs.Items {
		have.services[svcs.Items[i].Name] = &svcs.Items[i]
	}
	deps, err := c.Kube.AppsV1().Deployments(ns).List(ctx, lo)
	if err != nil {
		return nil, err
	}
	for i := range deps.Items {
		have.deployments[deps.Items[i].Name] = &deps.Items[i]
	}
	jobs, err := c.Kube.BatchV1().Jobs(ns).List(ctx, lo)
	if err != nil {
		return nil, err
	}
	for i := range jobs.Items {
		have.jobs[jobs.Items[i].Name] = &jobs.Items[i]
	}
	return have, nil
}

// lookup returns m[name] or a NotFound error, as a Get would.
func lookup[T any](m map[string]*T, resource, name string) (*T, error) {
	if v, ok := m[name]; ok {
		return v, nil
	}
	return nil, apierrors.NewNotFound(corev1.Resource(resource), name)
}

func (c *Client) applyServices(ctx context.Context, objs *Objects, have *current) (map[string]string, error) {
	ns := objs.Namespace.Name
	cl := c.Kube.CoreV1().Services(ns)
	var mu sync.Mutex
	ips := map[string]string{}
	err := parallel(len(objs.Services), func(i int) error {
		want := objs.Services[i]
		cur, err := lookup(have.services, "services", want.Name)
		if err == nil && (cur.Spec.ClusterIP == corev1.ClusterIPNone) != (want.Spec.ClusterIP == corev1.ClusterIPNone) {
			// Headless and not cannot change into each other.
			if err := cl.Delete(ctx, want.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
			err = apierrors.NewNotFound(corev1.Resource("services"), want.Name)
		}
		switch {
		case apierrors.IsNotFound(err):
			cur, err = cl.Create(ctx, want, metav1.CreateOptions{})
			if err != nil {
				return fmt.Errorf("service %q: %w", want.Labels[LabelService], err)
			}
		case err != nil:
			return err
		case !sameService(cur, want):
			cur.Labels = want.Labels
			cur.Spec.Selector, cur.Spec.ExternalIPs = want.Spec.Selector, want.Spec.ExternalIPs
			cur.Spec.Ports = want.Spec.Ports
			if cur, err = cl.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("service %q: %w", want.Labels[LabelService], err)
			}
		}
		if cur.Labels[labelRole] != "published" && cur.Spec.ClusterIP != "" && cur.Spec.ClusterIP != corev1.ClusterIPNone {
			mu.Lock()
			ips[cur.Name] = cur.Spec.ClusterIP
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ips, nil
}

func sameService(cur, want *corev1.Service) bool {
	if !equality.Semantic.DeepEqual(cur.Labels, want.Labels) || !equality.Semantic.DeepEqual(cur.Spec.Selector, want.Spec.Selector) ||
		!equality.Semantic.DeepEqual(cur.Spec.ExternalIPs, want.Spec.ExternalIPs) || len(cur.Spec.Ports) != len(want.Spec.Ports) {
		return false
	}
	for i, p := range want.Spec.Ports {
		q := cur.Spec.Ports[i]
		if p.Name != q.Name || p.Port != q.Port || p.TargetPort != q.TargetPort || p.Protocol != q.Protocol {
			return false
		}
	}
	return true
}

// hostAliases lets every pod of the project resolve every name of it, as
// a compose network does, without a cluster DNS: kubelet writes a pod's
// hostAliases into its /etc/hosts.
func hostAliases(ips map[string]string) []corev1.HostAlias {
	byIP := map[string][]string{}
	for name, ip := range ips {
		byIP[ip] = append(byIP[ip], name)
	}
	var out []corev1.HostAlias
	for _, ip := range sortedKeys(byIP) {
		names := byIP[ip]
		sort.Strings(names)
		out = append(out, corev1.HostAlias{IP: ip, Hostnames: names})
	}
	return out
}

// applyWorkload creates a service's Deployment or pods, or changes them
// when the pod template's hash differs.
func (c *Client) applyWorkload(ctx context.Context, ns string, w *Workload, have *current, aliases []corev1.HostAlias, timeout time.Duration) error {
	setTemplate := func(t *corev1.PodTemplateSpec) string {
		t.Spec.HostAliases = append(append([]corev1.HostAlias(nil), aliases...), t.Spec.HostAliases...)
		h := hash(t)
		if t.Annotations == nil {
			t.Annotations = map[string]string{}
		}
		t.Annotations[AnnotationConfigHash] = h
		return h
	}
	if d := w.Deployment; d != nil {
		d = d.DeepCopy()
		h := setTemplate(&d.Spec.Template)
		cl := c.Kube.AppsV1().Deployments(ns)
		cur, err := lookup(have.deployments, "deployments", d.Name)
		if err == nil {
			cur = cur.DeepCopy()
		}
		switch {
		case apierrors.IsNotFound(err):
			if _, err := cl.Create(ctx, d, metav1.CreateOptions{}); err != nil {
				return err
			}
			c.progress("Service", w.Service, "Created")
			return nil
		case err != nil:
			return err
		case cur.Spec.Template.Annotations[AnnotationConfigHash] != h:
			cur.Spec.Template = d.Spec.Template
			cur.Spec.Replicas = d.Spec.Replicas
			cur.Labels, cur.Annotations = d.Labels, d.Annotations
			if _, err := cl.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
				return err
			}
			c.progress("Service", w.Service, "Recreated")
		case *cur.Spec.Replicas != *d.Spec.Replicas:
			cur.Spec.Replicas = d.Spec.Replicas
			if _, err := cl.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
				return err
			}
			c.progress("Service", w.Service, fmt.Sprintf("Scaled to %d", *d.Spec.Replicas))
		default:
			c.progress("Service", w.Service, "Running")
		}
		return nil
	}
	j := w.Job.DeepCopy()
	h := setTemplate(&j.Spec.Template)
	cl := c.Kube.BatchV1().Jobs(ns)
	cur, err := lookup(have.jobs, "jobs", j.Name)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return err
	case cur.Spec.Template.Annotations[AnnotationConfigHash] == h && *cur.Spec.Completions == *j.Spec.Completions:
		c.progress("Service", w.Service, "Running")
		return nil
	default:
		// A Job's template cannot change: it goes with its pods and
		// runs again.
		if err := c.deleteJobAndWait(ctx, ns, j.Name, timeout); err != nil {
			return err
		}
	}
	if _, err := cl.Create(ctx, j, metav1.CreateOptions{}); err != nil {
		return err
	}
	c.progress("Service", w.Service, "Created")
	return nil
}

// deleteJobAndWait deletes a Job with its pods in the foreground and
// waits until it is gone.
func (c *Client) deleteJobAndWait(ctx context.Context, ns, name string, timeout time.Duration) error {
	cl := c.Kube.BatchV1().Jobs(ns)
	fg := metav1.DeletePropagationForeground
	if err := cl.Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &fg}); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		if _, err := cl.Get(ctx, name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		if err := c.sleep(ctx, deadline, "job "+name+" to go"); err != nil {
			return err
		}
	}
}

// selector selects a project's objects, or one service's.
func selector(project string, service string) string {
	s := LabelProject + "=" + project
	if service != "" {
		s += "," + LabelService + "=" + service
	}
	return s
}

// parallel runs fn(0…n-1) on up to 16 goroutines and returns the first
// error.
func parallel(n int, fn func(i int) error) error {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func waitingFor(ws []*Workload) string {
	names := make([]string, len(ws))
	for i, w := range ws {
		names[i] = w.Service
	}
	return strings.Join(names, ", ")
}

// snapshot is one look at a project's pods and Deployments.
type snapshot struct {
	objs *Objects
	pods map[string][]*corev1.Pod // by compose service
	deps map[string]*appsv1.Deployment
}

// ready says whether w may start: every dependency is applied (not
// pending) and meets its condition.
func (s *snapshot) ready(w *Workload, pending []*Workload) (bool, error) {
	for _, dep := range sortedKeys(w.DependsOn) {
		for _, p := range pending {
			if p.Service == dep {
				return false, nil
			}
		}
		ok, err := s.meets(dep, w.DependsOn[dep])
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// meets says whether service dep meets cond, as compose's depends_on:
// started (a container runs), healthy (every replica ready: the
// readiness probe is the healthcheck) or completed_successfully (its
// pods exited 0).
func (s *snapshot) meets(dep string, cond types.ServiceDependency) (bool, error) {
	var w *Workload
	for _, x := range s.objs.Workloads {
		if x.Service == dep {
			w = x
		}
	}
	if w == nil {
		if cond.Required {
			return false, fmt.Errorf("depends on %q, which is not a service of the project", dep)
		}
		return true, nil
	}
	want := w.Replicas()
	running, ready, succeeded := 0, 0, 0
	for _, p := range s.pods[dep] {
		if p.DeletionTimestamp != nil {
			continue
		}
		switch p.Status.Phase {
		case corev1.PodRunning:
			running++
			if podReady(p) {
				ready++
			}
		case corev1.PodSucceeded:
			succeeded++
		case corev1.PodFailed:
			if cond.Condition == types.ServiceConditionCompletedSuccessfully {
				return false, fmt.Errorf("service %q didn't complete successfully: %s", dep, exitSummary(p))
			}
		}
	}
	switch cond.Condition {
	case types.ServiceConditionHealthy:
		if w.Deployment != nil {
			d := s.deps[w.Name]
			return d != nil && deploymentCurrent(d) && ready >= want, nil
		}
		return ready >= want, nil
	case types.ServiceConditionCompletedSuccessfully:
		return succeeded >= want, nil
	default: // service_started
		return running+succeeded >= min(want, 1), nil
	}
}

// deploymentCurrent says whether a Deployment has rolled out its newest
// template to every replica.
func deploymentCurrent(d *appsv1.Deployment) bool {
	r := int32(1)
	if d.Spec.Replicas != nil {
		r = *d.Spec.Replicas
	}
	return d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas == r && d.Status.ReadyReplicas >= r && d.Status.Replicas == r
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func exitSummary(p *corev1.Pod) string {
	for _, cs := range p.Status.ContainerStatuses {
		if t := cs.State.Terminated; t != nil {
			return fmt.Sprintf("exit %d", t.ExitCode)
		}
	}
	return string(p.Status.Phase)
}

// orphans reports (or removes) workloads and Services of the project
// whose compose service the file no longer has.
func (c *Client) orphans(ctx context.Context, objs *Objects, project string, remove bool) error {
	ns := objs.Namespace.Name
	want := map[string]bool{}
	for _, w := range objs.Workloads {
		want[w.Service] = true
	}
	wantSvc := map[string]bool{}
	for _, s := range objs.Services {
		wantSvc[s.Name] = true
	}
	lo := metav1.ListOptions{LabelSelector: LabelProject + "=" + project}
	deps, err := c.Kube.AppsV1().Deployments(ns).List(ctx, lo)
	if err != nil {
		return err
	}
	jobs, err := c.Kube.BatchV1().Jobs(ns).List(ctx, lo)
	if err != nil {
		return err
	}
	svcs, err := c.Kube.CoreV1().Services(ns).List(ctx, lo)
	if err != nil {
		return err
	}
	var found []string
	for _, d := range deps.Items {
		if s := d.Labels[LabelService]; !want[s] {
			found = append(found, s)
			if remove {
				if err := c.Kube.AppsV1().Deployments(ns).Delete(ctx, d.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
					return err
				}
			}
		}
	}
	bg := metav1.DeletePropagationBackground
	for _, j := range jobs.Items {
		if s := j.Labels[LabelService]; !want[s] {
			found = append(found, s)
			if remove {
				if err := c.Kube.BatchV1().Jobs(ns).Delete(ctx, j.Name, metav1.DeleteOptions{PropagationPolicy: &bg}); err != nil && !apierrors.IsNotFound(err) {
					return err
				}
			}
		}
	}
	for _, s := range svcs.Items {
		if !wantSvc[s.Name] && (remove || want[s.Labels[LabelService]]) {
			// A name the file no longer gives goes; an orphan service's
			// names go with it.
			if err := c.Kube.CoreV1().Services(ns).Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
		}
	}
	if len(found) > 0 && !remove {
		sort.Strings(found)
		fmt.Fprintf(c.out(), "WARN Found orphan services (%s) for this project. If you removed or renamed them in your compose file, you can run this command with the --remove-orphans flag to clean them up.\n", strings.Join(dedup(found), ", "))
	}
	return nil
}

func dedup(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
