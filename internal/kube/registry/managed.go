package registry

import (
	"crypto/sha256"
	"encoding/json"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Managed fields on create.
//
// Tracking which fields a writer owns costs a create about ten times the
// rest of its work (structured-merge-diff converts and walks the whole
// object twice). For a create the answer depends only on the object's
// shape: which fields are set, map keys, and list items (whose keys name
// set elements). Scalar values outside lists (names, label values, image
// of a pod template) do not change it. So the owned field set is cached by
// a hash of the object's JSON with those scalars blanked, and objects of the
// same shape (every pod of a ReplicaSet, every "kubectl run" of one image)
// pay the full cost once. TestCreateFieldsMatchFieldManager checks the
// shortcut against the field manager.
type fieldsCache = keyCache[*shapeFields]

// shapeFields is the owned field set of one shape: FieldsV1's JSON, and for
// custom resources the same set as an Unstructured's metadata holds it, so
// a hit need not parse the JSON again (what Unstructured.SetManagedFields
// does for every object).
type shapeFields struct {
	raw []byte
	u   any // raw decoded by the unstructured converter; nil for typed objects
}

// keyCache is a bounded map from a content hash to a computed result; when
// full it starts over (a hit rate near one matters, recency does not).
type keyCache[V any] struct {
	mu sync.Mutex
	m  map[[32]byte]V
}

const fieldsCacheMax = 4096

func (c *keyCache[V]) get(k [32]byte) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *keyCache[V]) put(k [32]byte, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= fieldsCacheMax {
		c.m = make(map[[32]byte]V, 256)
	}
	c.m[k] = v
}

// trackCreate records manager as the owner of every field of a new object.
func (st *Storage) trackCreate(r *Resource, obj runtime.Object, manager string) runtime.Object {
	fm := r.FieldManager("")
	if fm == nil {
		return obj
	}
	m, err := meta.Accessor(obj)
	if err != nil || len(m.GetManagedFields()) > 0 || m.GetAnnotations()["kubectl.kubernetes.io/last-applied-configuration"] != "" {
		return fm.UpdateNoErrors(r.New(), obj, manager)
	}
	js, err := json.Marshal(obj)
	if err != nil {
		return fm.UpdateNoErrors(r.New(), obj, manager)
	}
	key := shapeKey(r.GVK().String(), manager, js)
	if sf, ok := st.fields.get(key); ok {
		entry := metav1.ManagedFieldsEntry{
			Manager: manager, Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: r.GVK().GroupVersion().String(),
			Time: ptrTime(metav1.NewTime(st.Clock.Now())), FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: sf.raw},
		}
		if u, ok := obj.(*unstructured.Unstructured); ok && sf.u != nil && setUnstructuredManaged(u, entry, sf.u) {
			return obj
		}
		m.SetManagedFields([]metav1.ManagedFieldsEntry{entry})
		return obj
	}
	out := fm.UpdateNoErrors(r.New(), obj, manager)
	if om, err := meta.Accessor(out); err == nil {
		if mf := om.GetManagedFields(); len(mf) == 1 && mf[0].Manager == manager && mf[0].FieldsV1 != nil &&
			mf[0].Operation == metav1.ManagedFieldsOperationUpdate && mf[0].Subresource == "" {
			sf := &shapeFields{raw: mf[0].FieldsV1.Raw}
			if _, ok := out.(*unstructured.Unstructured); ok {
				if u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&mf[0]); err == nil {
					sf.u = u["fieldsV1"]
				}
			}
			st.fields.put(key, sf)
		}
	}
	return out
}

// setUnstructuredManaged sets u's managedFields to the one entry e, whose
// fieldsV1 is fields in unstructured form, as Unstructured.SetManagedFields
// would (TestUnstructuredManagedFields), without converting it again. It
// reports false when u has no metadata map.
func setUnstructuredManaged(u *unstructured.Unstructured, e metav1.ManagedFieldsEntry, fields any) bool {
	md, ok := u.Object["metadata"].(map[string]any)
	if !ok {
		return false
	}
	md["managedFields"] = []any{map[string]any{
		"manager":    e.Manager,
		"operation":  string(e.Operation),
		"apiVersion": e.APIVersion,
		"time":       e.Time.ToUnstructured(),
		"fieldsType": e.FieldsType,
		"fieldsV1":   runtime.DeepCopyJSONValue(fields),
	}}
	return true
}

func ptrTime(t metav1.Time) *metav1.Time { return &t }

// shapeKey hashes JSON with every scalar value that is not inside an array
// replaced by a placeholder; object keys and array contents stay as they are.
func shapeKey(kind, manager string, js []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(manager))
	h.Write([]byte{0})
	placeholder := []byte{'_'}
	out := walkJSON(js, func(tok []byte, key, inArray bool) []byte {
		if key || inArray {
			return tok
		}
		return placeholder
	})
	h.Write(out)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// walkJSON copies a compact JSON text: punctuation as it is, and each
// scalar (an object key, or a value) through f, which is told whether the
// scalar is a key and whether it lies inside an array.
func walkJSON(js []byte, f func(tok []byte, key, inArray bool) []byte) []byte {
	out := make([]byte, 0, len(js)+16)
	stack := make([]byte, 0, 16) // container kinds: '{' or '['
	inArray := 0
	expectKey := false
	for i := 0; i < len(js); i++ {
		switch c := js[i]; c {
		case '{', '[':
			stack = append(stack, c)
			expectKey = c == '{'
			if c == '[' {
				inArray++
			}
			out = append(out, c)
		case '}', ']':
			if n := len(stack); n > 0 {
				if stack[n-1] == '[' {
					inArray--
				}
				stack = stack[:n-1]
			}
			out = append(out, c)
		case ',':
			expectKey = len(stack) > 0 && stack[len(stack)-1] == '{'
			out = append(out, c)
		case ':', ' ', '\t', '\n', '\r':
			if c == ':' {
				expectKey = false
			}
			out = append(out, c)
		default:
			j := scalarEnd(js, i)
			out = append(out, f(js[i:j], expectKey, inArray > 0)...)
			i = j - 1
		}
	}
	return out
}

// scalarEnd returns the end of the JSON scalar (string, number, true, false
// or null) starting at js[i]: the index just past it, at most len(js).
func scalarEnd(js []byte, i int) int {
	j := i
	if js[i] == '"' {
		j++
		for j < len(js) && js[j] != '"' {
			if js[j] == '\\' {
				j++
			}
			j++
		}
		j++
	} else {
		for j < len(js) && js[j] != ',' && js[j] != '}' && js[j] != ']' {
			j++
		}
	}
	return min(j, len(js))
}
