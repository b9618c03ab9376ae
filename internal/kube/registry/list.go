package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/ptr"

	"github.com/stratus-cloud/stratus/internal/store"
)

// Predicate selects objects by labels and fields. Nil selectors match all.
type Predicate struct {
	Label labels.Selector
	Field fields.Selector
}

// Empty reports whether the predicate matches everything.
func (p Predicate) Empty() bool {
	return (p.Label == nil || p.Label.Empty()) && (p.Field == nil || p.Field.Empty())
}

// FieldSet returns the selectable fields of obj.
func FieldSet(r *Resource, obj runtime.Object) fields.Set {
	m := objMeta(obj)
	s := fields.Set{"metadata.name": m.Name}
	if r.Namespaced {
		s["metadata.namespace"] = m.Namespace
	}
	if r.Fields != nil {
		r.Fields(obj, s)
	}
	return s
}

// CheckFieldSelector rejects selectors on fields the resource does not support.
func CheckFieldSelector(r *Resource, sel fields.Selector) error {
	if sel == nil || sel.Empty() {
		return nil
	}
	known := sets.KeySet(FieldSet(r, r.New()))
	for _, req := range sel.Requirements() {
		if !known.Has(req.Field) {
			return apierrors.NewBadRequest(fmt.Sprintf("field label not supported: %s", req.Field))
		}
	}
	return nil
}

// Matches reports whether obj satisfies p.
func (p Predicate) Matches(r *Resource, obj runtime.Object) bool {
	if p.Label != nil && !p.Label.Empty() && !p.Label.Matches(labels.Set(objMeta(obj).Labels)) {
		return false
	}
	if p.Field != nil && !p.Field.Empty() && !p.Field.Matches(FieldSet(r, obj)) {
		return false
	}
	return true
}

// continueToken is the opaque "continue" value, shaped like the real server's.
// ResourceVersion is the revision of the list's first page, which every
// later page is listed at; -1 (the real server's "inconsistent" token,
// handed out when that revision is gone) lists the newest state.
type continueToken struct {
	APIVersion      string `json:"v"`
	ResourceVersion int64  `json:"rv"`
	StartKey        string `json:"start"`
}

func encodeContinue(rev int64, rel string) string {
	b, _ := json.Marshal(continueToken{APIVersion: "meta.k8s.io/v1", ResourceVersion: rev, StartKey: rel + "\x00"})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeContinue returns the key to list after, relative to the list's
// prefix, and the revision to list at (0: the newest).
func decodeContinue(s string) (string, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", 0, fmt.Errorf("continue key is not valid: %v", err)
	}
	var t continueToken
	if err := json.Unmarshal(b, &t); err != nil {
		return "", 0, fmt.Errorf("continue key is not valid: %v", err)
	}
	if t.APIVersion != "meta.k8s.io/v1" {
		return "", 0, fmt.Errorf("continue key is not valid: server does not recognize this encoded version %q", t.APIVersion)
	}
	if t.ResourceVersion == 0 || t.ResourceVersion < -1 {
		return "", 0, fmt.Errorf("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
	}
	if t.StartKey == "" {
		return "", 0, fmt.Errorf("continue key is not valid: encoded start key empty (version meta.k8s.io/v1)")
	}
	if strings.Contains(t.StartKey, "/..") || strings.HasPrefix(t.StartKey, "/") {
		return "", 0, fmt.Errorf("continue key is not valid: start key is not valid")
	}
	return strings.TrimSuffix(t.StartKey, "\x00"), max(t.ResourceVersion, 0), nil
}

// The real server's answers for a state that is no longer kept.
const (
	listExpired = "The resourceVersion for the provided list is too old."
	// continueExpired is followed, as in the real server, by the Status
	// carrying a continue token that lists the rest at the newest state.
	continueExpired = "The provided continue parameter is too old to display a consistent list result. " +
		"You can start a new list without the continue parameter, or use the continue token in this response " +
		"to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent " +
		"list - objects that were created, modified, or deleted between the time the first chunk was returned " +
		"and now may show up in the list."
)

func expired(msg, cont string) error {
	err := apierrors.NewResourceExpired(msg)
	err.ErrStatus.ListMeta.Continue = cont
	return err
}

// ListResult is one page of a list.
type ListResult struct {
	Items []runtime.Object // shared: do not modify
	Rev   int64
	// Continue is set when more items may follow.
	Continue string
	// RemainingItemCount is, with Continue on a list filtered by no
	// selector, how many items follow, as the real server (on etcd)
	// counts them; nil otherwise.
	RemainingItemCount *int64
}

// List returns the objects under ns matching p, at most limit (0: all),
// starting after the continue token, at the newest state (or at the
// token's).
func (st *Storage) List(ctx context.Context, r *Resource, ns string, p Predicate, limit int64, cont string) (ListResult, error) {
	return st.ListAt(ctx, r, ns, p, limit, cont, 0)
}

// ListAt is List at revision rev (0: the newest): Kubernetes' Exact lists.
// A continue token brings its own revision, so every page of a list shows
// the same state; once that state is no longer kept the answer is 410
// Expired, with a token for the rest at the newest state, as the real
// server (on etcd) answers after a compaction.
func (st *Storage) ListAt(ctx context.Context, r *Resource, ns string, p Predicate, limit int64, cont string, rev int64) (ListResult, error) {
	prefix := Prefix(r, ns)
	after := ""
	if cont != "" {
		rel, at, err := decodeContinue(cont)
		if err != nil {
			return ListResult{}, apierrors.NewBadRequest(err.Error())
		}
		after, rev = prefix+rel, at
	}
	// A list of one namespace needs no other (and the namespace name is a
	// prefix of others': "/ns/" ends in a slash, so that is exact).
	var out ListResult
	filter := !p.Empty()
	for {
		page := int(limit)
		if filter && page > 0 && page < 500 {
			page = 500
		}
		// Only an unfiltered list can count what follows: the store's
		// count would include objects a selector drops.
		res, err := st.S.List(ctx, prefix, store.ListOptions{Limit: page, After: after, Rev: rev, Count: !filter && limit > 0})
		switch {
		case errors.Is(err, store.ErrCompacted) && cont != "":
			return ListResult{}, expired(continueExpired, encodeContinue(-1, strings.TrimPrefix(after, prefix)))
		case errors.Is(err, store.ErrCompacted):
			return ListResult{}, expired(listExpired, "")
		case err != nil:
			return ListResult{}, st.storeErr(err, r, "")
		}
		if out.Rev == 0 {
			// Further pages of a filtered list read the same state.
			out.Rev, rev = res.Rev, res.Rev
		}
		if out.Items == nil {
			out.Items = make([]runtime.Object, 0, len(res.KVs))
		}
		for i, kv := range res.KVs {
			obj, err := st.Decode(r, kv)
			if err != nil {
				return ListResult{}, internalError(err)
			}
			if filter && !p.Matches(r, obj) {
				continue
			}
			out.Items = append(out.Items, obj)
			if limit > 0 && int64(len(out.Items)) == limit {
				if res.More || i < len(res.KVs)-1 {
					out.Continue = encodeContinue(out.Rev, strings.TrimPrefix(kv.Key, prefix))
					if !filter {
						out.RemainingItemCount = ptr.To(res.Remaining + int64(len(res.KVs)-1-i))
					}
				}
				return out, nil
			}
		}
		if !res.More || len(res.KVs) == 0 {
			return out, nil
		}
		after = res.KVs[len(res.KVs)-1].Key
	}
}

// ObjectName returns the namespace and name of obj.
func ObjectName(obj runtime.Object) (string, string) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return "", ""
	}
	return m.GetNamespace(), m.GetName()
}
