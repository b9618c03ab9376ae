package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/rand"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/utils/ptr"
)

// history keeps the ControllerRevisions of DaemonSets and StatefulSets as
// their upstream controllers do, so `kubectl rollout history` lists them
// and `kubectl rollout undo` restores one:
//   - a revision's data is the patch that puts its pod template back,
//     {"spec":{"template":{…,"$patch":"replace"}}}, byte for byte what
//     kubectl computes when it compares a revision with the object;
//   - it is named <owner>-<hash>, the hash being FNV-32a of the data (and
//     the collision count) in the safe alphabet; the hash is a label on
//     the revision and on the pods made from it;
//   - a template equal to an older revision's (a rollback) renumbers that
//     revision to the newest instead of making a new one;
//   - revisions beyond revisionHistoryLimit (default 10) that no pod uses
//     are deleted, oldest first.
//
// Shortcut: a hash collision with a different template fails the sync
// rather than bumping collisionCount.
type history struct {
	m      *Manager
	lister appslisters.ControllerRevisionLister
}

func (m *Manager) history() *history {
	if m.hist == nil {
		m.hist = &history{m: m, lister: m.factory.Apps().V1().ControllerRevisions().Lister()}
	}
	return m.hist
}

// revisionData is the patch that restores tpl.
func revisionData(tpl *corev1.PodTemplateSpec) ([]byte, error) {
	b, err := json.Marshal(tpl)
	if err != nil {
		return nil, err
	}
	var t map[string]any
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, err
	}
	// kube-controller-manager and kubectl up to v1.33 write a zero
	// creationTimestamp as null (newer apimachinery omits it): kubectl
	// compares byte for byte, so the v1.33 bytes are kept.
	md, _ := t["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		t["metadata"] = md
	}
	if _, ok := md["creationTimestamp"]; !ok {
		md["creationTimestamp"] = nil
	}
	t["$patch"] = "replace"
	return json.Marshal(map[string]any{"spec": map[string]any{"template": t}})
}

// revisionHash is the hash of a revision's data and collision count.
func revisionHash(data []byte, collisions *int32) string {
	h := fnv.New32a()
	_, _ = h.Write(data)
	if collisions != nil {
		_, _ = h.Write([]byte(strconv.FormatInt(int64(*collisions), 10)))
	}
	return rand.SafeEncodeString(strconv.FormatInt(int64(h.Sum32()), 10))
}

// owner is what has revisions.
type owner interface {
	metav1.Object
	runtime.Object
}

// revisionSpec says what the owner's current revision holds.
type revisionSpec struct {
	owner      owner
	kind       string
	selector   labels.Selector
	template   *corev1.PodTemplateSpec
	hashLabel  string // the label that carries the hash on the revision
	collisions *int32
	limit      int32
	inUse      func(*appsv1.ControllerRevision) bool
}

// current returns the owner's revision for its template, creating or
// renumbering it, and deletes what is beyond the history limit.
func (h *history) current(ctx context.Context, s revisionSpec) (*appsv1.ControllerRevision, error) {
	data, err := revisionData(s.template)
	if err != nil {
		return nil, err
	}
	all, err := h.lister.ControllerRevisions(s.owner.GetNamespace()).List(s.selector)
	if err != nil {
		return nil, err
	}
	var revs []*appsv1.ControllerRevision
	var maxRev int64
	var cur *appsv1.ControllerRevision
	for _, r := range all {
		if !metav1.IsControlledBy(r, s.owner) {
			continue
		}
		revs = append(revs, r)
		maxRev = max(maxRev, r.Revision)
		if bytes.Equal(r.Data.Raw, data) && (cur == nil || r.Revision > cur.Revision) {
			cur = r
		}
	}
	client := h.m.o.Client.AppsV1().ControllerRevisions(s.owner.GetNamespace())
	switch {
	case cur != nil && cur.Revision < maxRev:
		upd := cur.DeepCopy()
		upd.Revision = maxRev + 1
		if cur, err = client.Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return nil, err
		}
	case cur == nil:
		hash := revisionHash(data, s.collisions)
		lbl := copyMap(s.template.Labels)
		if lbl == nil {
			lbl = map[string]string{}
		}
		lbl[s.hashLabel] = hash
		cr := &appsv1.ControllerRevision{
			ObjectMeta: metav1.ObjectMeta{Name: revisionName(s.owner.GetName(), hash), Namespace: s.owner.GetNamespace(),
				Labels: lbl, Annotations: copyMap(s.owner.GetAnnotations()),
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: s.kind, Name: s.owner.GetName(), UID: s.owner.GetUID(),
					Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}},
			Data:     runtime.RawExtension{Raw: data},
			Revision: maxRev + 1,
		}
		cur, err = client.Create(ctx, cr, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			// the lister lags a revision this controller just made
			got, gerr := client.Get(ctx, cr.Name, metav1.GetOptions{})
			if gerr != nil {
				return nil, gerr
			}
			if !metav1.IsControlledBy(got, s.owner) || !bytes.Equal(got.Data.Raw, data) {
				return nil, fmt.Errorf("controller revision %s exists with another template (hash collision)", cr.Name)
			}
			cur, err = got, nil
		}
		if err != nil {
			return nil, err
		}
		revs = append(revs, cur)
	}
	// Truncate the history: the oldest unused revisions beyond the limit.
	var old []*appsv1.ControllerRevision
	for _, r := range revs {
		if r.Name != cur.Name && (s.inUse == nil || !s.inUse(r)) {
			old = append(old, r)
		}
	}
	if extra := len(old) - int(s.limit); extra > 0 {
		sort.Slice(old, func(i, j int) bool { return old[i].Revision < old[j].Revision })
		for _, r := range old[:extra] {
			if err := client.Delete(ctx, r.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return nil, err
			}
		}
	}
	return cur, nil
}

// revisionName is <prefix>-<hash>, the prefix cut so the name fits.
func revisionName(prefix, hash string) string {
	if len(prefix) > 223 {
		prefix = prefix[:223]
	}
	return prefix + "-" + hash
}
