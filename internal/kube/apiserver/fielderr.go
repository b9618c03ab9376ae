package apiserver

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

func path(p string) *field.Path {
	parts := strings.Split(p, ".")
	return field.NewPath(parts[0], parts[1:]...)
}

func fieldRequired(p, msg string) field.ErrorList {
	return field.ErrorList{field.Required(path(p), msg)}
}

func fieldInvalid(p string, v any, msg string) field.ErrorList {
	return field.ErrorList{field.Invalid(path(p), v, msg)}
}

func fieldNotSupported(p string, v any, valid []string) field.ErrorList {
	return field.ErrorList{field.NotSupported(path(p), v, valid)}
}
