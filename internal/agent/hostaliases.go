package agent

import (
	"context"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

// hostAliases is pod's spec.hostAliases for the runtime. A runtime whose
// containers have a network of their own (Capabilities.OwnNetwork) cannot
// reach the cluster IPs on the host's loopback: each alias at a Service's
// cluster IP then names the pods the Service selects (HostAlias.Backends:
// running ones first, then by name), whose own address the runtime writes
// instead. A failed look-up leaves the aliases as they are (logged): the
// container starts regardless, as the kubelet's does.
func (e *engine) hostAliases(ctx context.Context, pod *corev1.Pod) []runtime.HostAlias {
	if len(pod.Spec.HostAliases) == 0 {
		return nil
	}
	out := make([]runtime.HostAlias, len(pod.Spec.HostAliases))
	for i, a := range pod.Spec.HostAliases {
		out[i] = runtime.HostAlias{IP: a.IP, Hostnames: slices.Clone(a.Hostnames)}
	}
	if !e.rt.Info().Capabilities.OwnNetwork {
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	log := e.log.With("pod", pod.Namespace+"/"+pod.Name)
	svcs, err := e.client.CoreV1().Services(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		log.Warn("host aliases: listing services failed; aliases written as given", "err", err)
		return out
	}
	byIP := map[string]*corev1.Service{}
	for i := range svcs.Items {
		s := &svcs.Items[i]
		for _, ip := range append([]string{s.Spec.ClusterIP}, s.Spec.ClusterIPs...) {
			if ip != "" && ip != corev1.ClusterIPNone {
				byIP[ip] = s
			}
		}
	}
	for i := range out {
		s := byIP[out[i].IP]
		if s == nil || len(s.Spec.Selector) == 0 {
			continue
		}
		pods, err := e.client.CoreV1().Pods(s.Namespace).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(s.Spec.Selector).String()})
		if err != nil {
			log.Warn("host aliases: listing a service's pods failed", "service", s.Namespace+"/"+s.Name, "err", err)
			continue
		}
		out[i].Backends = backends(pods.Items)
	}
	return out
}

// backends are the pod IPs of pods that have one and are not being
// deleted: running pods first, then by name.
func backends(pods []corev1.Pod) []string {
	live := make([]*corev1.Pod, 0, len(pods))
	for i := range pods {
		if p := &pods[i]; p.Status.PodIP != "" && p.DeletionTimestamp == nil {
			live = append(live, p)
		}
	}
	slices.SortFunc(live, func(a, b *corev1.Pod) int {
		ra, rb := a.Status.Phase == corev1.PodRunning, b.Status.Phase == corev1.PodRunning
		if ra != rb {
			if ra {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	ips := make([]string, len(live))
	for i, p := range live {
		ips[i] = p.Status.PodIP
	}
	return ips
}
