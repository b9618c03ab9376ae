package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"

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
type continueToken struct {
	APIVersion      string `json:"v"`
	ResourceVersion int64  `json:"rv"`
	StartKey        string `json:"start"`
}

func encodeContinue(rev int64, rel string) string {
	b, _ := json.Marshal(continueToken{APIVersion: "meta.k8s.io/v1", ResourceVersion: rev, StartKey: rel + "\x00"})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeContinue(s string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("continue key is not valid: %v", err)
	}
	var t continueToken
	if err := json.Unmarshal(b, &t); err != nil {
		return "", fmt.Errorf("continue key is not valid: %v", err)
	}
	if t.APIVersion != "meta.k8s.io/v1" {
		return "", fmt.Errorf("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
	}
	if t.StartKey == "" || strings.Contains(t.StartKey, "/..") || strings.HasPrefix(t.StartKey, "/") {
		return "", fmt.Errorf("continue key is not valid: start key is not valid")
	}
	return strings.TrimSuffix(t.StartKey, "\x00"), nil
}

// ListResult is one page of a list.
type ListResult struct {
	Items []runtime.Object // shared: do not modify
	Rev   int64
	// Continue is set when more items may follow.
	Continue string
}

// List returns the objects under ns matching p, at most limit (0: all),
// starting after the continue token.
func (st *Storage) List(ctx context.Context, r *Resource, ns string, p Predicate, limit int64, cont string) (ListResult, error) {
	prefix := Prefix(r, ns)
	after := ""
	if cont != "" {
		rel, err := decodeContinue(cont)
		if err != nil {
			return ListResult{}, apierrors.NewBadRequest(err.Error())
		}
		after = prefix + rel
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
		res, err := st.S.List(ctx, prefix, store.ListOptions{Limit: page, After: after})
		if err != nil {
			return ListResult{}, st.storeErr(err, r, "")
		}
		if out.Rev == 0 {
			out.Rev = res.Rev
		}
		if out.Items == nil {
			out.Items = make([]runtime.Object, 0, len(res.KVs))
		}
		for i, kv := range res.KVs {
			obj, err := st.Decode(r, kv)
			if err != nil {
				return ListResult{}, apierrors.NewInternalError(err)
			}
			if filter && !p.Matches(r, obj) {
				continue
			}
			out.Items = append(out.Items, obj)
			if limit > 0 && int64(len(out.Items)) == limit {
				if res.More || i < len(res.KVs)-1 {
					out.Continue = encodeContinue(out.Rev, strings.TrimPrefix(kv.Key, prefix))
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
