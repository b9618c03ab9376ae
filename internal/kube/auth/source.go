package auth

import (
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// InformerSource reads roles and bindings from a shared informer factory's
// rbac/v1 informers. Watch registers handlers that invalidate r.
type InformerSource struct {
	f informers.SharedInformerFactory
}

// NewInformerSource asks f for the four RBAC informers (start f after).
func NewInformerSource(f informers.SharedInformerFactory) *InformerSource {
	s := &InformerSource{f: f}
	rb := f.Rbac().V1()
	rb.ClusterRoles().Informer()
	rb.Roles().Informer()
	rb.ClusterRoleBindings().Informer()
	rb.RoleBindings().Informer()
	return s
}

// Watch makes every change of a role or binding invalidate r's index.
func (s *InformerSource) Watch(r *RBAC) error {
	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { r.Invalidate() },
		UpdateFunc: func(any, any) { r.Invalidate() },
		DeleteFunc: func(any) { r.Invalidate() },
	}
	rb := s.f.Rbac().V1()
	for _, inf := range []cache.SharedIndexInformer{rb.ClusterRoles().Informer(), rb.Roles().Informer(),
		rb.ClusterRoleBindings().Informer(), rb.RoleBindings().Informer()} {
		if _, err := inf.AddEventHandler(h); err != nil {
			return err
		}
	}
	return nil
}

// ClusterRoles implements Source.
func (s *InformerSource) ClusterRoles() ([]*rbacv1.ClusterRole, error) {
	return s.f.Rbac().V1().ClusterRoles().Lister().List(labels.Everything())
}

// Roles implements Source.
func (s *InformerSource) Roles() ([]*rbacv1.Role, error) {
	return s.f.Rbac().V1().Roles().Lister().List(labels.Everything())
}

// ClusterRoleBindings implements Source.
func (s *InformerSource) ClusterRoleBindings() ([]*rbacv1.ClusterRoleBinding, error) {
	return s.f.Rbac().V1().ClusterRoleBindings().Lister().List(labels.Everything())
}

// RoleBindings implements Source.
func (s *InformerSource) RoleBindings() ([]*rbacv1.RoleBinding, error) {
	return s.f.Rbac().V1().RoleBindings().Lister().List(labels.Everything())
}

// StaticSource is a fixed set of roles and bindings (tests, benchmarks).
type StaticSource struct {
	CR  []*rbacv1.ClusterRole
	R   []*rbacv1.Role
	CRB []*rbacv1.ClusterRoleBinding
	RB  []*rbacv1.RoleBinding
}

// ClusterRoles implements Source.
func (s *StaticSource) ClusterRoles() ([]*rbacv1.ClusterRole, error) { return s.CR, nil }

// Roles implements Source.
func (s *StaticSource) Roles() ([]*rbacv1.Role, error) { return s.R, nil }

// ClusterRoleBindings implements Source.
func (s *StaticSource) ClusterRoleBindings() ([]*rbacv1.ClusterRoleBinding, error) {
	return s.CRB, nil
}

// RoleBindings implements Source.
func (s *StaticSource) RoleBindings() ([]*rbacv1.RoleBinding, error) { return s.RB, nil }
