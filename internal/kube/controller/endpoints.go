package controller

import (
	"context"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// Labels endpoint slices carry.
const (
	labelServiceName = "kubernetes.io/service-name"
	labelManagedBy   = "endpointslice.kubernetes.io/managed-by"
	managedBy        = "endpointslice-controller.k8s.io"
	maxPerSlice      = 100
)

// endpoints keeps, for each service with a selector, an Endpoints object
// and EndpointSlices listing the pods it selects (ready ones as addresses,
// others as not ready), as the endpoints and endpointslice controllers do.
type endpoints struct {
	m              *Manager
	loop           *loop
	svcLister      corelisters.ServiceLister
	podLister      corelisters.PodLister
	epLister       corelisters.EndpointsLister
	sliceLister    discoverylisters.EndpointSliceLister
	doEP, doSlices bool
	slicesOff      atomic.Bool // the API serves no endpoint slices
}

func (m *Manager) addEndpoints(doEP, doSlices bool) {
	e := &endpoints{m: m, doEP: doEP, doSlices: doSlices}
	e.loop = m.newLoop("endpoints", m.o.Workers, e.sync)
	si := m.factory.Core().V1().Services()
	e.svcLister = si.Lister()
	_, _ = si.Informer().AddEventHandler(e.loop.handler())
	pi := m.factory.Core().V1().Pods()
	e.podLister = pi.Lister()
	_, _ = pi.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: e.podChanged,
		UpdateFunc: func(old, obj any) {
			if old.(*corev1.Pod).ResourceVersion == obj.(*corev1.Pod).ResourceVersion {
				return
			}
			e.podChanged(old)
			e.podChanged(obj)
		},
		DeleteFunc: e.podChanged,
	})
	if doEP {
		ei := m.factory.Core().V1().Endpoints()
		e.epLister = ei.Lister()
		_, _ = ei.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: e.loop.enqueue})
	}
	if doSlices {
		sl := m.factory.Discovery().V1().EndpointSlices()
		e.sliceLister = sl.Lister()
		_ = sl.Informer().SetWatchErrorHandler(func(r *cache.Reflector, err error) {
			if apierrors.IsNotFound(err) && !e.slicesOff.Swap(true) {
				m.log.Info("the API serves no endpoint slices; keeping Endpoints only")
			}
		})
	}
}

// podChanged enqueues the services in the pod's namespace that select it.
func (e *endpoints) podChanged(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	svcs, _ := e.svcLister.Services(p.Namespace).List(labels.Everything())
	for _, s := range svcs {
		if len(s.Spec.Selector) > 0 && labels.SelectorFromValidatedSet(s.Spec.Selector).Matches(labels.Set(p.Labels)) {
			e.loop.q.Add(s.Namespace + "/" + s.Name)
		}
	}
}

type epTarget struct {
	pod   *corev1.Pod
	ready bool
	ports []corev1.EndpointPort
}

func (e *endpoints) sync(ctx context.Context, key string) (time.Duration, error) {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	svc, err := e.svcLister.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		if e.doEP {
			err := e.m.o.Client.CoreV1().Endpoints(ns).Delete(ctx, name, metav1.DeleteOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				return 0, err
			}
		}
		return 0, nil // slices go with the service by ownerReference (GC)
	}
	if err != nil {
		return 0, err
	}
	if len(svc.Spec.Selector) == 0 {
		return 0, nil // endpoints managed by hand
	}
	pods, err := e.podLister.Pods(ns).List(labels.SelectorFromValidatedSet(svc.Spec.Selector))
	if err != nil {
		return 0, err
	}
	var targets []epTarget
	for _, p := range pods {
		if p.Status.PodIP == "" || p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		ready, _ := podReady(p)
		ports := resolvePorts(svc, p)
		if len(ports) == 0 && len(svc.Spec.Ports) > 0 {
			continue
		}
		targets = append(targets, epTarget{pod: p, ready: ready || svc.Spec.PublishNotReadyAddresses, ports: ports})
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].pod.Status.PodIP < targets[j].pod.Status.PodIP })
	if e.doEP {
		if err := e.writeEndpoints(ctx, svc, targets); err != nil {
			return 0, err
		}
	}
	if e.doSlices && !e.slicesOff.Load() {
		if err := e.writeSlices(ctx, svc, targets); err != nil {
			if apierrors.IsNotFound(err) {
				e.slicesOff.Store(true)
				return 0, nil
			}
			return 0, err
		}
	}
	return 0, nil
}

// resolvePorts maps the service's ports to the pod's (named target ports
// are looked up among the pod's container ports).
func resolvePorts(svc *corev1.Service, p *corev1.Pod) []corev1.EndpointPort {
	var out []corev1.EndpointPort
	for _, sp := range svc.Spec.Ports {
		port := int32(0)
		switch sp.TargetPort.Type {
		case intstr.Int:
			port = sp.TargetPort.IntVal
			if port == 0 {
				port = sp.Port
			}
		case intstr.String:
			if n, err := strconv.Atoi(sp.TargetPort.StrVal); err == nil {
				port = int32(n)
				break
			}
			for _, c := range p.Spec.Containers {
				for _, cp := range c.Ports {
					if cp.Name == sp.TargetPort.StrVal && (cp.Protocol == sp.Protocol || cp.Protocol == "" || sp.Protocol == "") {
						port = cp.ContainerPort
					}
				}
			}
		}
		if port == 0 {
			continue
		}
		proto := sp.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		out = append(out, corev1.EndpointPort{Name: sp.Name, Port: port, Protocol: proto, AppProtocol: sp.AppProtocol})
	}
	return out
}

func portsKey(ps []corev1.EndpointPort) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "%s/%d/%s,", p.Name, p.Port, p.Protocol)
	}
	return b.String()
}

func (e *endpoints) writeEndpoints(ctx context.Context, svc *corev1.Service, targets []epTarget) error {
	bySig := map[string]int{}
	var subsets []corev1.EndpointSubset
	for _, t := range targets {
		k := portsKey(t.ports)
		i, ok := bySig[k]
		if !ok {
			i = len(subsets)
			bySig[k] = i
			subsets = append(subsets, corev1.EndpointSubset{Ports: t.ports})
		}
		node := t.pod.Spec.NodeName
		addr := corev1.EndpointAddress{IP: t.pod.Status.PodIP, NodeName: &node,
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: t.pod.Namespace, Name: t.pod.Name, UID: t.pod.UID}}
		if t.ready {
			subsets[i].Addresses = append(subsets[i].Addresses, addr)
		} else {
			subsets[i].NotReadyAddresses = append(subsets[i].NotReadyAddresses, addr)
		}
	}
	client := e.m.o.Client.CoreV1().Endpoints(svc.Namespace)
	cur, err := e.epLister.Endpoints(svc.Namespace).Get(svc.Name)
	if apierrors.IsNotFound(err) {
		ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: svc.Name, Namespace: svc.Namespace, Labels: copyMap(svc.Labels)}, Subsets: subsets}
		_, err = client.Create(ctx, ep, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("endpoints %s/%s: not in cache yet", svc.Namespace, svc.Name)
		}
		return err
	}
	if err != nil {
		return err
	}
	if equality.Semantic.DeepEqual(cur.Subsets, subsets) && equality.Semantic.DeepEqual(cur.Labels, svc.Labels) {
		return nil
	}
	upd := cur.DeepCopy()
	upd.Subsets = subsets
	upd.Labels = copyMap(svc.Labels)
	_, err = client.Update(ctx, upd, metav1.UpdateOptions{})
	return err
}

func sliceName(svc *corev1.Service, i int) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(string(svc.UID) + "/" + strconv.Itoa(i)))
	return fmt.Sprintf("%s-%s", svc.Name, safeEncode(h.Sum32())[:5])
}

func (e *endpoints) writeSlices(ctx context.Context, svc *corev1.Service, targets []epTarget) error {
	// one slice per port set, at most maxPerSlice endpoints each
	type group struct {
		ports []corev1.EndpointPort
		eps   []discoveryv1.Endpoint
	}
	var groups []*group
	bySig := map[string]*group{}
	for _, t := range targets {
		k := portsKey(t.ports)
		g := bySig[k]
		if g == nil || len(g.eps) >= maxPerSlice {
			g = &group{ports: t.ports}
			bySig[k] = g
			groups = append(groups, g)
		}
		node := t.pod.Spec.NodeName
		ready, serving, terminating := t.ready, t.ready, false
		g.eps = append(g.eps, discoveryv1.Endpoint{Addresses: []string{t.pod.Status.PodIP},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready, Serving: &serving, Terminating: &terminating},
			NodeName:   &node,
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: t.pod.Namespace, Name: t.pod.Name, UID: t.pod.UID}})
	}
	if len(groups) == 0 {
		groups = append(groups, &group{})
	}
	client := e.m.o.Client.DiscoveryV1().EndpointSlices(svc.Namespace)
	existing, _ := e.sliceLister.EndpointSlices(svc.Namespace).List(labels.SelectorFromSet(labels.Set{labelServiceName: svc.Name}))
	keep := map[string]bool{}
	for i, g := range groups {
		name := sliceName(svc, i)
		keep[name] = true
		ports := make([]discoveryv1.EndpointPort, 0, len(g.ports))
		for _, p := range g.ports {
			ports = append(ports, discoveryv1.EndpointPort{Name: ptr.To(p.Name), Port: ptr.To(p.Port), Protocol: ptr.To(p.Protocol), AppProtocol: p.AppProtocol})
		}
		want := &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: svc.Namespace,
				Labels: map[string]string{labelServiceName: svc.Name, labelManagedBy: managedBy},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID,
					Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}},
			AddressType: discoveryv1.AddressTypeIPv4, Endpoints: g.eps, Ports: ports,
		}
		cur, err := e.sliceLister.EndpointSlices(svc.Namespace).Get(name)
		if apierrors.IsNotFound(err) {
			if _, err := client.Create(ctx, want, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if equality.Semantic.DeepEqual(cur.Endpoints, want.Endpoints) && equality.Semantic.DeepEqual(cur.Ports, want.Ports) {
			continue
		}
		upd := cur.DeepCopy()
		upd.Endpoints, upd.Ports, upd.Labels = want.Endpoints, want.Ports, want.Labels
		if _, err := client.Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	for _, s := range existing {
		if !keep[s.Name] && s.Labels[labelManagedBy] == managedBy {
			if err := client.Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
		}
	}
	return nil
}

// safeEncode spells a hash with the alphabet Kubernetes uses for generated
// names (no vowels, no look-alikes).
func safeEncode(v uint32) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	s := strconv.FormatUint(uint64(v), 10)
	out := make([]byte, 0, len(s)+5)
	for i := 0; i < len(s); i++ {
		out = append(out, alphabet[int(s[i]-'0')%len(alphabet)])
	}
	for len(out) < 5 {
		out = append(out, 'b')
	}
	return string(out)
}
