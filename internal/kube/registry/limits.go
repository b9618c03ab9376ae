package registry

import (
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stratus-cloud/stratus/internal/store"
)

// Size limits, as the real server applies them.
//
// kube-apiserver reads request bodies of up to 3 MiB (the apiserver
// package's body limit), validates ConfigMap and Secret data against
// 1 MiB (core.MaxSecretSize: the sum of every key's and value's length),
// and stores what etcd accepts: 1.5 MiB per request. An object whose
// encoding is larger than the store takes is refused with the 413 the
// real server answers when etcd says "request is too large", never a 500.

// maxDataSize is core.MaxSecretSize: the most data a ConfigMap or Secret holds.
const maxDataSize = 1 << 20

// maxObjectSize is the largest encoded object the store takes (a little
// under etcd's 1.5 MiB request limit: the key and the transaction's
// other operations travel in the same request).
const maxObjectSize = store.MaxValueSize

// errObjectTooLarge is the real server's answer to an object etcd refuses.
func errObjectTooLarge() error {
	return apierrors.NewRequestEntityTooLargeError("etcdserver: request is too large")
}

// configMapDataTooLong checks a ConfigMap's data and binary data against
// maxDataSize, as ValidateConfigMap does (the error is on the whole object).
func configMapDataTooLong(cm *corev1.ConfigMap) *field.Error {
	n := 0
	for k, v := range cm.Data {
		n += len(k) + len(v)
	}
	for k, v := range cm.BinaryData {
		n += len(k) + len(v)
	}
	if n > maxDataSize {
		return field.TooLong(field.NewPath(""), "", maxDataSize)
	}
	return nil
}

// secretDataTooLong checks a Secret's data against maxDataSize, as
// ValidateSecret does (the error is on data).
func secretDataTooLong(s *corev1.Secret) *field.Error {
	n := 0
	for k, v := range s.Data {
		n += len(k) + len(v)
	}
	if n > maxDataSize {
		return field.TooLong(field.NewPath("data"), "", maxDataSize)
	}
	return nil
}
