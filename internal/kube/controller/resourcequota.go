package controller

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/stratus-cloud/stratus/internal/kube/quota"
)

// The resourcequota controller keeps each ResourceQuota's status: hard
// as the spec says, used as counted from the namespace's objects (the
// same counting the API server's quota admission does). It recounts when
// a quota changes, when a pod of its namespace comes, goes or finishes,
// and every resync period (10 s) for the other kinds.

const quotaResync = 10 * time.Second

type quotaController struct {
	m      *Manager
	loop   *loop
	lister corelisters.ResourceQuotaLister
}

func (m *Manager) addResourceQuota() {
	q := &quotaController{m: m}
	q.loop = m.newLoop("resourcequota", 2, q.sync)
	inf := m.factory.Core().V1().ResourceQuotas()
	q.lister = inf.Lister()
	_, _ = inf.Informer().AddEventHandler(q.loop.handler())
	podEvent := func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		if p, ok := obj.(*corev1.Pod); ok {
			qs, _ := q.lister.ResourceQuotas(p.Namespace).List(labels.Everything())
			for _, x := range qs {
				q.loop.enqueue(x)
			}
		}
	}
	_, _ = m.factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: podEvent, DeleteFunc: podEvent,
		UpdateFunc: func(old, obj any) {
			if o, n := old.(*corev1.Pod), obj.(*corev1.Pod); o.Status.Phase != n.Status.Phase {
				podEvent(obj)
			}
		},
	})
}

func (q *quotaController) sync(ctx context.Context, key string) (time.Duration, error) {
	ns, name, _ := strings.Cut(key, "/")
	rq, err := q.lister.ResourceQuotas(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	used := corev1.ResourceList{}
	for _, src := range quota.Sources(rq.Spec.Hard) {
		objs, err := q.list(ctx, ns, src)
		if err != nil {
			return 0, err
		}
		for _, o := range objs {
			used = quota.Add(used, quota.Usage(src.Group, src.Resource, o))
		}
	}
	st := corev1.ResourceQuotaStatus{Hard: rq.Spec.Hard, Used: quota.Mask(used, rq.Spec.Hard)}
	if !equality.Semantic.DeepEqual(st, rq.Status) {
		upd := rq.DeepCopy()
		upd.Status = st
		if _, err := q.m.o.Client.CoreV1().ResourceQuotas(ns).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return 0, ignoreGone(err)
		}
	}
	return quotaResync, nil
}

// list reads src's objects in ns (pods, Services and claims decoded, the
// rest only counted).
func (q *quotaController) list(ctx context.Context, ns string, src quota.Source) ([]any, error) {
	path := "/apis/" + src.Group + "/" + src.Version
	if src.Group == "" {
		path = "/api/v1"
	}
	raw, err := q.m.o.Client.Discovery().RESTClient().Get().AbsPath(path, "namespaces", ns, src.Resource).
		SetHeader("Accept", "application/json").Do(ctx).Raw()
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []any
	switch {
	case src.Group == "" && src.Resource == "pods":
		var l corev1.PodList
		err = json.Unmarshal(raw, &l)
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	case src.Group == "" && src.Resource == "services":
		var l corev1.ServiceList
		err = json.Unmarshal(raw, &l)
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	case src.Group == "" && src.Resource == "persistentvolumeclaims":
		var l corev1.PersistentVolumeClaimList
		err = json.Unmarshal(raw, &l)
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	default:
		var l struct {
			Items []json.RawMessage `json:"items"`
		}
		err = json.Unmarshal(raw, &l)
		for range l.Items {
			out = append(out, nil)
		}
	}
	return out, err
}
