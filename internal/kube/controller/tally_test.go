package controller

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

func tallyPod(name string, owner types.UID, labels map[string]string, ready bool, since time.Time, deleting bool) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name), Labels: labels,
		OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicationController", Name: "rc", UID: owner, Controller: ptr.To(true)}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st, LastTransitionTime: metav1.NewTime(since)}}
	if deleting {
		p.DeletionTimestamp = &metav1.Time{Time: since}
	}
	return p
}

// TestTallyMatchesRecount: after any sequence of pod events, a tally's
// counts equal a recount of the pods the index holds, whatever the order
// the tally was built in relative to the events.
func TestTallyMatchesRecount(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	app := map[string]string{"app": "x"}
	tmpl := &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: app}}
	type ev struct {
		pod  *corev1.Pod
		gone bool
	}
	tests := []struct {
		name     string
		before   []ev // applied to the index before the build
		after    []ev // applied to the index and the tally after it
		minReady time.Duration
		want     counts
	}{
		{name: "empty", want: counts{}},
		{name: "built from the index", before: []ev{{pod: tallyPod("a", "o", app, true, now, false)}, {pod: tallyPod("b", "o", nil, false, now, false)}},
			want: counts{active: 2, labeled: 1, ready: 1, available: 1}},
		{name: "events after the build", after: []ev{{pod: tallyPod("a", "o", app, false, now, false)}, {pod: tallyPod("a", "o", app, true, now, false)},
			{pod: tallyPod("b", "o", app, true, now, false)}, {pod: tallyPod("b", "o", app, true, now, false), gone: true}},
			want: counts{active: 1, labeled: 1, ready: 1, available: 1}},
		{name: "deleting is not active", before: []ev{{pod: tallyPod("a", "o", app, true, now, false)}},
			after: []ev{{pod: tallyPod("a", "o", app, true, now, true)}}, want: counts{}},
		{name: "other owner of the same name", after: []ev{{pod: tallyPod("a", "other", app, true, now, false)}}, want: counts{}},
		{name: "min ready", after: []ev{{pod: tallyPod("a", "o", app, true, now.Add(-time.Minute), false)}, {pod: tallyPod("b", "o", app, true, now.Add(-5*time.Second), false)}},
			minReady: 10 * time.Second, want: counts{active: 2, labeled: 2, ready: 2, available: 1, after: 6 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{controllerIndex: controllerIndexFunc})
			apply := func(e ev) {
				if e.gone {
					_ = idx.Delete(e.pod)
				} else {
					_ = idx.Update(e.pod)
				}
			}
			for _, e := range tt.before {
				apply(e)
			}
			tl := &tally{}
			_ = tl.count(idx, "o", tmpl, tt.minReady, now)
			for _, e := range tt.after {
				apply(e)
				tl.observe(e.pod, metav1.GetControllerOfNoCopy(e.pod).UID, e.gone)
			}
			if got := tl.count(idx, "o", tmpl, tt.minReady, now); got != tt.want {
				t.Errorf("tally counts %+v, want %+v", got, tt.want)
			}
			if got := (&tally{}).count(idx, "o", tmpl, tt.minReady, now); got != tt.want {
				t.Errorf("recount %+v, want %+v", got, tt.want)
			}
		})
	}
}
