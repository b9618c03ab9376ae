package controller

import (
	"bytes"
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// LegacyTokenSigner signs the token of a legacy ServiceAccount token
// Secret (the key is the API server's, which the token controller of
// kube-controller-manager also holds).
type LegacyTokenSigner func(ns, serviceAccount, uid, secret string) (string, error)

// rootCAConfigMap is what every namespace gets, as the root-ca-cert-publisher makes it.
const rootCAConfigMap = "kube-root-ca.crt"

// serviceAccounts runs kube-controller-manager's serviceaccount and
// root-ca-cert-publisher controllers (one sync per namespace: a "default"
// ServiceAccount and the kube-root-ca.crt ConfigMap) and, with a signer,
// the token controller's filling of legacy token Secrets.
type serviceAccounts struct {
	m       *Manager
	ns      *loop
	tokens  *loop
	nsList  corelisters.NamespaceLister
	secrets corelisters.SecretLister
}

func (m *Manager) addServiceAccounts() {
	s := &serviceAccounts{m: m}
	s.ns = m.newLoop("serviceaccount", 2, s.syncNamespace)
	ni := m.factory.Core().V1().Namespaces()
	s.nsList = ni.Lister()
	_, _ = ni.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: s.ns.enqueue})
	if m.o.LegacyTokenSigner == nil {
		return
	}
	// Only token Secrets are watched (a field selector on type).
	f := informers.NewSharedInformerFactoryWithOptions(m.o.Client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("type", string(corev1.SecretTypeServiceAccountToken)).String()
	}))
	si := f.Core().V1().Secrets()
	s.secrets = si.Lister()
	s.tokens = m.newLoop("serviceaccount-token", 2, s.syncToken)
	_, _ = si.Informer().AddEventHandler(s.tokens.handler())
	m.extraFactories = append(m.extraFactories, f)
}

func (s *serviceAccounts) syncNamespace(ctx context.Context, name string) (time.Duration, error) {
	ns, err := s.nsList.Get(name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil || ns.DeletionTimestamp != nil || ns.Status.Phase == corev1.NamespaceTerminating {
		return 0, err
	}
	c := s.m.o.Client.CoreV1()
	if _, err := c.ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{}); apierrors.IsNotFound(err) {
		_, err = c.ServiceAccounts(name).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) && !apierrors.IsForbidden(err) {
			return 0, err
		}
	} else if err != nil {
		return 0, err
	}
	ca := s.m.o.RootCA
	if len(ca) == 0 {
		return 0, nil
	}
	want := map[string]string{"ca.crt": string(ca)}
	cm, err := c.ConfigMaps(name).Get(ctx, rootCAConfigMap, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = c.ConfigMaps(name).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: rootCAConfigMap,
			Annotations: map[string]string{"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. " +
				"No other usage is guaranteed across distributions of Kubernetes clusters."}}, Data: want}, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) || apierrors.IsForbidden(err) {
			err = nil
		}
		return 0, err
	case err != nil:
		return 0, err
	case cm.Data["ca.crt"] == string(ca) && len(cm.Data) == 1:
		return 0, nil
	}
	cm = cm.DeepCopy()
	cm.Data = want
	_, err = c.ConfigMaps(name).Update(ctx, cm, metav1.UpdateOptions{})
	return 0, err
}

// syncToken fills a legacy token Secret (type
// kubernetes.io/service-account-token, annotated with the account's name)
// with its token, the CA and the namespace, and records the account's UID.
func (s *serviceAccounts) syncToken(ctx context.Context, key string) (time.Duration, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return 0, nil
	}
	sec, err := s.secrets.Secrets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil || sec.DeletionTimestamp != nil || len(sec.Data[corev1.ServiceAccountTokenKey]) > 0 {
		return 0, err
	}
	saName := sec.Annotations[corev1.ServiceAccountNameKey]
	if saName == "" {
		return 0, nil
	}
	c := s.m.o.Client.CoreV1()
	sa, err := c.ServiceAccounts(ns).Get(ctx, saName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return 0, nil // the real controller deletes such Secrets; stratus leaves them
	}
	if err != nil {
		return 0, err
	}
	if uid := sec.Annotations[corev1.ServiceAccountUIDKey]; uid != "" && uid != string(sa.UID) {
		return 0, nil
	}
	tok, err := s.m.o.LegacyTokenSigner(ns, sa.Name, string(sa.UID), sec.Name)
	if err != nil {
		return 0, err
	}
	sec = sec.DeepCopy()
	if sec.Data == nil {
		sec.Data = map[string][]byte{}
	}
	if sec.Annotations == nil {
		sec.Annotations = map[string]string{}
	}
	sec.Annotations[corev1.ServiceAccountUIDKey] = string(sa.UID)
	sec.Data[corev1.ServiceAccountTokenKey] = []byte(tok)
	sec.Data[corev1.ServiceAccountNamespaceKey] = []byte(ns)
	if len(s.m.o.RootCA) > 0 && !bytes.Equal(sec.Data[corev1.ServiceAccountRootCAKey], s.m.o.RootCA) {
		sec.Data[corev1.ServiceAccountRootCAKey] = s.m.o.RootCA
	}
	_, err = c.Secrets(ns).Update(ctx, sec, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		return time.Millisecond, nil
	}
	return 0, err
}
