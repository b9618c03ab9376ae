package controller

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/record"
)

// serviceLB tells the owner of a LoadBalancer Service why its external IP
// stays <pending>: no cloud load balancer is wired to the cluster yet. It
// records one Warning event per Service (and again if the Service is
// recreated), naming the node ports that do answer meanwhile. The cloud
// controller that gives such Services addresses replaces it (disable it
// with "servicelb").
type serviceLB struct {
	lister   corelisters.ServiceLister
	recorder record.EventRecorder

	mu   sync.Mutex
	told map[types.UID]bool
}

// reasonNoLoadBalancer is the event's reason.
const reasonNoLoadBalancer = "NoLoadBalancer"

func (m *Manager) addServiceLB() {
	s := &serviceLB{recorder: m.recorder("service-controller"), told: map[types.UID]bool{}}
	l := m.newLoop("servicelb", 1, s.sync)
	si := m.factory.Core().V1().Services()
	s.lister = si.Lister()
	_, _ = si.Informer().AddEventHandler(l.handler())
}

func (s *serviceLB) sync(ctx context.Context, key string) (time.Duration, error) {
	ns, name, _ := strings.Cut(key, "/")
	svc, err := s.lister.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || len(svc.Status.LoadBalancer.Ingress) > 0 {
		return 0, nil
	}
	s.mu.Lock()
	told := s.told[svc.UID]
	s.told[svc.UID] = true
	s.mu.Unlock()
	if told {
		return 0, nil
	}
	s.recorder.Event(svc, corev1.EventTypeWarning, reasonNoLoadBalancer, noLoadBalancerMessage(svc))
	return 0, nil
}

// noLoadBalancerMessage says why the Service has no external IP and what
// answers instead.
func noLoadBalancerMessage(svc *corev1.Service) string {
	var ports []string
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			ports = append(ports, fmt.Sprintf("%d->%d", p.NodePort, p.Port))
		}
	}
	msg := "no cloud load balancer is wired to this cluster yet, so the external IP stays <pending>"
	if len(ports) > 0 {
		msg += "; the service answers on its node ports meanwhile (" + strings.Join(ports, ", ") + " on every node, 127.0.0.1 on this host)"
	}
	return msg
}
