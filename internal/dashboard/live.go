package dashboard

import (
	"context"
	"log/slog"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// changes tells waiters that something changed. Each waiter gets a channel
// that closes at the next change; bursts collapse into one wake-up per
// waiter, and waiters rate-limit themselves (see minRefresh).
type changes struct {
	mu sync.Mutex
	ch chan struct{}
}

func newChanges() *changes { return &changes{ch: make(chan struct{})} }

// wait returns a channel closed at the next change.
func (c *changes) wait() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ch
}

// notify wakes every waiter.
func (c *changes) notify() {
	c.mu.Lock()
	close(c.ch)
	c.ch = make(chan struct{})
	c.mu.Unlock()
}

// followCloud notifies c each time the cloud's change feed moves, until ctx
// ends.
func followCloud(ctx context.Context, next func() <-chan struct{}, c *changes) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-next():
			c.notify()
		}
	}
}

// kubeWatched are the kinds the Kubernetes views show: a change to any of
// them refreshes those views. With inproc (Options.KubeWatch) they are read
// in the process, else through kc.
func kubeWatched(kc kubernetes.Interface, inproc func(group, version, resource string) (*cache.ListWatch, error)) (map[string]cache.ListerWatcherWithContext, error) {
	if inproc != nil {
		out := map[string]cache.ListerWatcherWithContext{}
		for kind, gv := range map[string][2]string{"pods": {"", "v1"}, "nodes": {"", "v1"}, "services": {"", "v1"}, "deployments": {"apps", "v1"}} {
			lw, err := inproc(gv[0], gv[1], kind)
			if err != nil {
				return nil, err
			}
			out[kind] = lw
		}
		return out, nil
	}
	ns := metav1.NamespaceAll
	core, apps := kc.CoreV1(), kc.AppsV1()
	return map[string]cache.ListerWatcherWithContext{
		"pods":        listWatch(core.Pods(ns).List, core.Pods(ns).Watch),
		"nodes":       listWatch(core.Nodes().List, core.Nodes().Watch),
		"services":    listWatch(core.Services(ns).List, core.Services(ns).Watch),
		"deployments": listWatch(apps.Deployments(ns).List, apps.Deployments(ns).Watch),
	}, nil
}

// listWatch joins a typed client's List and Watch.
func listWatch[L runtime.Object](list func(context.Context, metav1.ListOptions) (L, error), w cache.WatchFuncWithContext) *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc:  func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return list(ctx, o) },
		WatchFuncWithContext: w,
	}
}

// followKube notifies c of every change to one kind through the
// Kubernetes API, until ctx ends: it lists one item for the collection's
// resourceVersion and watches from there (client-go's RetryWatcher reopens
// a broken watch), and lists again when the watch expires.
func followKube(ctx context.Context, kind string, lw cache.ListerWatcherWithContext, c *changes, log *slog.Logger) {
	backoff := 100 * time.Millisecond
	retry := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
		return true
	}
	for ctx.Err() == nil {
		obj, err := lw.ListWithContext(ctx, metav1.ListOptions{Limit: 1})
		if err != nil {
			log.Debug("list failed; retrying", "kind", kind, "err", err)
			if !retry() {
				return
			}
			continue
		}
		var w watch.Interface
		if rv := resourceVersionOf(obj); rv == "" || rv == "0" {
			w, err = lw.WatchWithContext(ctx, metav1.ListOptions{}) // a server without versions (client-go's fake)
		} else {
			w, err = watchtools.NewRetryWatcherWithContext(ctx, rv, lw)
		}
		if err != nil {
			log.Debug("watch failed; retrying", "kind", kind, "err", err)
			if !retry() {
				return
			}
			continue
		}
		backoff = 100 * time.Millisecond
		for ev := range w.ResultChan() {
			if ev.Type == watch.Error {
				break // expired: list again
			}
			if ev.Type != watch.Bookmark {
				c.notify()
			}
		}
		w.Stop()
		// Something may have changed while the watch was down.
		c.notify()
	}
}

// resourceVersionOf is a list's resourceVersion ("" if it has none).
func resourceVersionOf(obj runtime.Object) string {
	if l, ok := obj.(metav1.ListInterface); ok {
		return l.GetResourceVersion()
	}
	return ""
}
