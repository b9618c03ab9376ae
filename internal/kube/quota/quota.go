// Package quota is what ResourceQuota and LimitRange mean, over the
// Kubernetes API types alone, so that the API server's admission (which
// refuses what would exceed a quota and fills in a LimitRange's defaults)
// and the controller that keeps each quota's status.used count alike.
package quota

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
)

// legacyCounts are the core resources a quota may count by their plain
// name ("pods", "services", …) besides count/<resource>.
var legacyCounts = map[string]corev1.ResourceName{
	"pods": corev1.ResourcePods, "services": corev1.ResourceServices, "configmaps": corev1.ResourceConfigMaps,
	"secrets": corev1.ResourceSecrets, "persistentvolumeclaims": corev1.ResourcePersistentVolumeClaims,
	"replicationcontrollers": corev1.ResourceReplicationControllers, "resourcequotas": corev1.ResourceQuotas,
}

// CountName is the count/<resource>[.<group>] name of a resource.
func CountName(group, res string) corev1.ResourceName {
	if group == "" {
		return corev1.ResourceName("count/" + res)
	}
	return corev1.ResourceName("count/" + res + "." + group)
}

// Usage is what one object of group/res takes of a quota. A pod that has
// finished takes nothing.
func Usage(group, res string, obj any) corev1.ResourceList {
	u := corev1.ResourceList{CountName(group, res): *resource.NewQuantity(1, resource.DecimalSI)}
	if group == "" {
		if n, ok := legacyCounts[res]; ok {
			u[n] = *resource.NewQuantity(1, resource.DecimalSI)
		}
	}
	switch o := obj.(type) {
	case *corev1.Pod:
		if o.Status.Phase == corev1.PodSucceeded || o.Status.Phase == corev1.PodFailed {
			return nil
		}
		req, lim := PodRequestsAndLimits(o)
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
			if q, ok := req[r]; ok {
				u[corev1.ResourceName("requests."+string(r))] = q
				u[r] = q
			}
			if q, ok := lim[r]; ok {
				u[corev1.ResourceName("limits."+string(r))] = q
			}
		}
	case *corev1.Service:
		switch o.Spec.Type {
		case corev1.ServiceTypeNodePort:
			u[corev1.ResourceServicesNodePorts] = *resource.NewQuantity(int64(len(o.Spec.Ports)), resource.DecimalSI)
		case corev1.ServiceTypeLoadBalancer:
			u[corev1.ResourceServicesLoadBalancers] = *resource.NewQuantity(1, resource.DecimalSI)
			u[corev1.ResourceServicesNodePorts] = *resource.NewQuantity(int64(len(o.Spec.Ports)), resource.DecimalSI)
		}
	case *corev1.PersistentVolumeClaim:
		if q, ok := o.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
			u[corev1.ResourceRequestsStorage] = q
			if c := o.Spec.StorageClassName; c != nil && *c != "" {
				u[corev1.ResourceName(*c+".storageclass.storage.k8s.io/requests.storage")] = q
				u[corev1.ResourceName(*c+".storageclass.storage.k8s.io/persistentvolumeclaims")] = *resource.NewQuantity(1, resource.DecimalSI)
			}
		}
	}
	return u
}

// PodRequestsAndLimits sums the containers' requests and limits; an init
// container's, when larger, counts instead (they run one at a time).
func PodRequestsAndLimits(p *corev1.Pod) (req, lim corev1.ResourceList) {
	req, lim = corev1.ResourceList{}, corev1.ResourceList{}
	for _, c := range p.Spec.Containers {
		addTo(req, c.Resources.Requests)
		addTo(lim, c.Resources.Limits)
	}
	for _, c := range p.Spec.InitContainers {
		maxTo(req, c.Resources.Requests)
		maxTo(lim, c.Resources.Limits)
	}
	addTo(req, p.Spec.Overhead)
	if len(lim) > 0 {
		addTo(lim, p.Spec.Overhead)
	}
	return req, lim
}

func addTo(dst, src corev1.ResourceList) {
	for n, q := range src {
		cur := dst[n]
		cur.Add(q)
		dst[n] = cur
	}
}

func maxTo(dst, src corev1.ResourceList) {
	for n, q := range src {
		if cur, ok := dst[n]; !ok || q.Cmp(cur) > 0 {
			dst[n] = q.DeepCopy()
		}
	}
}

// Add sums lists.
func Add(a, b corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	addTo(out, a)
	addTo(out, b)
	return out
}

// Mask keeps the names of l that hard limits.
func Mask(l, hard corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for n := range hard {
		if q, ok := l[n]; ok {
			out[n] = q
		} else {
			out[n] = *resource.NewQuantity(0, resource.DecimalSI)
		}
	}
	return out
}

// Covers reports whether a quota of hard counts objects of group/res (a
// quota on requests.cpu covers every pod, even one that requests none).
func Covers(hard corev1.ResourceList, group, res string) bool {
	for _, s := range Sources(hard) {
		if s.Group == group && s.Resource == res {
			return true
		}
	}
	return false
}

// Exceeded is the quota message of a request that does not fit: "" when
// used plus requested stays within hard for every resource requested.
func Exceeded(name string, hard, used, requested corev1.ResourceList) string {
	var names []string
	for n, q := range requested {
		h, ok := hard[n]
		if !ok || q.IsZero() {
			continue
		}
		sum := used[n].DeepCopy()
		sum.Add(q)
		if sum.Cmp(h) > 0 {
			names = append(names, string(n))
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	pick := func(l corev1.ResourceList) string {
		parts := make([]string, len(names))
		for i, n := range names {
			q := l[corev1.ResourceName(n)]
			parts[i] = n + "=" + q.String()
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprintf("exceeded quota: %s, requested: %s, used: %s, limited: %s", name, pick(requested), pick(used), pick(hard))
}

// MissingRequests is the message for a pod whose containers leave out a
// request or limit the quota constrains ("" when none is missing), as
// "must specify limits.cpu for: a,b; requests.cpu for: a".
func MissingRequests(hard corev1.ResourceList, p *corev1.Pod) string {
	var parts []string
	for _, n := range []string{"limits.cpu", "limits.memory", "limits.ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage", "cpu", "memory"} {
		if _, ok := hard[corev1.ResourceName(n)]; !ok {
			continue
		}
		kind, res, found := strings.Cut(n, ".")
		if !found {
			kind, res = "requests", n
		}
		var missing []string
		for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
			l := c.Resources.Requests
			if kind == "limits" {
				l = c.Resources.Limits
			}
			if _, ok := l[corev1.ResourceName(res)]; !ok {
				missing = append(missing, c.Name)
			}
		}
		if len(missing) > 0 {
			parts = append(parts, n+" for: "+strings.Join(missing, ","))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "must specify " + strings.Join(parts, "; ")
}

// defaultsOf is a Container item's defaults after the API's own
// defaulting: the limit defaults to max, the request to the default limit
// or else to min.
func defaultsOf(it *corev1.LimitRangeItem) (def, defReq corev1.ResourceList) {
	def, defReq = corev1.ResourceList{}, corev1.ResourceList{}
	for n, q := range it.Default {
		def[n] = q
	}
	for n, q := range it.Max {
		if _, ok := def[n]; !ok {
			def[n] = q
		}
	}
	for n, q := range it.DefaultRequest {
		defReq[n] = q
	}
	for n, q := range def {
		if _, ok := defReq[n]; !ok {
			defReq[n] = q
		}
	}
	for n, q := range it.Min {
		if _, ok := defReq[n]; !ok {
			defReq[n] = q
		}
	}
	return def, defReq
}

// ApplyLimitRanges fills in each container's missing requests and limits
// from the Container items of ranges, then checks every item's min and
// max for containers and for the pod. It returns the annotation value
// kube-apiserver's LimitRanger leaves on the pod ("" when it set nothing)
// and the error whose text is the API's.
func ApplyLimitRanges(p *corev1.Pod, ranges []*corev1.LimitRange) (string, error) {
	var set []string
	for _, lr := range ranges {
		for i := range lr.Spec.Limits {
			it := &lr.Spec.Limits[i]
			if it.Type != corev1.LimitTypeContainer {
				continue
			}
			def, defReq := defaultsOf(it)
			for _, cs := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
				for j := range cs {
					c := &cs[j]
					for _, n := range sortedNames(defReq) {
						if _, ok := c.Resources.Requests[n]; !ok {
							if c.Resources.Requests == nil {
								c.Resources.Requests = corev1.ResourceList{}
							}
							c.Resources.Requests[n] = defReq[n]
							set = append(set, fmt.Sprintf("%s request for %s %s", n, containerWord(p, c), c.Name))
						}
					}
					for _, n := range sortedNames(def) {
						if _, ok := c.Resources.Limits[n]; !ok {
							if c.Resources.Limits == nil {
								c.Resources.Limits = corev1.ResourceList{}
							}
							c.Resources.Limits[n] = def[n]
							set = append(set, fmt.Sprintf("%s limit for %s %s", n, containerWord(p, c), c.Name))
						}
					}
				}
			}
		}
	}
	var errs []error
	for _, lr := range ranges {
		for i := range lr.Spec.Limits {
			it := &lr.Spec.Limits[i]
			switch it.Type {
			case corev1.LimitTypeContainer:
				for _, cs := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
					for j := range cs {
						errs = append(errs, minMax(string(it.Type), it, cs[j].Resources.Requests, cs[j].Resources.Limits)...)
					}
				}
			case corev1.LimitTypePod:
				req, lim := PodRequestsAndLimits(p)
				errs = append(errs, minMax(string(it.Type), it, req, lim)...)
			}
		}
	}
	ann := ""
	if len(set) > 0 {
		ann = "LimitRanger plugin set: " + strings.Join(set, "; ")
	}
	return ann, utilerrors.NewAggregate(errs)
}

func containerWord(p *corev1.Pod, c *corev1.Container) string {
	for i := range p.Spec.InitContainers {
		if &p.Spec.InitContainers[i] == c {
			return "init container"
		}
	}
	return "container"
}

func minMax(kind string, it *corev1.LimitRangeItem, req, lim corev1.ResourceList) []error {
	var errs []error
	for _, n := range sortedNames(it.Min) {
		m := it.Min[n]
		q, ok := req[n]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("minimum %s usage per %s is %s.  No request is specified", n, kind, m.String()))
		case q.Cmp(m) < 0:
			errs = append(errs, fmt.Errorf("minimum %s usage per %s is %s, but request is %s", n, kind, m.String(), q.String()))
		}
	}
	for _, n := range sortedNames(it.Max) {
		m := it.Max[n]
		q, ok := lim[n]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("maximum %s usage per %s is %s.  No limit is specified", n, kind, m.String()))
		case q.Cmp(m) > 0:
			errs = append(errs, fmt.Errorf("maximum %s usage per %s is %s, but limit is %s", n, kind, m.String(), q.String()))
		}
	}
	return errs
}

func sortedNames(l corev1.ResourceList) []corev1.ResourceName {
	out := make([]corev1.ResourceName, 0, len(l))
	for n := range l {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Source is a resource whose objects a quota counts.
type Source struct{ Group, Version, Resource string }

// Sources are the resources to count for the names of hard.
func Sources(hard corev1.ResourceList) []Source {
	seen := map[Source]bool{}
	var out []Source
	add := func(s Source) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for n := range hard {
		name := string(n)
		switch {
		case strings.HasPrefix(name, "count/"):
			res, group, _ := strings.Cut(strings.TrimPrefix(name, "count/"), ".")
			add(Source{group, versionOf(group), res})
		case name == "pods" || name == "cpu" || name == "memory" || name == "ephemeral-storage" ||
			strings.HasPrefix(name, "requests.") && name != "requests.storage" || strings.HasPrefix(name, "limits."):
			add(Source{"", "v1", "pods"})
		case strings.HasPrefix(name, "services"):
			add(Source{"", "v1", "services"})
		case name == "requests.storage" || name == "persistentvolumeclaims" || strings.Contains(name, ".storageclass.storage.k8s.io/"):
			add(Source{"", "v1", "persistentvolumeclaims"})
		case name == "configmaps" || name == "secrets" || name == "replicationcontrollers" || name == "resourcequotas":
			add(Source{"", "v1", name})
		}
	}
	return out
}

// versionOf is the served version of the groups quotas count by
// count/<resource>.<group> (the built-in groups serve v1).
func versionOf(group string) string {
	switch group {
	case "autoscaling":
		return "v2"
	}
	return "v1"
}
