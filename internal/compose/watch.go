package compose

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/stratus-cloud/stratus/internal/kube/informersync"
)

// watcher keeps a copy of the project's pods and Deployments from one
// watch each, so up's waits read it and wake on each change, instead of
// listing them from the API again every few milliseconds.
type watcher struct {
	factory informers.SharedInformerFactory
	pods    corelisters.PodLister
	deps    appslisters.DeploymentLister
	changed chan struct{}
	stop    chan struct{}
}

func (c *Client) watch(ctx context.Context, ns, project string) (*watcher, error) {
	f := informers.NewSharedInformerFactoryWithOptions(c.Kube, 0, informers.WithNamespace(ns),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = LabelProject + "=" + project }))
	w := &watcher{factory: f, changed: make(chan struct{}, 1), stop: make(chan struct{})}
	poke := func() {
		select {
		case w.changed <- struct{}{}:
		default:
		}
	}
	h := cache.ResourceEventHandlerFuncs{AddFunc: func(any) { poke() }, UpdateFunc: func(any, any) { poke() }, DeleteFunc: func(any) { poke() }}
	pi, di := f.Core().V1().Pods(), f.Apps().V1().Deployments()
	if _, err := pi.Informer().AddEventHandler(h); err != nil {
		return nil, err
	}
	if _, err := di.Informer().AddEventHandler(h); err != nil {
		return nil, err
	}
	w.pods, w.deps = pi.Lister(), di.Lister()
	f.Start(w.stop)
	// informersync, not the factory's WaitForCacheSync: its 100 ms poll
	// was a tenth of a second of every up.
	if !informersync.WaitContext(ctx, pi.Informer().HasSynced, di.Informer().HasSynced) {
		w.close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("watch of project %q: not synced", project)
	}
	return w, nil
}

func (w *watcher) close() {
	close(w.stop)
	w.factory.Shutdown()
}

// wait returns at the next change of the project's pods or Deployments
// (or within a second regardless), or fails once deadline has passed.
func (w *watcher) wait(ctx context.Context, deadline time.Time, what string) error {
	left := time.Until(deadline)
	if left <= 0 {
		return fmt.Errorf("timed out waiting for %s", what)
	}
	t := time.NewTimer(min(left, time.Second))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-w.changed:
	case <-t.C:
	}
	return nil
}

// snapshot is the project's pods and Deployments as the watch has them
// now (shared with the watch: read only).
func (w *watcher) snapshot(objs *Objects) (*snapshot, error) {
	pods, err := w.pods.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	deps, err := w.deps.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	s := &snapshot{objs: objs, pods: map[string][]*corev1.Pod{}, deps: map[string]*appsv1.Deployment{}}
	for _, p := range pods {
		s.pods[p.Labels[LabelService]] = append(s.pods[p.Labels[LabelService]], p)
	}
	for _, d := range deps {
		s.deps[d.Name] = d
	}
	return s, nil
}
