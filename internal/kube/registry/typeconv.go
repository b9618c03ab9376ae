package registry

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
)

// newTypeConverter returns the structured-merge-diff schema of every
// built-in type (embedded in client-go's apply configurations), which
// server-side apply needs to merge lists by key.
func newTypeConverter(s *runtime.Scheme) managedfields.TypeConverter {
	return applyconfigurations.NewTypeConverter(s)
}
