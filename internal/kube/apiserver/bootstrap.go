package apiserver

import (
	"context"
	"errors"
	"net"
	"sync"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/stratus-cloud/stratus/internal/kube/registry"
)

// builtinNamespaces always exist.
var builtinNamespaces = []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, corev1.NamespaceNodeLease}

// bootstrap creates what a fresh cluster has: the four namespaces, the
// kubernetes service (first cluster IP) and its endpoints pointing at this
// server, the system priority classes and the component statuses.
func (s *Server) bootstrap(ctx context.Context, addr *net.TCPAddr) error {
	nsr := s.reg.Lookup("", "v1", "namespaces")
	// No managed fields here: tracking needs the apply schema, which is still
	// being parsed in the background, and start-up must not wait for it.
	wo := registry.WriteOptions{}
	// Writes side by side share the store's commits (one fsync for each
	// step rather than for each object): first the namespaces, then what
	// lives in default.
	var nsWrites []func() error
	for _, name := range builtinNamespaces {
		nsWrites = append(nsWrites, func() error {
			return s.ensure(ctx, nsr, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, wo)
		})
	}
	if err := together(nsWrites...); err != nil {
		return err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: metav1.NamespaceDefault,
			Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: []corev1.ServicePort{{
			Name: "https", Port: 443, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(int32(addr.Port))}}},
	}
	ip := addr.IP.String()
	if addr.IP.IsUnspecified() {
		ip = "127.0.0.1"
	}
	port := int32(addr.Port)
	ep := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: metav1.NamespaceDefault},
		Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: ip}},
			Ports: []corev1.EndpointPort{{Name: "https", Port: port, Protocol: corev1.ProtocolTCP}}}},
	}
	name, proto, ready := "https", corev1.ProtocolTCP, true
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: metav1.NamespaceDefault,
			Labels: map[string]string{discoveryv1.LabelServiceName: "kubernetes", discoveryv1.LabelManagedBy: "stratus-apiserver"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &port, Protocol: &proto}},
	}
	pcr := s.reg.Lookup("scheduling.k8s.io", "v1", "priorityclasses")
	csr := s.reg.Lookup("", "v1", "componentstatuses")
	return together(
		func() error {
			var errs []error
			for _, cs := range registry.ComponentStatuses() {
				errs = append(errs, s.upsert(ctx, csr, cs, wo))
			}
			return errors.Join(errs...)
		},
		func() error {
			var errs []error
			for _, pc := range registry.SystemPriorityClasses() {
				errs = append(errs, s.ensure(ctx, pcr, pc, wo))
			}
			return errors.Join(errs...)
		},
		func() error { return s.ensure(ctx, s.reg.Lookup("", "v1", "services"), svc, wo) },
		func() error { return s.upsert(ctx, s.reg.Lookup("", "v1", "endpoints"), ep, wo) },
		func() error {
			return s.upsert(ctx, s.reg.Lookup("discovery.k8s.io", "v1", "endpointslices"), slice, wo)
		},
	)
}

// together runs fns side by side and returns their errors joined.
func together(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = fn() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ensure creates obj unless it exists.
func (s *Server) ensure(ctx context.Context, r *registry.Resource, obj runtime.Object, wo registry.WriteOptions) error {
	_, err := s.storage.Create(ctx, r, obj, wo)
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// upsert creates obj or replaces what is stored.
func (s *Server) upsert(ctx context.Context, r *registry.Resource, obj runtime.Object, wo registry.WriteOptions) error {
	ns, name := registry.ObjectName(obj)
	wo.CreateIfMissing = true
	_, _, err := s.storage.Update(ctx, r, ns, name, func(cur runtime.Object) (runtime.Object, error) {
		return obj.DeepCopyObject(), nil
	}, wo)
	return err
}
