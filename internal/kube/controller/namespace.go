package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
)

// namespaceDeleter empties a namespace that is being deleted (phase
// Terminating) of every namespaced kind the API serves, custom resources
// too, as kube-controller-manager's: found by discovery, removed with
// deletecollection (background propagation), checked until none is
// left; then it removes the "kubernetes" finalizer so the API can delete
// the namespace.
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
	remaining, err := d.deleteContent(ctx, name)
	if err != nil {
		return 0, err
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

// deleteContent deletes what namespace ns holds, kind by kind, and says
// how many objects were still there. A kind discovery could not list
// counts as remaining, so the namespace is not finalized over it.
func (d *namespaceDeleter) deleteContent(ctx context.Context, ns string) (remaining int, err error) {
	disc := d.m.o.Client.Discovery()
	lists, err := disc.ServerPreferredNamespacedResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return 0, err
	}
	if err != nil {
		remaining++ // retried: a group that failed discovery may hold objects
	}
	rc := disc.RESTClient()
	for _, l := range lists {
		for _, r := range l.APIResources {
			if !slices.Contains(r.Verbs, "list") || (!slices.Contains(r.Verbs, "deletecollection") && !slices.Contains(r.Verbs, "delete")) {
				continue
			}
			base := namespacedPath(l.GroupVersion, ns, r.Name)
			var got metav1.PartialObjectMetadataList
			raw, err := rc.Get().AbsPath(base...).SetHeader("Accept", metadataListJSON).DoRaw(ctx)
			if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
				continue // gone since discovery (a CRD deleted)
			}
			if err == nil {
				err = json.Unmarshal(raw, &got)
			}
			if err != nil {
				return 0, fmt.Errorf("list %s in %s: %w", r.Name, ns, err)
			}
			if len(got.Items) == 0 {
				continue
			}
			remaining += len(got.Items)
			if err := deleteAll(ctx, rc, base, r, got.Items); err != nil {
				return 0, fmt.Errorf("delete %s in %s: %w", r.Name, ns, err)
			}
		}
	}
	return remaining, nil
}

// metadataListJSON asks a list for its items' metadata only.
const metadataListJSON = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json"

// deleteAll deletes a kind's objects in one deletecollection, or one by
// one where the kind has only delete; objects already going are left be.
func deleteAll(ctx context.Context, rc rest.Interface, base []string, r metav1.APIResource, items []metav1.PartialObjectMetadata) error {
	bg := metav1.DeletePropagationBackground
	body, _ := json.Marshal(&metav1.DeleteOptions{TypeMeta: metav1.TypeMeta{Kind: "DeleteOptions", APIVersion: "v1"}, PropagationPolicy: &bg})
	del := func(path ...string) error {
		err := rc.Delete().AbsPath(path...).SetHeader("Content-Type", "application/json").SetHeader("Accept", "application/json").Body(body).Do(ctx).Error()
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return nil
		}
		return err
	}
	if slices.Contains(r.Verbs, "deletecollection") {
		return del(base...)
	}
	for _, it := range items {
		if it.DeletionTimestamp != nil {
			continue
		}
		if err := del(append(slices.Clone(base), it.Name)...); err != nil {
			return err
		}
	}
	return nil
}

// namespacedPath is the URL path of a namespaced resource's collection.
func namespacedPath(groupVersion, ns, resource string) []string {
	if strings.Contains(groupVersion, "/") {
		return []string{"/apis", groupVersion, "namespaces", ns, resource}
	}
	return []string{"/api", groupVersion, "namespaces", ns, resource}
}
