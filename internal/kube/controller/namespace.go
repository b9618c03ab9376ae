package controller

import (
	"context"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// namespaceDeleter empties a namespace that is being deleted (phase
// Terminating) of the kinds stratus serves, then removes the "kubernetes"
// finalizer so the API can delete it.
type namespaceDeleter struct {
	m      *Manager
	loop   *loop
	lister corelisters.NamespaceLister
}

func (m *Manager) addNamespace() {
	d := &namespaceDeleter{m: m}
	d.loop = m.newLoop("namespace", 2, d.sync)
	ni := m.factory.Core().V1().Namespaces()
	d.lister = ni.Lister()
	_, _ = ni.Informer().AddEventHandler(d.loop.handler())
}

func (d *namespaceDeleter) sync(ctx context.Context, name string) (time.Duration, error) {
	ns, err := d.lister.Get(name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil || ns.DeletionTimestamp == nil {
		return 0, err
	}
	c := d.m.o.Client
	opts := metav1.ListOptions{}
	bg := metav1.DeletePropagationBackground
	del := metav1.DeleteOptions{PropagationPolicy: &bg}
	remaining := 0
	// each kind: list, delete what is not already going, count what is left
	type kind struct {
		list func() ([]string, error)
		del  func(string) error
	}
	names := func(n int, at func(int) metav1.Object) []string {
		out := make([]string, 0, n)
		for i := range n {
			out = append(out, at(i).GetName())
		}
		return out
	}
	kinds := []kind{
		{func() ([]string, error) {
			l, err := c.AppsV1().Deployments(name).List(ctx, opts)
			if err != nil {
				return nil, err
			}
			return names(len(l.Items), func(i int) metav1.Object { return &l.Items[i] }), nil
		}, func(n string) error { return c.AppsV1().Deployments(name).Delete(ctx, n, del) }},
		{func() ([]string, error) {
			l, err := c.AppsV1().ReplicaSets(name).List(ctx, opts)
			if err != nil {
				return nil, err
			}
			return names(len(l.Items), func(i int) metav1.Object { return &l.Items[i] }), nil
		}, func(n string) error { return c.AppsV1().ReplicaSets(name).Delete(ctx, n, del) }},
		{func() ([]string, error) {
			l, err := c.CoreV1().ReplicationControllers(name).List(ctx, opts)
			if err != nil {
				return nil, err
			}
			return names(len(l.Items), func(i int) metav1.Object { return &l.Items[i] }), nil
		}, func(n string) error { return c.CoreV1().ReplicationControllers(name).Delete(ctx, n, del) }},
		{func() ([]string, error) {
			l, err := c.CoreV1().Pods(name).List(ctx, opts)
			if err != nil {
				return nil, err
			}
			var out []string
			for i := range l.Items {
				if l.Items[i].DeletionTimestamp == nil {
					out = append(out, l.Items[i].Name)
				} else {
					remaining++
				}
			}
			return out, nil
		}, func(n string) error { return c.CoreV1().Pods(name).Delete(ctx, n, metav1.DeleteOptions{}) }},
		{func() ([]string, error) {
			l, err := c.CoreV1().Services(name).List(ctx, opts)
			if err != nil {
				return nil, err
			}
			return names(len(l.Items), func(i int) metav1.Object { return &l.Items[i] }), nil
		}, func(n string) error { return c.CoreV1().Services(name).Delete(ctx, n, del) }},
		{func() ([]string, error) {
			l, err := c.CoreV1().Endpoints(name).List(ctx, opts)
			if err != nil {
				return nil, err
			}
			return names(len(l.Items), func(i int) metav1.Object { return &l.Items[i] }), nil
		}, func(n string) error { return c.CoreV1().Endpoints(name).Delete(ctx, n, del) }},
		{func() ([]string, error) {
			l, err := c.CoreV1().ConfigMaps(name).List(ctx, opts)
			if err != nil {
				return nil, err
			}
			return names(len(l.Items), func(i int) metav1.Object { return &l.Items[i] }), nil
		}, func(n string) error { return c.CoreV1().ConfigMaps(name).Delete(ctx, n, del) }},
		{func() ([]string, error) {
			l, err := c.CoreV1().Secrets(name).List(ctx, opts)
			if err != nil {
				return nil, err
			}
			return names(len(l.Items), func(i int) metav1.Object { return &l.Items[i] }), nil
		}, func(n string) error { return c.CoreV1().Secrets(name).Delete(ctx, n, del) }},
		{func() ([]string, error) {
			l, err := c.CoreV1().ServiceAccounts(name).List(ctx, opts)
			if err != nil {
				return nil, err
			}
			return names(len(l.Items), func(i int) metav1.Object { return &l.Items[i] }), nil
		}, func(n string) error { return c.CoreV1().ServiceAccounts(name).Delete(ctx, n, del) }},
		{func() ([]string, error) {
			l, err := c.CoreV1().Events(name).List(ctx, opts)
			if err != nil {
				return nil, err
			}
			return names(len(l.Items), func(i int) metav1.Object { return &l.Items[i] }), nil
		}, func(n string) error { return c.CoreV1().Events(name).Delete(ctx, n, del) }},
	}
	for _, k := range kinds {
		items, err := k.list()
		if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
			continue // kind not served
		}
		if err != nil {
			return 0, err
		}
		for _, n := range items {
			remaining++
			if err := k.del(n); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				return 0, err
			}
		}
	}
	if remaining > 0 {
		return 500 * time.Millisecond, nil
	}
	if !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
		return 0, nil
	}
	upd := ns.DeepCopy()
	upd.Spec.Finalizers = slices.DeleteFunc(upd.Spec.Finalizers, func(f corev1.FinalizerName) bool { return f == corev1.FinalizerKubernetes })
	_, err = c.CoreV1().Namespaces().Finalize(ctx, upd, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	return 0, err
}
