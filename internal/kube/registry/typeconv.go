package registry

import (
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
)

// typeConverter is the structured-merge-diff schema of every built-in type
// (embedded in client-go's apply configurations), which server-side apply
// needs to merge lists by key. Parsing it takes most of a second, so it is
// parsed once per process, in the background, and is immutable afterwards:
// a lazily computed constant, not shared mutable state.
var typeConverter = sync.OnceValue(func() managedfields.TypeConverter {
	return applyconfigurations.NewTypeConverter(schemeForTypes())
})

// schemeForTypes is only used to look up the Go types of the schema.
func schemeForTypes() *runtime.Scheme { return NewCodecs().Scheme }

// Prewarm starts parsing the apply schema so the first write does not wait.
func Prewarm() { go typeConverter() }
