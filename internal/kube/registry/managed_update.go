package registry

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"reflect"
	"sort"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Managed fields on update.
//
// An update's managed fields follow from comparing the stored object with
// the new one (structured-merge-diff: the fields the writer added or
// changed become its own and leave every other manager; removed fields
// leave everyone; the writer's entry gets a new time only when it changed
// something). The field manager converts both objects whole, which costs a
// pod status write several hundred microseconds. Two shortcuts, both exact:
//
//   - Parts equal in both objects cannot show up in the comparison, so the
//     field manager is given copies with them zeroed (the spec of a status
//     write, the status of a main-resource write, unchanged metadata).
//   - The result depends only on the managed fields before, the two
//     trimmed objects' shapes (keys, and list contents verbatim, since list
//     items name set elements) and which scalars outside lists are equal in
//     both. Keyed by that, the result (entries, and for each whether its
//     time is kept or now) is cached, so a lease renewal, a node heartbeat
//     or a replica count change pays the full cost once per shape.
//
// TestUpdateFieldsMatchFieldManager checks both against the field manager.
type cachedEntry struct {
	e metav1.ManagedFieldsEntry // Time unset
	// time kept from entry idx of the stored object's (fromNew false) or
	// the request's (fromNew true) managed fields; idx -1: the write's time
	idx     int
	fromNew bool
}

// maxCachedManagers keeps the cache away from the cap on update managers
// (ten, then the oldest merge), which depends on entry times.
const maxCachedManagers = 9

// trackUpdate sets obj's managed fields for manager's write of obj over cur
// (through subresource sub).
func (st *Storage) trackUpdate(r *Resource, cur, obj runtime.Object, manager, sub string) runtime.Object {
	fm := r.updateFieldManager(sub)
	if fm == nil {
		return obj
	}
	live, next := trimEqual(cur, obj)
	m, err := meta.Accessor(obj)
	if err != nil {
		return fm.UpdateNoErrors(cur, obj, manager)
	}
	lm, _ := meta.Accessor(live)
	nm, _ := meta.Accessor(next)
	liveMF, newMF := lm.GetManagedFields(), nm.GetManagedFields()
	key, cacheable := updateKey(r, sub, manager, live, next, liveMF, newMF)
	if cacheable {
		if ce, ok := st.updates.get(key); ok {
			m.SetManagedFields(rebuildEntries(ce, liveMF, newMF, metav1.NewTime(st.Now().UTC())))
			return obj
		}
	}
	out := fm.UpdateNoErrors(live, next, manager)
	om, err := meta.Accessor(out)
	if err != nil {
		return fm.UpdateNoErrors(cur, obj, manager)
	}
	mf := om.GetManagedFields()
	m.SetManagedFields(mf)
	if cacheable {
		if ce, ok := cacheEntries(mf, liveMF, newMF); ok {
			st.updates.put(key, ce)
		}
	}
	return obj
}

// trimEqual returns shallow copies of cur and obj with the fields equal in
// both zeroed: top-level fields and the fields of top-level structs
// (metadata, spec, status), except the metadata the field manager reads.
func trimEqual(cur, obj runtime.Object) (runtime.Object, runtime.Object) {
	cv, nv := reflect.ValueOf(cur), reflect.ValueOf(obj)
	if cv.Kind() != reflect.Pointer || cv.Type() != nv.Type() || cv.IsNil() || nv.IsNil() || cv.Elem().Kind() != reflect.Struct {
		return cur, obj
	}
	t := cv.Elem().Type()
	lp, np := reflect.New(t), reflect.New(t)
	lp.Elem().Set(cv.Elem())
	np.Elem().Set(nv.Elem())
	trimStruct(lp.Elem(), np.Elem(), true)
	lo, ok1 := lp.Interface().(runtime.Object)
	no, ok2 := np.Interface().(runtime.Object)
	if !ok1 || !ok2 {
		return cur, obj
	}
	return lo, no
}

func trimStruct(a, b reflect.Value, top bool) {
	t := a.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Anonymous {
			continue // TypeMeta is inline: kind and apiVersion stay
		}
		switch f.Name {
		case "ManagedFields", "UID", "Name", "Namespace":
			if !top {
				continue // read by the field manager (and its messages)
			}
		}
		fa, fb := a.Field(i), b.Field(i)
		if reflect.DeepEqual(fa.Interface(), fb.Interface()) {
			if f.Name == "ObjectMeta" {
				trimStruct(fa, fb, false)
				continue
			}
			z := reflect.Zero(f.Type)
			fa.Set(z)
			fb.Set(z)
			continue
		}
		if top && fa.Kind() == reflect.Struct {
			trimStruct(fa, fb, false)
		}
	}
}

// updateKey hashes what an update's managed fields depend on; ok is false
// when the objects cannot be encoded or carry too many managers.
func updateKey(r *Resource, sub, manager string, live, next runtime.Object, liveMF, newMF []metav1.ManagedFieldsEntry) ([32]byte, bool) {
	var k [32]byte
	if len(liveMF) > maxCachedManagers || len(newMF) > maxCachedManagers {
		return k, false
	}
	lm, _ := meta.Accessor(live)
	nm, _ := meta.Accessor(next)
	lm.SetManagedFields(nil)
	nm.SetManagedFields(nil)
	lj, err1 := json.Marshal(live)
	nj, err2 := json.Marshal(next)
	lm.SetManagedFields(liveMF)
	nm.SetManagedFields(newMF)
	if err1 != nil || err2 != nil {
		return k, false
	}
	h := sha256.New()
	str := func(s string) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	str(r.GVK().String())
	str(sub)
	str(manager)
	for _, list := range [][]metav1.ManagedFieldsEntry{liveMF, newMF} {
		str(string(rune('0' + len(list))))
		for i := range list {
			e := &list[i]
			str(e.Manager)
			str(string(e.Operation))
			str(e.APIVersion)
			str(e.FieldsType)
			str(e.Subresource)
			if e.Time == nil {
				str("notime")
			} else {
				str("time")
			}
			if e.FieldsV1 == nil {
				str("nofields")
			} else {
				str("fields")
				str(string(e.FieldsV1.Raw))
			}
		}
	}
	// Scalars outside lists: which are equal in both.
	leaves := map[string][]byte{}
	shape := scanJSON(lj, func(path, val []byte) { leaves[string(path)] = val })
	str(string(shape))
	shape = scanJSON(nj, func(path, val []byte) {
		if old, ok := leaves[string(path)]; ok && bytes.Equal(old, val) {
			str(string(path))
		}
	})
	str("|")
	str(string(shape))
	h.Sum(k[:0])
	return k, true
}

// scanJSON returns js with every scalar outside arrays replaced by a
// placeholder ('_', or 'n' for null), and calls leaf with each such
// scalar's path (object keys joined by NUL) and raw value.
func scanJSON(js []byte, leaf func(path, val []byte)) []byte {
	type frame struct {
		kind byte
		base int
	}
	var (
		stack     = make([]frame, 0, 16)
		path      = make([]byte, 0, 128)
		out       = make([]byte, 0, len(js))
		inArray   = 0
		expectKey = false
	)
	for i := 0; i < len(js); i++ {
		c := js[i]
		switch c {
		case '{', '[':
			stack = append(stack, frame{c, len(path)})
			if c == '[' {
				inArray++
			}
			expectKey = c == '{'
			out = append(out, c)
		case '}', ']':
			if n := len(stack); n > 0 {
				top := stack[n-1]
				if top.kind == '[' {
					inArray--
				}
				stack = stack[:n-1]
				path = path[:top.base]
			}
			out = append(out, c)
		case ',':
			expectKey = len(stack) > 0 && stack[len(stack)-1].kind == '{'
			out = append(out, c)
		case ':':
			expectKey = false
			out = append(out, c)
		default:
			j := i
			if c == '"' {
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
			j = min(j, len(js))
			tok := js[i:j]
			switch {
			case inArray > 0:
				out = append(out, tok...)
			case expectKey:
				if n := len(stack); n > 0 {
					path = append(path[:stack[n-1].base], 0)
					path = append(path, tok...)
				}
				out = append(out, tok...)
			case string(tok) == "null":
				out = append(out, 'n')
				leaf(path, tok)
			default:
				out = append(out, '_')
				leaf(path, tok)
			}
			i = j - 1
		}
	}
	return out
}

// cacheEntries turns a computed result into a cache value: each entry's
// time is kept from an input entry of the same writer or is the write's.
func cacheEntries(out, liveMF, newMF []metav1.ManagedFieldsEntry) ([]cachedEntry, bool) {
	if len(out) > maxCachedManagers {
		return nil, false
	}
	ce := make([]cachedEntry, 0, len(out))
	for _, e := range out {
		if e.Time == nil {
			return nil, false
		}
		c := cachedEntry{e: e, idx: -1}
		c.e.Time = nil
		if i := sameWriter(liveMF, &e); i >= 0 {
			c.idx = i
		} else if i := sameWriter(newMF, &e); i >= 0 {
			c.idx, c.fromNew = i, true
		}
		ce = append(ce, c)
	}
	return ce, true
}

func sameWriter(list []metav1.ManagedFieldsEntry, e *metav1.ManagedFieldsEntry) int {
	for i := range list {
		p := &list[i]
		if p.Manager == e.Manager && p.Operation == e.Operation && p.APIVersion == e.APIVersion && p.Subresource == e.Subresource &&
			p.Time != nil && p.Time.Equal(e.Time) {
			return i
		}
	}
	return -1
}

// rebuildEntries makes the managed fields of a cached result, sorted as the
// field manager sorts them.
func rebuildEntries(ce []cachedEntry, liveMF, newMF []metav1.ManagedFieldsEntry, now metav1.Time) []metav1.ManagedFieldsEntry {
	out := make([]metav1.ManagedFieldsEntry, len(ce))
	for i, c := range ce {
		out[i] = c.e
		t := now
		if c.idx >= 0 {
			src := liveMF
			if c.fromNew {
				src = newMF
			}
			t = *src[c.idx].Time
		}
		out[i].Time = &t
		if c.e.FieldsV1 != nil {
			out[i].FieldsV1 = &metav1.FieldsV1{Raw: c.e.FieldsV1.Raw}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		p, q := &out[i], &out[j]
		if p.Operation != q.Operation {
			return p.Operation < q.Operation
		}
		if ps, qs := p.Time.Unix(), q.Time.Unix(); ps != qs {
			return ps < qs
		}
		if p.Manager != q.Manager {
			return p.Manager < q.Manager
		}
		if p.APIVersion != q.APIVersion {
			return p.APIVersion < q.APIVersion
		}
		return p.Subresource < q.Subresource
	})
	return out
}
