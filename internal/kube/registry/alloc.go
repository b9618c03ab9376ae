package registry

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stratus-cloud/stratus/internal/store"
)

// Service address ranges. Cluster IPs are loopback addresses so the
// userspace service proxy can bind them without privileges.
const (
	NodePortMin   = 30000
	NodePortMax   = 32767
	ipKeyPrefix   = "/registry/stratus.io/serviceips/"
	portKeyPrefix = "/registry/stratus.io/servicenodeports/"
)

// defaultServiceCIDR is the range cluster IPs come from unless
// SetServiceCIDR says otherwise.
var defaultServiceCIDR = netip.MustParsePrefix("127.100.0.0/16")

// allocator hands out cluster IPs and node ports. Each allocation is a key
// created in the same transaction as the service, so two services can never
// get the same one; the hints only make a free value likely on first try.
type allocator struct {
	mu       sync.Mutex
	cidr     netip.Prefix // IPv4; the zero value is defaultServiceCIDR
	nextIP   uint32       // offset in the range
	nextPort int32
}

func (a *allocator) serviceCIDR() netip.Prefix {
	if !a.cidr.IsValid() {
		return defaultServiceCIDR
	}
	return a.cidr
}

// SetServiceCIDR sets the range cluster IPs come from (before the storage
// serves anything). Instances side by side on one machine each have their
// own, because the service proxy binds cluster IPs on loopback.
func (st *Storage) SetServiceCIDR(p netip.Prefix) error {
	if !p.IsValid() || !p.Addr().Is4() || p.Bits() < 8 || p.Bits() > 30 {
		return fmt.Errorf("service CIDR %s: want an IPv4 range between /8 and /30", p)
	}
	st.alloc.cidr = p.Masked()
	return nil
}

func (a *allocator) ipAt(off uint32) string {
	b := a.serviceCIDR().Masked().Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += off
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String()
}

// candidateIP returns the next cluster IP to try (never the network address
// or the broadcast address).
func (a *allocator) candidateIP() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if size := uint32(1) << (32 - a.serviceCIDR().Bits()); a.nextIP == 0 || a.nextIP >= size-1 {
		a.nextIP = 1
	}
	ip := a.ipAt(a.nextIP)
	a.nextIP++
	return ip
}

func (a *allocator) candidatePort() int32 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.nextPort < NodePortMin || a.nextPort > NodePortMax {
		a.nextPort = NodePortMin
	}
	p := a.nextPort
	a.nextPort++
	return p
}

func ipKey(ip string) string { return ipKeyPrefix + ip }
func portKey(p int32) string { return portKeyPrefix + strconv.Itoa(int(p)) }
func isAllocKey(k string) bool {
	return strings.HasPrefix(k, ipKeyPrefix) || strings.HasPrefix(k, portKeyPrefix)
}

// serviceAllocation is what one write of a service claims and releases.
type serviceAllocation struct {
	// autoIP/autoPorts: values the allocator picked (retry with others on conflict).
	autoIP    bool
	autoPorts []int // indexes into spec.ports
	ops       []store.Op
}

// allocateService fills in the cluster IP and node ports a new or changed
// service needs and returns the store ops that claim them (and release
// what old held and svc no longer does).
func (a *allocator) allocateService(svc, old *corev1.Service) (*serviceAllocation, error) {
	owner := []byte(svc.Namespace + "/" + svc.Name)
	al := &serviceAllocation{}
	wantsIP := svc.Spec.Type != corev1.ServiceTypeExternalName && svc.Spec.ClusterIP != corev1.ClusterIPNone
	hadIP := ""
	if old != nil && old.Spec.ClusterIP != corev1.ClusterIPNone {
		hadIP = old.Spec.ClusterIP
	}
	if old != nil && wantsIP && svc.Spec.ClusterIP == "" && hadIP != "" {
		svc.Spec.ClusterIP = hadIP
	}
	switch {
	case !wantsIP:
		if svc.Spec.Type == corev1.ServiceTypeExternalName {
			svc.Spec.ClusterIP = ""
		}
	case svc.Spec.ClusterIP == "":
		svc.Spec.ClusterIP = a.candidateIP()
		al.autoIP = true
		al.ops = append(al.ops, store.Create(ipKey(svc.Spec.ClusterIP), owner))
	case svc.Spec.ClusterIP != hadIP:
		ip, err := netip.ParseAddr(svc.Spec.ClusterIP)
		if cidr := a.serviceCIDR(); err != nil || !cidr.Contains(ip) {
			return nil, fieldInvalid(svc, field.Invalid(field.NewPath("spec", "clusterIPs").Index(0), []string{svc.Spec.ClusterIP},
				fmt.Sprintf("failed to allocate IP %s: the provided IP (%s) is not in the valid range. The range of valid IPs is %s", svc.Spec.ClusterIP, svc.Spec.ClusterIP, cidr)))
		}
		al.ops = append(al.ops, store.Create(ipKey(svc.Spec.ClusterIP), owner))
	}
	if hadIP != "" && hadIP != svc.Spec.ClusterIP {
		al.ops = append(al.ops, store.Delete(ipKey(hadIP)))
	}
	if wantsIP {
		svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
		if svc.Spec.IPFamilies == nil {
			svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
		}
		if svc.Spec.IPFamilyPolicy == nil {
			p := corev1.IPFamilyPolicySingleStack
			svc.Spec.IPFamilyPolicy = &p
		}
	} else {
		svc.Spec.ClusterIPs = nil
		if svc.Spec.ClusterIP == corev1.ClusterIPNone {
			svc.Spec.ClusterIPs = []string{corev1.ClusterIPNone}
		}
	}

	// Node ports.
	held := map[int32]bool{}
	if old != nil {
		for _, p := range old.Spec.Ports {
			if p.NodePort != 0 {
				held[p.NodePort] = true
			}
		}
	}
	needs := svc.Spec.Type == corev1.ServiceTypeNodePort ||
		(svc.Spec.Type == corev1.ServiceTypeLoadBalancer && (svc.Spec.AllocateLoadBalancerNodePorts == nil || *svc.Spec.AllocateLoadBalancerNodePorts))
	keep := map[int32]bool{}
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if !needs {
			if svc.Spec.Type == corev1.ServiceTypeClusterIP || svc.Spec.Type == corev1.ServiceTypeExternalName {
				p.NodePort = 0
			}
			if p.NodePort == 0 {
				continue
			}
		}
		if p.NodePort == 0 && old != nil {
			// Keep the port the same (port, protocol) had before.
			for _, op := range old.Spec.Ports {
				if op.Port == p.Port && op.Protocol == p.Protocol && op.NodePort != 0 {
					p.NodePort = op.NodePort
				}
			}
		}
		switch {
		case p.NodePort == 0:
			p.NodePort = a.candidatePort()
			al.autoPorts = append(al.autoPorts, i)
			al.ops = append(al.ops, store.Create(portKey(p.NodePort), owner))
		case !held[p.NodePort] && !keep[p.NodePort]:
			al.ops = append(al.ops, store.Create(portKey(p.NodePort), owner))
		}
		keep[p.NodePort] = true
	}
	for p := range held {
		if !keep[p] {
			al.ops = append(al.ops, store.Delete(portKey(p)))
		}
	}
	return al, nil
}

// releaseService returns the ops that free what svc holds.
func releaseService(svc *corev1.Service) []store.Op {
	var ops []store.Op
	if ip := svc.Spec.ClusterIP; ip != "" && ip != corev1.ClusterIPNone {
		ops = append(ops, store.Delete(ipKey(ip)))
	}
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			ops = append(ops, store.Delete(portKey(p.NodePort)))
		}
	}
	return ops
}

// retryAllocation decides, after a conflict on an allocation key, whether
// to pick again (an automatic value was taken) or to fail (the user asked
// for a value that is taken).
func retryAllocation(svc *corev1.Service, al *serviceAllocation, conflictKey string) error {
	if strings.HasPrefix(conflictKey, ipKeyPrefix) {
		if al.autoIP {
			return nil
		}
		return fieldInvalid(svc, field.Invalid(field.NewPath("spec", "clusterIPs").Index(0), []string{svc.Spec.ClusterIP},
			fmt.Sprintf("failed to allocate IP %s: provided IP is already allocated", svc.Spec.ClusterIP)))
	}
	port, _ := strconv.Atoi(strings.TrimPrefix(conflictKey, portKeyPrefix))
	for _, i := range al.autoPorts {
		if svc.Spec.Ports[i].NodePort == int32(port) {
			return nil
		}
	}
	for i, p := range svc.Spec.Ports {
		if p.NodePort == int32(port) {
			return fieldInvalid(svc, field.Invalid(field.NewPath("spec", "ports").Index(i).Child("nodePort"), port,
				"provided port is already allocated"))
		}
	}
	return errors.New("allocation conflict")
}

func fieldInvalid(svc *corev1.Service, e *field.Error) error {
	return apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Service").GroupKind(), svc.Name, field.ErrorList{e})
}

var _ = context.Background

// keepAllocated gives an updated Service the cluster IPs and node ports the
// old one was allocated where the update leaves them empty (`kubectl
// replace` of a manifest without them), as kube-apiserver does; a value the
// update sets is kept, and validation judges it.
func keepAllocated(svc, old *corev1.Service) {
	needsIP := func(s *corev1.Service) bool { return s.Spec.Type != corev1.ServiceTypeExternalName }
	if needsIP(svc) && needsIP(old) && svc.Spec.ClusterIP == "" && len(svc.Spec.ClusterIPs) == 0 {
		svc.Spec.ClusterIP = old.Spec.ClusterIP
		svc.Spec.ClusterIPs = slices.Clone(old.Spec.ClusterIPs)
		if svc.Spec.IPFamilyPolicy == nil {
			svc.Spec.IPFamilyPolicy = old.Spec.IPFamilyPolicy
		}
		if len(svc.Spec.IPFamilies) == 0 {
			svc.Spec.IPFamilies = slices.Clone(old.Spec.IPFamilies)
		}
	}
	needsPorts := func(s *corev1.Service) bool {
		return s.Spec.Type == corev1.ServiceTypeNodePort || s.Spec.Type == corev1.ServiceTypeLoadBalancer
	}
	if needsPorts(svc) && needsPorts(old) {
		for i := range svc.Spec.Ports {
			p := &svc.Spec.Ports[i]
			if p.NodePort != 0 {
				continue
			}
			for _, op := range old.Spec.Ports {
				if op.Port == p.Port && op.Protocol == p.Protocol {
					p.NodePort = op.NodePort
					break
				}
			}
		}
	}
	if svc.Spec.HealthCheckNodePort == 0 && svc.Spec.ExternalTrafficPolicy == old.Spec.ExternalTrafficPolicy {
		svc.Spec.HealthCheckNodePort = old.Spec.HealthCheckNodePort
	}
}
