package controller

import (
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// A tally keeps the status counts of one replication controller or replica
// set up to date from pod events, so a sync does not recount every pod the
// controller owns (10,000 pods make a recount cost milliseconds, and a
// scale brings a stream of syncs).
//
// It holds each owned pod's part in the counts, keyed by UID, and sets a
// pod's part from the newest event about it: an event that arrives after
// the tally was built from the informer's index, but carries an older
// version than the index held, is followed by the event of that newer
// version, so the tally always converges on the index. A sync builds the
// tally from the index when it has none yet or when what the parts depend
// on changed (the owner's UID, the template's labels).
type tally struct {
	mu      sync.Mutex
	built   bool
	uid     types.UID         // the owner the tally counts for
	hasTmpl bool              // the owner has a pod template
	tmpl    map[string]string // its labels, which "fully labeled" compares with
	pods    map[types.UID]podPart
	active  int32
	labeled int32
	ready   int32
}

// podPart is what one pod adds to the counts.
type podPart struct {
	active, labeled, ready bool
	readySince             time.Time
}

func (t *tally) partOf(p *corev1.Pod) podPart {
	if !activePod(p) {
		return podPart{}
	}
	ready, since := podReady(p)
	return podPart{active: true, labeled: t.hasTmpl && hasLabels(p.Labels, t.tmpl), ready: ready, readySince: since}
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

func (t *tally) add(x podPart, sign int32) {
	t.active += sign * b2i(x.active)
	t.labeled += sign * b2i(x.labeled)
	t.ready += sign * b2i(x.active && x.ready)
}

// setLocked records p's newest state (gone: p was deleted).
func (t *tally) setLocked(p *corev1.Pod, gone bool) {
	if old, ok := t.pods[p.UID]; ok {
		t.add(old, -1)
		delete(t.pods, p.UID)
	}
	if gone {
		return
	}
	x := t.partOf(p)
	if x.active {
		t.pods[p.UID] = x
		t.add(x, 1)
	}
}

// observe applies one pod event to a built tally; a pod of another owner
// (same name, other UID) is no part of it.
func (t *tally) observe(p *corev1.Pod, ownerUID types.UID, gone bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.built {
		return // the build reads the index
	}
	if ownerUID != t.uid {
		gone = true
	}
	t.setLocked(p, gone)
}

// counts is a controller's status, counted from its tally.
type counts struct {
	active, labeled, ready, available int32
	after                             time.Duration // when a pod becomes available (minReadySeconds)
}

// count returns the counts for owner uid with pod template tmpl (nil:
// none), building the tally from idx when needed; minReady and now decide
// which ready pods are available.
func (t *tally) count(idx cache.Indexer, uid types.UID, tmpl *corev1.PodTemplateSpec, minReady time.Duration, now time.Time) counts {
	var tl map[string]string
	if tmpl != nil {
		tl = tmpl.Labels
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.built || t.uid != uid || t.hasTmpl != (tmpl != nil) || !labels.Equals(t.tmpl, tl) {
		t.uid, t.hasTmpl, t.tmpl = uid, tmpl != nil, copyMap(tl)
		t.pods = map[types.UID]podPart{}
		t.active, t.labeled, t.ready = 0, 0, 0
		owned, _ := idx.ByIndex(controllerIndex, string(uid))
		for _, o := range owned {
			if p, ok := o.(*corev1.Pod); ok {
				t.setLocked(p, false)
			}
		}
		t.built = true
	}
	c := counts{active: t.active, labeled: t.labeled, ready: t.ready, available: t.ready}
	if minReady <= 0 {
		return c
	}
	c.available = 0
	for _, x := range t.pods {
		if !x.ready {
			continue
		}
		if at := x.readySince.Add(minReady); !at.After(now) {
			c.available++
		} else if d := at.Sub(now); c.after == 0 || d+time.Second < c.after {
			c.after = d + time.Second
		}
	}
	return c
}
