package compose

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// DownOptions tune Down.
type DownOptions struct {
	// Volumes also removes named volumes: the project's
	// PersistentVolumeClaims (and with them its namespace). Volumes that
	// are pod volumes (no default StorageClass) go with the pods either
	// way.
	Volumes bool
	Timeout time.Duration
}

// Down removes everything of the project and waits until it is gone:
// workloads, pods, Services, ConfigMaps, Secrets and the namespace.
func (c *Client) Down(ctx context.Context, project string, o DownOptions) error {
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	ns, err := Namespace(project)
	if err != nil {
		return err
	}
	n, err := c.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if n.Labels[LabelProject] != project {
		return fmt.Errorf("namespace %s does not belong to compose project %q", ns, project)
	}
	lo := metav1.ListOptions{LabelSelector: LabelProject + "=" + project}
	bg := metav1.DeletePropagationBackground
	del := metav1.DeleteOptions{PropagationPolicy: &bg}
	apps, core := c.Kube.AppsV1(), c.Kube.CoreV1()
	steps := []struct {
		what string
		fn   func() error
	}{
		{"deployments", func() error { return apps.Deployments(ns).DeleteCollection(ctx, del, lo) }},
		{"replica sets", func() error { return apps.ReplicaSets(ns).DeleteCollection(ctx, del, lo) }},
		{"jobs", func() error { return c.Kube.BatchV1().Jobs(ns).DeleteCollection(ctx, del, lo) }},
		{"pods", func() error { return core.Pods(ns).DeleteCollection(ctx, del, lo) }},
		{"services", func() error { return deleteServices(ctx, c, ns, lo) }},
		{"config maps", func() error { return core.ConfigMaps(ns).DeleteCollection(ctx, del, lo) }},
		{"secrets", func() error { return core.Secrets(ns).DeleteCollection(ctx, del, lo) }},
	}
	for _, s := range steps {
		if err := s.fn(); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("remove %s: %w", s.what, err)
		}
	}
	deadline := time.Now().Add(o.Timeout)
	if !o.Volumes {
		claims, err := core.PersistentVolumeClaims(ns).List(ctx, lo)
		if err != nil {
			return fmt.Errorf("list volumes: %w", err)
		}
		if len(claims.Items) > 0 {
			// The volumes stay, and so does the namespace that holds
			// them; everything else goes.
			for {
				left, err := c.leftOver(ctx, ns, lo)
				if err != nil {
					return err
				}
				if left == 0 {
					c.progress("Namespace", ns, "Kept (volumes: down -v removes them)")
					return nil
				}
				if err := c.sleep(ctx, deadline, "the project's objects in "+ns+" to go"); err != nil {
					return err
				}
			}
		}
	}
	// Named, the volumes go themselves (stratus's namespace deletion does
	// not empty a namespace of claims).
	if err := core.PersistentVolumeClaims(ns).DeleteCollection(ctx, del, lo); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("remove volumes: %w", err)
	}
	if err := core.Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("remove namespace %s: %w", ns, err)
	}
	for {
		_, err := core.Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			c.progress("Namespace", ns, "Removed")
			return nil
		}
		if err != nil {
			return err
		}
		if err := c.sleep(ctx, deadline, "namespace "+ns+" to go"); err != nil {
			return err
		}
	}
}

// leftOver counts the project's workloads, pods and Services still in ns.
func (c *Client) leftOver(ctx context.Context, ns string, lo metav1.ListOptions) (int, error) {
	pods, err := c.Kube.CoreV1().Pods(ns).List(ctx, lo)
	if err != nil {
		return 0, err
	}
	deps, err := c.Kube.AppsV1().Deployments(ns).List(ctx, lo)
	if err != nil {
		return 0, err
	}
	jobs, err := c.Kube.BatchV1().Jobs(ns).List(ctx, lo)
	if err != nil {
		return 0, err
	}
	svcs, err := c.Kube.CoreV1().Services(ns).List(ctx, lo)
	if err != nil {
		return 0, err
	}
	return len(pods.Items) + len(deps.Items) + len(jobs.Items) + len(svcs.Items), nil
}

// deleteServices deletes Services one by one: the Kubernetes API has no
// deletecollection for them.
func deleteServices(ctx context.Context, c *Client, ns string, lo metav1.ListOptions) error {
	l, err := c.Kube.CoreV1().Services(ns).List(ctx, lo)
	if err != nil {
		return err
	}
	for _, s := range l.Items {
		if err := c.Kube.CoreV1().Services(ns).Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// Container is one running replica of a service, as ps shows it.
type Container struct {
	Name    string // the pod's name
	Service string
	Index   int // 1, 2, … within the service, oldest first
	Status  string
	Ports   string
	Pod     *corev1.Pod
}

// PS lists the project's containers (pods), by service and index.
func (c *Client) PS(ctx context.Context, project string, now time.Time) ([]Container, error) {
	ns, err := Namespace(project)
	if err != nil {
		return nil, err
	}
	pods, err := c.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: LabelProject + "=" + project})
	if err != nil {
		return nil, err
	}
	svcs, err := c.Kube.CoreV1().Services(ns).List(ctx, metav1.ListOptions{LabelSelector: LabelProject + "=" + project + "," + labelRole + "=published"})
	if err != nil {
		return nil, err
	}
	published := map[string][]string{} // service → "ip:port->target/proto"
	for _, s := range svcs.Items {
		for _, ip := range s.Spec.ExternalIPs {
			for _, p := range s.Spec.Ports {
				published[s.Labels[LabelService]] = append(published[s.Labels[LabelService]],
					fmt.Sprintf("%s->%s/%s", net.JoinHostPort(ip, strconv.Itoa(int(p.Port))), p.TargetPort.String(), strings.ToLower(string(p.Protocol))))
			}
		}
	}
	items := pods.Items
	sort.Slice(items, func(i, j int) bool {
		a, b := &items[i], &items[j]
		if sa, sb := a.Labels[LabelService], b.Labels[LabelService]; sa != sb {
			return sa < sb
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
	var out []Container
	idx := map[string]int{}
	for i := range items {
		p := &items[i]
		svc := p.Labels[LabelService]
		idx[svc]++
		ports := published[svc]
		var exposed []string
		for _, ctr := range p.Spec.Containers {
			for _, cp := range ctr.Ports {
				exposed = append(exposed, fmt.Sprintf("%d/%s", cp.ContainerPort, strings.ToLower(string(cp.Protocol))))
			}
		}
		out = append(out, Container{Name: p.Name, Service: svc, Index: idx[svc], Status: status(p, now), Ports: strings.Join(append(append([]string(nil), ports...), unpublished(exposed, ports)...), ", "), Pod: p})
	}
	return out, nil
}

// unpublished are the exposed ports no published one maps to.
func unpublished(exposed, published []string) []string {
	var out []string
	for _, e := range exposed {
		found := false
		for _, p := range published {
			found = found || strings.HasSuffix(p, "->"+e)
		}
		if !found {
			out = append(out, e)
		}
	}
	return out
}

// unhealthyAfter is how long a container whose check has not passed is
// "starting" before docker calls it unhealthy: its start period, then
// retries failed checks an interval apart (the probe's initial delay,
// failure threshold and period, with the kubelet's defaults).
func unhealthyAfter(pr *corev1.Probe) time.Duration {
	period, failures := pr.PeriodSeconds, pr.FailureThreshold
	if period <= 0 {
		period = 10
	}
	if failures <= 0 {
		failures = 3
	}
	return time.Duration(pr.InitialDelaySeconds+period*failures) * time.Second
}

// status is a pod's state as docker ps words it.
func status(p *corev1.Pod, now time.Time) string {
	if p.DeletionTimestamp != nil {
		return "Removing"
	}
	var cs *corev1.ContainerStatus
	if len(p.Status.ContainerStatuses) > 0 {
		cs = &p.Status.ContainerStatuses[0]
	}
	var probe *corev1.Probe
	if len(p.Spec.Containers) > 0 {
		probe = p.Spec.Containers[0].ReadinessProbe
	}
	switch {
	case cs != nil && cs.State.Running != nil:
		up := now.Sub(cs.State.Running.StartedAt.Time)
		s := "Up " + humanDuration(up)
		switch {
		case probe == nil:
		case cs.Ready:
			s += " (healthy)"
		case up >= unhealthyAfter(probe):
			s += " (unhealthy)"
		default:
			s += " (health: starting)"
		}
		return s
	case cs != nil && cs.State.Terminated != nil:
		t := cs.State.Terminated
		return fmt.Sprintf("Exited (%d) %s ago", t.ExitCode, humanDuration(now.Sub(t.FinishedAt.Time)))
	case cs != nil && cs.State.Waiting != nil && cs.State.Waiting.Reason != "":
		return cs.State.Waiting.Reason
	case p.Spec.NodeName == "":
		return "Pending"
	}
	return "Created"
}

func humanDuration(d time.Duration) string {
	if d < time.Second {
		return "Less than a second"
	}
	return duration.HumanDuration(d)
}

// WritePS writes ps's table: NAME, SERVICE, STATUS, PORTS.
func WritePS(w io.Writer, cs []Container) error {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSERVICE\tSTATUS\tPORTS")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Name, c.Service, c.Status, c.Ports)
	}
	return tw.Flush()
}

// LogOptions tune Logs.
type LogOptions struct {
	Follow   bool
	Services []string // none: all
}

// Logs writes the logs of the project's containers, each line prefixed
// "svc-1  | " as compose does. With Follow it returns when ctx ends or
// every followed stream has ended.
func (c *Client) Logs(ctx context.Context, project string, o LogOptions, w io.Writer) error {
	cs, err := c.PS(ctx, project, time.Now())
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, s := range o.Services {
		want[s] = true
	}
	var sel []Container
	width := 0
	for _, ct := range cs {
		if len(want) > 0 && !want[ct.Service] {
			continue
		}
		if ct.Pod.Spec.NodeName == "" {
			continue // not scheduled: no logs yet
		}
		sel = append(sel, ct)
		width = max(width, len(prefix(ct)))
	}
	lw := &lineWriter{w: w}
	stream := func(ct Container) error {
		req := c.Kube.CoreV1().Pods(ct.Pod.Namespace).GetLogs(ct.Name, &corev1.PodLogOptions{Follow: o.Follow})
		rc, err := req.Stream(ctx)
		if err != nil {
			return fmt.Errorf("logs of %s: %w", ct.Name, err)
		}
		defer rc.Close()
		p := fmt.Sprintf("%-*s | ", width, prefix(ct))
		sc := bufio.NewScanner(rc)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			lw.line(p, sc.Text())
		}
		if ctx.Err() != nil {
			return nil
		}
		return sc.Err()
	}
	if !o.Follow {
		for _, ct := range sel {
			if err := stream(ct); err != nil {
				return err
			}
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(sel))
	for _, ct := range sel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := stream(ct); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func prefix(c Container) string { return fmt.Sprintf("%s-%d", c.Service, c.Index) }

// lineWriter writes whole lines from several goroutines.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) line(prefix, s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s%s\n", prefix, s)
}

// Scale sets a service's replicas through the Deployment's scale
// subresource, as `kubectl scale` does.
func (c *Client) Scale(ctx context.Context, project, service string, replicas int) error {
	ns, err := Namespace(project)
	if err != nil {
		return err
	}
	name, err := c.workloadName(ctx, ns, project, service)
	if err != nil {
		return err
	}
	cl := c.Kube.AppsV1().Deployments(ns)
	sc, err := cl.GetScale(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("service %q is a one-off (a Job): scale it with up --scale %s=%d", service, service, replicas)
	}
	if err != nil {
		return err
	}
	sc.Spec.Replicas = int32(replicas)
	if _, err := cl.UpdateScale(ctx, name, sc, metav1.UpdateOptions{}); err != nil {
		return err
	}
	c.progress("Service", service, fmt.Sprintf("Scaled to %d", replicas))
	return nil
}

// workloadName finds the Kubernetes name of a service of the project.
func (c *Client) workloadName(ctx context.Context, ns, project, service string) (string, error) {
	l, err := c.Kube.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{LabelSelector: selector(project, service)})
	if err != nil {
		return "", err
	}
	if len(l.Items) > 0 {
		return l.Items[0].Name, nil
	}
	pods, err := c.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector(project, service)})
	if err != nil {
		return "", err
	}
	if len(pods.Items) == 0 {
		return "", fmt.Errorf("no such service: %s", service)
	}
	return "", apierrors.NewNotFound(corev1.Resource("deployments"), service)
}

// Restart restarts services (all when none is named): a Deployment rolls
// its pods over, as `kubectl rollout restart` does; a one-off's Job is
// deleted and run again from its own spec.
func (c *Client) Restart(ctx context.Context, project string, services []string, now time.Time) error {
	ns, err := Namespace(project)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, s := range services {
		want[s] = true
	}
	lo := metav1.ListOptions{LabelSelector: LabelProject + "=" + project}
	deps, err := c.Kube.AppsV1().Deployments(ns).List(ctx, lo)
	if err != nil {
		return err
	}
	found := map[string]bool{}
	for _, d := range deps.Items {
		svc := d.Labels[LabelService]
		if len(want) > 0 && !want[svc] {
			continue
		}
		found[svc] = true
		if d.Spec.Template.Annotations == nil {
			d.Spec.Template.Annotations = map[string]string{}
		}
		d.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] = now.Format(time.RFC3339)
		if _, err := c.Kube.AppsV1().Deployments(ns).Update(ctx, &d, metav1.UpdateOptions{}); err != nil {
			return err
		}
		c.progress("Service", svc, "Restarted")
	}
	jobs, err := c.Kube.BatchV1().Jobs(ns).List(ctx, lo)
	if err != nil {
		return err
	}
	for _, j := range jobs.Items {
		svc := j.Labels[LabelService]
		if len(want) > 0 && !want[svc] {
			continue
		}
		found[svc] = true
		if err := c.deleteJobAndWait(ctx, ns, j.Name, 2*time.Minute); err != nil {
			return err
		}
		if _, err := c.Kube.BatchV1().Jobs(ns).Create(ctx, rerun(&j), metav1.CreateOptions{}); err != nil {
			return err
		}
		c.progress("Service", svc, "Restarted")
	}
	for _, s := range services {
		if !found[s] {
			return fmt.Errorf("no such service: %s", s)
		}
	}
	return nil
}

// Stop stops the project's containers without removing what defines them:
// Deployments go to zero replicas, one-off Jobs are deleted. The next up
// brings them back.
func (c *Client) Stop(ctx context.Context, project string) error {
	ns, err := Namespace(project)
	if err != nil {
		return err
	}
	lo := metav1.ListOptions{LabelSelector: LabelProject + "=" + project}
	deps, err := c.Kube.AppsV1().Deployments(ns).List(ctx, lo)
	if err != nil {
		return err
	}
	zero := int32(0)
	for _, d := range deps.Items {
		d.Spec.Replicas = &zero
		if _, err := c.Kube.AppsV1().Deployments(ns).Update(ctx, &d, metav1.UpdateOptions{}); err != nil {
			return err
		}
		c.progress("Service", d.Labels[LabelService], "Stopped")
	}
	bg := metav1.DeletePropagationBackground
	if err := c.Kube.BatchV1().Jobs(ns).DeleteCollection(ctx, metav1.DeleteOptions{PropagationPolicy: &bg}, lo); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}

// rerun is a Job as it was asked for, without what the API and the Job
// controller added (its uid's selector and labels), to be created again.
func rerun(j *batchv1.Job) *batchv1.Job {
	n := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: j.Name, Namespace: j.Namespace, Labels: j.Labels, Annotations: j.Annotations}}
	n.Spec = *j.Spec.DeepCopy()
	n.Spec.Selector, n.Spec.ManualSelector = nil, nil
	t := &n.Spec.Template
	t.Labels = maps.Clone(t.Labels)
	for _, k := range []string{"controller-uid", "job-name", batchv1.ControllerUidLabel, batchv1.JobNameLabel} {
		delete(t.Labels, k)
	}
	return n
}
