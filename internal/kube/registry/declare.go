package registry

import (
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
)

// declare starts the declaration of a resource of type T (list type L):
// its names for discovery and its types. The caller adds what the kind has
// beyond that (short names, subresources, columns, defaulting, validation).
func declare[T, L any, PT interface {
	*T
	runtime.Object
}, PL interface {
	*L
	runtime.Object
}](group, version, name, kind string, namespaced bool) *Resource {
	return &Resource{Group: group, Version: version, Name: name, Kind: kind, ListKind: kind + "List",
		Singular: strings.ToLower(kind), Namespaced: namespaced,
		New: func() runtime.Object { return PT(new(T)) }, NewList: func() runtime.Object { return PL(new(L)) },
		Columns: defaultColumns, Row: defaultRow}
}

// withStatus marks a resource whose spec bumps the generation and whose
// status only the status subresource writes (cleared on create).
func (r *Resource) withStatus(subs ...string) *Resource {
	r.HasSpec, r.HasStatus = true, true
	r.Subresources = append([]string{"status"}, subs...)
	return r
}
