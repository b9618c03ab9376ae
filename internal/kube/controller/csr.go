package controller

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	certlisters "k8s.io/client-go/listers/certificates/v1"
)

// CSRSigner signs an approved certificate request (PEM) for ttl.
type CSRSigner func(csrPEM []byte, ttl time.Duration) ([]byte, error)

// csrs is kube-controller-manager's csrapproving and csrsigning
// controllers for node client certificates (signer
// kubernetes.io/kube-apiserver-client-kubelet): a request for
// CN=system:node:NAME, O=system:nodes is approved when a SubjectAccessReview
// says its requester may create certificatesigningrequests/nodeclient (a
// bootstrap token) or, for its own name, /selfnodeclient (a node renewing);
// approved requests are signed by the cluster CA.
type csrs struct {
	m      *Manager
	loop   *loop
	lister certlisters.CertificateSigningRequestLister
}

// defaultClusterSigningDuration is how long signed certificates last
// (kube-controller-manager's --cluster-signing-duration default).
const defaultClusterSigningDuration = 365 * 24 * time.Hour

func (m *Manager) addCSRs() {
	c := &csrs{m: m}
	c.loop = m.newLoop("csr", 1, c.sync)
	ci := m.factory.Certificates().V1().CertificateSigningRequests()
	c.lister = ci.Lister()
	_, _ = ci.Informer().AddEventHandler(c.loop.handler())
}

func (c *csrs) sync(ctx context.Context, name string) (time.Duration, error) {
	csr, err := c.lister.Get(name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil || csr.Spec.SignerName != certificatesv1.KubeAPIServerClientKubeletSignerName || len(csr.Status.Certificate) > 0 {
		return 0, err
	}
	approved, denied := false, false
	for _, cond := range csr.Status.Conditions {
		approved = approved || (cond.Type == certificatesv1.CertificateApproved && cond.Status == corev1.ConditionTrue)
		denied = denied || ((cond.Type == certificatesv1.CertificateDenied || cond.Type == certificatesv1.CertificateFailed) && cond.Status == corev1.ConditionTrue)
	}
	if denied {
		return 0, nil
	}
	cl := c.m.o.Client.CertificatesV1().CertificateSigningRequests()
	if !approved {
		ok, err := c.recognized(ctx, csr)
		if err != nil || !ok {
			return 0, err
		}
		csr = csr.DeepCopy()
		csr.Status.Conditions = append(csr.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
			Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "AutoApproved",
			Message: "Auto approving kubelet client certificate after SubjectAccessReview.", LastUpdateTime: metav1.Now()})
		if csr, err = cl.UpdateApproval(ctx, csr.Name, csr, metav1.UpdateOptions{}); err != nil {
			return 0, err
		}
	}
	if c.m.o.CSRSigner == nil {
		return 0, nil
	}
	ttl := c.m.o.ClusterSigningDuration
	if ttl <= 0 {
		ttl = defaultClusterSigningDuration
	}
	if s := csr.Spec.ExpirationSeconds; s != nil && time.Duration(*s)*time.Second < ttl {
		ttl = max(time.Duration(*s)*time.Second, 10*time.Minute)
	}
	cert, err := c.m.o.CSRSigner(csr.Spec.Request, ttl)
	if err != nil {
		return 0, fmt.Errorf("csr %s: sign: %w", csr.Name, err)
	}
	csr = csr.DeepCopy()
	csr.Status.Certificate = cert
	_, err = cl.UpdateStatus(ctx, csr, metav1.UpdateOptions{})
	return 0, err
}

// recognized checks the request is a node client certificate request and
// that its requester may have it approved.
func (c *csrs) recognized(ctx context.Context, csr *certificatesv1.CertificateSigningRequest) (bool, error) {
	blk, _ := pem.Decode(csr.Spec.Request)
	if blk == nil {
		return false, nil
	}
	req, err := x509.ParseCertificateRequest(blk.Bytes)
	if err != nil {
		return false, nil
	}
	node, ok := strings.CutPrefix(req.Subject.CommonName, "system:node:")
	if !ok || node == "" || !slices.Equal(req.Subject.Organization, []string{"system:nodes"}) ||
		len(req.DNSNames)+len(req.EmailAddresses)+len(req.IPAddresses)+len(req.URIs) > 0 {
		return false, nil
	}
	for _, u := range csr.Spec.Usages {
		if u != certificatesv1.UsageDigitalSignature && u != certificatesv1.UsageClientAuth && u != certificatesv1.UsageKeyEncipherment {
			return false, nil
		}
	}
	sub := "nodeclient"
	if csr.Spec.Username == req.Subject.CommonName {
		sub = "selfnodeclient"
	}
	extra := map[string]authorizationv1.ExtraValue{}
	for k, v := range csr.Spec.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	sar, err := c.m.o.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{User: csr.Spec.Username, UID: csr.Spec.UID, Groups: csr.Spec.Groups, Extra: extra,
			ResourceAttributes: &authorizationv1.ResourceAttributes{Group: "certificates.k8s.io", Resource: "certificatesigningrequests",
				Verb: "create", Subresource: sub}}}, metav1.CreateOptions{})
	if err != nil {
		return false, err
	}
	return sar.Status.Allowed, nil
}
