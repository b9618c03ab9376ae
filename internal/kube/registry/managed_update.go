package registry

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"maps"
	"reflect"
	"sort"
	"strconv"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
//   - The comparison looks at string values only to tell whether they are
//     equal (and, where they name list items in a field set, to order
//     them). So the result depends only on the shapes of the trimmed
//     objects and of the managed fields before, with every string replaced
//     by the number of its class of equal strings, numbers in lists kept,
//     and for other numbers whether they are equal in both objects. Keyed
//     by that, the result is cached as a template (entries with strings as
//     class numbers, and whether each keeps its time or takes the write's),
//     so the first status write of every pod of a controller, a lease
//     renewal or a replica count change pays the full cost once. A template
//     is used only when the strings it names sort the same way as when it
//     was made.
//
// TestUpdateFieldsMatchFieldManager checks both against the field manager.
type cachedEntry struct {
	e metav1.ManagedFieldsEntry // Time unset; FieldsV1 a template
	// time kept from entry idx of the stored object's (fromNew false) or
	// the request's (fromNew true) managed fields; idx -1: the write's time
	idx     int
	fromNew bool
}

// cachedResult is a cached update result.
type cachedResult struct {
	entries []cachedEntry
	order   []int // classes the templates name, by increasing value
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
	key, syms, cacheable := updateKey(r, sub, manager, live, next, liveMF, newMF)
	if cacheable {
		if res, ok := st.updates.get(key); ok {
			if mf, ok := rebuildEntries(res, syms, liveMF, newMF, metav1.NewTime(st.Clock.Now().UTC())); ok {
				m.SetManagedFields(mf)
				return obj
			}
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
		if res, ok := cacheEntries(mf, syms, liveMF, newMF); ok {
			st.updates.put(key, res)
		}
	}
	return obj
}

// trimEqual returns shallow copies of cur and obj with the fields equal in
// both zeroed: top-level fields and the fields of top-level structs
// (metadata, spec, status), except the metadata the field manager reads.
func trimEqual(cur, obj runtime.Object) (runtime.Object, runtime.Object) {
	if u, ok := cur.(*unstructured.Unstructured); ok {
		// A custom resource: cur is the cached object other requests
		// read, and updateKey sets its managed fields aside for a moment,
		// so it gets a copy of its top level and metadata.
		return shallowUnstructured(u), obj
	}
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

// shallowUnstructured copies u's top-level map and its metadata map, so
// the copy's metadata can change without touching u.
func shallowUnstructured(u *unstructured.Unstructured) *unstructured.Unstructured {
	c := &unstructured.Unstructured{Object: maps.Clone(u.Object)}
	if md, ok := c.Object["metadata"].(map[string]any); ok {
		c.Object["metadata"] = maps.Clone(md)
	}
	return c
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

// symbols numbers the distinct string values of an update's inputs.
type symbols struct {
	ids  map[string]int
	vals []string
	bad  bool // a value this scheme cannot carry (escapes)
}

// sym appends to dst the class of a string token: "\u0000S<n>".
func (s *symbols) sym(dst, tok []byte) []byte {
	if !plainToken(tok) {
		s.bad = true
		return append(dst, tok...)
	}
	v := tok[1 : len(tok)-1]
	id, ok := s.ids[string(v)]
	if !ok {
		id = len(s.vals)
		sv := string(v)
		s.ids[sv] = id
		s.vals = append(s.vals, sv)
	}
	return appendSym(dst, id)
}

func appendSym(dst []byte, id int) []byte {
	dst = append(dst, `"\u0000S`...)
	dst = strconv.AppendInt(dst, int64(id), 10)
	return append(dst, '"')
}

// plainToken reports whether a JSON string token escapes nothing (and
// holds nothing an encoder might escape), so its bytes are its value.
func plainToken(tok []byte) bool {
	if len(tok) < 2 || tok[0] != '"' || tok[len(tok)-1] != '"' {
		return false
	}
	for _, c := range tok[1 : len(tok)-1] {
		if c == '\\' || c == '"' || c < 0x20 || c == '<' || c == '>' || c == '&' || c >= 0x80 {
			return false
		}
	}
	return true
}

// value returns the string token a class stands for in this update.
func (s *symbols) value(tok []byte) ([]byte, bool) {
	const pre = `"\u0000S`
	if !bytes.HasPrefix(tok, []byte(pre)) {
		return tok, true
	}
	id, err := strconv.Atoi(string(tok[len(pre) : len(tok)-1]))
	if err != nil || id < 0 || id >= len(s.vals) {
		return nil, false
	}
	return []byte(`"` + s.vals[id] + `"`), true
}

// mapFields rewrites the string values inside the key and value path
// elements ("k:{...}", "v:...") of a FieldsV1 document with f.
func mapFields(raw []byte, f func(tok []byte) ([]byte, bool)) ([]byte, bool) {
	ok := true
	out := mapJSON(raw, func(key []byte) []byte {
		if !bytes.HasPrefix(key, []byte(`"k:`)) && !bytes.HasPrefix(key, []byte(`"v:`)) {
			return key // a field name or "."
		}
		k, plain := plainKey(key)
		if !plain {
			ok = false
			return key
		}
		inner := mapJSON([]byte(k[2:]), nil, func(tok []byte) []byte {
			v, good := f(tok)
			if !good {
				ok = false
				return tok
			}
			return v
		})
		q, good := quoteKey(k[:2] + string(inner))
		if !good {
			ok = false
			return key
		}
		return q
	}, nil)
	return out, ok
}

// plainKey unquotes a JSON object key that escapes nothing but quotes and
// backslashes (what a field set's keys hold); plain is false for others.
func plainKey(tok []byte) (string, bool) {
	if len(tok) < 2 || tok[0] != '"' || tok[len(tok)-1] != '"' {
		return "", false
	}
	v := tok[1 : len(tok)-1]
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\':
			if i+1 >= len(v) || (v[i+1] != '"' && v[i+1] != '\\') {
				return "", false
			}
			i++
			b = append(b, v[i])
		case c < 0x20 || c == '<' || c == '>' || c == '&' || c >= 0x80:
			return "", false
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

// quoteKey is plainKey's inverse.
func quoteKey(k string) ([]byte, bool) {
	q := make([]byte, 0, len(k)+8)
	q = append(q, '"')
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '"' || c == '\\':
			q = append(q, '\\', c)
		case c < 0x20 || c == '<' || c == '>' || c == '&' || c >= 0x80:
			return nil, false
		default:
			q = append(q, c)
		}
	}
	return append(q, '"'), true
}

// mapJSON copies a JSON text, passing object keys through key and string
// values through str (nil: unchanged).
func mapJSON(js []byte, key, str func(tok []byte) []byte) []byte {
	return walkJSON(js, func(tok []byte, isKey, _ bool) []byte {
		switch {
		case isKey && key != nil:
			return key(tok)
		case !isKey && str != nil && tok[0] == '"':
			return str(tok)
		}
		return tok
	})
}

// updateKey hashes what an update's managed fields depend on, and returns
// the string classes of its inputs; ok is false when the update cannot be
// cached.
func updateKey(r *Resource, sub, manager string, live, next runtime.Object, liveMF, newMF []metav1.ManagedFieldsEntry) ([32]byte, *symbols, bool) {
	var k [32]byte
	if len(liveMF) > maxCachedManagers || len(newMF) > maxCachedManagers {
		return k, nil, false
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
		return k, nil, false
	}
	syms := &symbols{ids: map[string]int{}}
	// everything the key covers, each part length-prefixed, hashed at once
	kb := make([]byte, 0, 2*(len(lj)+len(nj))+512)
	strb := func(b []byte) {
		kb = binary.LittleEndian.AppendUint64(kb, uint64(len(b)))
		kb = append(kb, b...)
	}
	str := func(s string) {
		kb = binary.LittleEndian.AppendUint64(kb, uint64(len(s)))
		kb = append(kb, s...)
	}
	str(r.GVK().String())
	str(sub)
	str(manager)
	// A request mostly carries back the managed fields it read: an entry
	// of newMF whose fields are those of liveMF's entry at the same index
	// maps to the same bytes (its strings already have their classes).
	var mapped [][]byte
	for li, list := range [][]metav1.ManagedFieldsEntry{liveMF, newMF} {
		str(strconv.Itoa(len(list)))
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
				continue
			}
			var raw []byte
			if li == 1 && i < len(mapped) && mapped[i] != nil && liveMF[i].FieldsV1 != nil && bytes.Equal(liveMF[i].FieldsV1.Raw, e.FieldsV1.Raw) {
				raw = mapped[i]
			} else {
				var ok bool
				raw, ok = mapFields(e.FieldsV1.Raw, func(tok []byte) ([]byte, bool) { return syms.sym(nil, tok), true })
				if !ok {
					return k, nil, false
				}
			}
			if li == 0 {
				if mapped == nil {
					mapped = make([][]byte, len(list))
				}
				mapped[i] = raw
			}
			str("fields")
			strb(raw)
		}
	}
	// Numbers and booleans outside lists: which are equal in both.
	leaves := map[string][]byte{}
	shape := scanJSON(lj, func(path, val []byte) { leaves[string(path)] = val }, syms.sym)
	strb(shape)
	shape = scanJSON(nj, func(path, val []byte) {
		if old, ok := leaves[string(path)]; ok && bytes.Equal(old, val) {
			strb(path)
		}
	}, syms.sym)
	str("|")
	strb(shape)
	return sha256.Sum256(kb), syms, !syms.bad
}

// scanJSON returns js with every string value replaced by what str
// appends for it,
// every other scalar outside arrays by a placeholder ('_', or 'n' for null)
// and calls leaf with each such scalar's path (object keys joined by NUL)
// and raw value; object keys, and numbers and booleans in arrays, stay.
func scanJSON(js []byte, leaf func(path, val []byte), str func(dst, tok []byte) []byte) []byte {
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
			j := scalarEnd(js, i)
			tok := js[i:j]
			switch {
			case expectKey:
				if n := len(stack); n > 0 && inArray == 0 {
					path = append(path[:stack[n-1].base], 0)
					path = append(path, tok...)
				}
				out = append(out, tok...)
			case c == '"':
				out = str(out, tok)
			case inArray > 0:
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
// fields become a template and its time is kept from an input entry of the
// same writer or is the write's.
func cacheEntries(out []metav1.ManagedFieldsEntry, syms *symbols, liveMF, newMF []metav1.ManagedFieldsEntry) (*cachedResult, bool) {
	if len(out) > maxCachedManagers {
		return nil, false
	}
	res := &cachedResult{entries: make([]cachedEntry, 0, len(out))}
	used := map[int]bool{}
	for _, e := range out {
		if e.Time == nil {
			return nil, false
		}
		c := cachedEntry{e: e, idx: -1}
		c.e.Time = nil
		if e.FieldsV1 != nil {
			known := true
			tmpl, ok := mapFields(e.FieldsV1.Raw, func(tok []byte) ([]byte, bool) {
				id, found := -1, false
				if plainToken(tok) {
					id, found = syms.ids[string(tok[1:len(tok)-1])]
				}
				if !found {
					known = false // a value from nowhere: do not guess
					return tok, true
				}
				used[id] = true
				return appendSym(nil, id), true
			})
			if !ok || !known {
				return nil, false
			}
			// The template must give back exactly these bytes.
			if back, ok := mapFields(tmpl, syms.value); !ok || !bytes.Equal(back, e.FieldsV1.Raw) {
				return nil, false
			}
			c.e.FieldsV1 = &metav1.FieldsV1{Raw: tmpl}
		}
		if i := sameWriter(liveMF, &e); i >= 0 {
			c.idx = i
		} else if i := sameWriter(newMF, &e); i >= 0 {
			c.idx, c.fromNew = i, true
		}
		res.entries = append(res.entries, c)
	}
	for id := range used {
		res.order = append(res.order, id)
	}
	sort.Slice(res.order, func(i, j int) bool { return syms.vals[res.order[i]] < syms.vals[res.order[j]] })
	return res, true
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
// field manager sorts them; ok is false when this update's strings do not
// sort as the template's did.
func rebuildEntries(res *cachedResult, syms *symbols, liveMF, newMF []metav1.ManagedFieldsEntry, now metav1.Time) ([]metav1.ManagedFieldsEntry, bool) {
	for i := 1; i < len(res.order); i++ {
		a, b := res.order[i-1], res.order[i]
		if a >= len(syms.vals) || b >= len(syms.vals) || syms.vals[a] >= syms.vals[b] {
			return nil, false
		}
	}
	out := make([]metav1.ManagedFieldsEntry, len(res.entries))
	for i, c := range res.entries {
		out[i] = c.e
		// An entry whose time is kept from an input entry shares that
		// entry's time and, when equal, its fields: the stored objects
		// are never changed, and a controller's thousands of pods then
		// hold their creator's entry once instead of once each.
		var from *metav1.ManagedFieldsEntry
		if c.idx >= 0 {
			src := liveMF
			if c.fromNew {
				src = newMF
			}
			if c.idx >= len(src) || src[c.idx].Time == nil {
				return nil, false
			}
			from = &src[c.idx]
			out[i].Time = from.Time
		} else {
			t := now
			out[i].Time = &t
		}
		if c.e.FieldsV1 != nil {
			raw, ok := mapFields(c.e.FieldsV1.Raw, syms.value)
			if !ok {
				return nil, false
			}
			switch {
			case from != nil && from.FieldsV1 != nil && bytes.Equal(raw, from.FieldsV1.Raw):
				out[i].FieldsV1 = from.FieldsV1
				continue
			case cap(raw)-len(raw) > len(raw)/8:
				// The values are longer than the template's class
				// numbers, so the buffer grew by doubling: the stored
				// object would keep up to twice its bytes.
				raw = bytes.Clone(raw)
			}
			out[i].FieldsV1 = &metav1.FieldsV1{Raw: raw}
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
	return out, true
}
