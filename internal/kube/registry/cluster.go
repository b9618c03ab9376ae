package registry

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// The cluster and policy kinds: volumes and claims, quotas and limits, pod
// templates, storage classes, ingresses and network policies, autoscalers,
// disruption budgets, RBAC objects and priority classes. Storage,
// discovery, tables, defaulting and validation; the controllers that act
// on them are separate work.

func persistentVolumes() *Resource {
	r := declare[corev1.PersistentVolume, corev1.PersistentVolumeList]("", "v1", "persistentvolumes", "PersistentVolume", false).withStatus()
	r.ShortNames = []string{"pv"}
	r.Columns, r.Row = pvColumns, pvRow
	r.PrepareForCreate = func(obj runtime.Object) {
		obj.(*corev1.PersistentVolume).Status = corev1.PersistentVolumeStatus{Phase: corev1.VolumePending}
	}
	r.Validate = validatePV
	r.Fields = pvFields
	return r
}

func persistentVolumeClaims() *Resource {
	r := declare[corev1.PersistentVolumeClaim, corev1.PersistentVolumeClaimList]("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true).withStatus()
	r.ShortNames = []string{"pvc"}
	r.Columns, r.Row = pvcColumns, pvcRow
	r.PrepareForCreate = func(obj runtime.Object) {
		obj.(*corev1.PersistentVolumeClaim).Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}
	}
	r.Validate = validatePVC
	return r
}

func resourceQuotas() *Resource {
	r := declare[corev1.ResourceQuota, corev1.ResourceQuotaList]("", "v1", "resourcequotas", "ResourceQuota", true).withStatus()
	r.ShortNames = []string{"quota"}
	r.Columns, r.Row = quotaColumns, quotaRow
	r.Validate = func(obj, _ runtime.Object) field.ErrorList {
		return validateQuantities(obj.(*corev1.ResourceQuota).Spec.Hard, field.NewPath("spec", "hard"))
	}
	return r
}

func limitRanges() *Resource {
	r := declare[corev1.LimitRange, corev1.LimitRangeList]("", "v1", "limitranges", "LimitRange", true)
	r.ShortNames = []string{"limits"}
	r.HasSpec = true
	r.Columns, r.Row = createdAtColumns, createdAtRow
	r.Validate = validateLimitRange
	return r
}

func podTemplates() *Resource {
	r := declare[corev1.PodTemplate, corev1.PodTemplateList]("", "v1", "podtemplates", "PodTemplate", true)
	r.Columns, r.Row = podTemplateColumns, podTemplateRow
	r.Validate = func(obj, _ runtime.Object) field.ErrorList {
		t := obj.(*corev1.PodTemplate)
		return validateTemplate(nil, &t.Template, field.NewPath("template"))
	}
	return r
}

func storageClasses() *Resource {
	r := declare[storagev1.StorageClass, storagev1.StorageClassList]("storage.k8s.io", "v1", "storageclasses", "StorageClass", false)
	r.ShortNames = []string{"sc"}
	r.Columns, r.Row = storageClassColumns, storageClassRow
	r.Validate = validateStorageClass
	return r
}

func ingresses() *Resource {
	r := declare[networkingv1.Ingress, networkingv1.IngressList]("networking.k8s.io", "v1", "ingresses", "Ingress", true).withStatus()
	r.ShortNames = []string{"ing"}
	r.Columns, r.Row = ingressColumns, ingressRow
	r.Validate = validateIngress
	return r
}

func ingressClasses() *Resource {
	r := declare[networkingv1.IngressClass, networkingv1.IngressClassList]("networking.k8s.io", "v1", "ingressclasses", "IngressClass", false)
	r.HasSpec = true
	r.Columns, r.Row = ingressClassColumns, ingressClassRow
	r.Validate = func(obj, old runtime.Object) field.ErrorList {
		c := obj.(*networkingv1.IngressClass)
		p := field.NewPath("spec", "controller")
		if c.Spec.Controller == "" {
			return field.ErrorList{field.Required(p, "")}
		}
		if old != nil && c.Spec.Controller != old.(*networkingv1.IngressClass).Spec.Controller {
			return field.ErrorList{field.Invalid(p, c.Spec.Controller, "field is immutable")}
		}
		return nil
	}
	return r
}

func networkPolicies() *Resource {
	r := declare[networkingv1.NetworkPolicy, networkingv1.NetworkPolicyList]("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true)
	r.ShortNames = []string{"netpol"}
	r.HasSpec = true
	r.Columns, r.Row = netpolColumns, netpolRow
	r.Validate = func(obj, _ runtime.Object) field.ErrorList {
		np := obj.(*networkingv1.NetworkPolicy)
		sp := field.NewPath("spec")
		_, errs := validateSelectorAllowEmpty(&np.Spec.PodSelector, sp.Child("podSelector"))
		for i, t := range np.Spec.PolicyTypes {
			if t != networkingv1.PolicyTypeIngress && t != networkingv1.PolicyTypeEgress {
				errs = append(errs, field.NotSupported(sp.Child("policyTypes").Index(i), t, []string{string(networkingv1.PolicyTypeIngress), string(networkingv1.PolicyTypeEgress)}))
			}
		}
		return errs
	}
	return r
}

func horizontalPodAutoscalers() *Resource {
	r := declare[autoscalingv2.HorizontalPodAutoscaler, autoscalingv2.HorizontalPodAutoscalerList]("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true).withStatus()
	r.ShortNames, r.Categories = []string{"hpa"}, all
	r.Columns, r.Row = hpaColumns, hpaRow
	r.Validate = validateHPA
	return r
}

func podDisruptionBudgets() *Resource {
	r := declare[policyv1.PodDisruptionBudget, policyv1.PodDisruptionBudgetList]("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true).withStatus()
	r.ShortNames = []string{"pdb"}
	r.Columns, r.Row = pdbColumns, pdbRow
	r.Validate = validatePDB
	return r
}

const rbacGroup = "rbac.authorization.k8s.io"

func roles() *Resource {
	r := declare[rbacv1.Role, rbacv1.RoleList](rbacGroup, "v1", "roles", "Role", true)
	r.Columns, r.Row = createdAtColumns, createdAtRow
	r.NameValidation = validateRBACName
	r.Validate = func(obj, _ runtime.Object) field.ErrorList { return validateRules(obj.(*rbacv1.Role).Rules, true) }
	return r
}

func clusterRoles() *Resource {
	r := declare[rbacv1.ClusterRole, rbacv1.ClusterRoleList](rbacGroup, "v1", "clusterroles", "ClusterRole", false)
	r.Columns, r.Row = createdAtColumns, createdAtRow
	r.NameValidation = validateRBACName
	r.Validate = func(obj, _ runtime.Object) field.ErrorList {
		return validateRules(obj.(*rbacv1.ClusterRole).Rules, false)
	}
	return r
}

func roleBindings() *Resource {
	r := declare[rbacv1.RoleBinding, rbacv1.RoleBindingList](rbacGroup, "v1", "rolebindings", "RoleBinding", true)
	r.Columns, r.Row = bindingColumns, roleBindingRow
	r.NameValidation = validateRBACName
	r.Validate = validateBindingOf(true, func(obj runtime.Object) (rbacv1.RoleRef, []rbacv1.Subject) {
		b := obj.(*rbacv1.RoleBinding)
		return b.RoleRef, b.Subjects
	})
	return r
}

func clusterRoleBindings() *Resource {
	r := declare[rbacv1.ClusterRoleBinding, rbacv1.ClusterRoleBindingList](rbacGroup, "v1", "clusterrolebindings", "ClusterRoleBinding", false)
	r.Columns, r.Row = bindingColumns, clusterRoleBindingRow
	r.NameValidation = validateRBACName
	r.Validate = validateBindingOf(false, func(obj runtime.Object) (rbacv1.RoleRef, []rbacv1.Subject) {
		b := obj.(*rbacv1.ClusterRoleBinding)
		return b.RoleRef, b.Subjects
	})
	return r
}

func priorityClasses() *Resource {
	r := declare[schedulingv1.PriorityClass, schedulingv1.PriorityClassList]("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", false)
	r.ShortNames = []string{"pc"}
	r.Columns, r.Row = priorityClassColumns, priorityClassRow
	r.Validate = validatePriorityClass
	return r
}

// ---- defaulting

func defaultPV(pv *corev1.PersistentVolume) {
	if pv.Spec.PersistentVolumeReclaimPolicy == "" {
		pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
	}
	if pv.Spec.VolumeMode == nil {
		pv.Spec.VolumeMode = ptr.To(corev1.PersistentVolumeFilesystem)
	}
	if pv.Spec.HostPath != nil && pv.Spec.HostPath.Type == nil {
		pv.Spec.HostPath.Type = ptr.To(corev1.HostPathUnset)
	}
}

func defaultPVC(c *corev1.PersistentVolumeClaim) {
	if c.Spec.VolumeMode == nil {
		c.Spec.VolumeMode = ptr.To(corev1.PersistentVolumeFilesystem)
	}
}

func defaultStorageClass(c *storagev1.StorageClass) {
	if c.ReclaimPolicy == nil {
		c.ReclaimPolicy = ptr.To(corev1.PersistentVolumeReclaimDelete)
	}
	if c.VolumeBindingMode == nil {
		c.VolumeBindingMode = ptr.To(storagev1.VolumeBindingImmediate)
	}
}

func defaultNetworkPolicy(np *networkingv1.NetworkPolicy) {
	for i := range np.Spec.Ingress {
		defaultNetpolPorts(np.Spec.Ingress[i].Ports)
	}
	for i := range np.Spec.Egress {
		defaultNetpolPorts(np.Spec.Egress[i].Ports)
	}
	if len(np.Spec.PolicyTypes) == 0 {
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(np.Spec.Egress) != 0 {
			np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		}
	}
}

func defaultNetpolPorts(ps []networkingv1.NetworkPolicyPort) {
	for i := range ps {
		if ps[i].Protocol == nil {
			ps[i].Protocol = ptr.To(corev1.ProtocolTCP)
		}
	}
}

func defaultHPA(h *autoscalingv2.HorizontalPodAutoscaler) {
	if h.Spec.MinReplicas == nil {
		h.Spec.MinReplicas = ptr.To(int32(1))
	}
	if len(h.Spec.Metrics) == 0 {
		h.Spec.Metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
			Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To(int32(80))}}}}
	}
	if b := h.Spec.Behavior; b != nil {
		b.ScaleUp = hpaRules(b.ScaleUp, 0, autoscalingv2.MaxChangePolicySelect,
			autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
			autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15})
		b.ScaleDown = hpaRules(b.ScaleDown, 300, autoscalingv2.MaxChangePolicySelect,
			autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15})
	}
}

// hpaRules fills a scaling rule's unset parts with the defaults.
func hpaRules(r *autoscalingv2.HPAScalingRules, window int32, sel autoscalingv2.ScalingPolicySelect, policies ...autoscalingv2.HPAScalingPolicy) *autoscalingv2.HPAScalingRules {
	if r == nil {
		r = &autoscalingv2.HPAScalingRules{}
	}
	if r.StabilizationWindowSeconds == nil {
		r.StabilizationWindowSeconds = ptr.To(window)
	}
	if r.SelectPolicy == nil {
		r.SelectPolicy = ptr.To(sel)
	}
	if len(r.Policies) == 0 {
		r.Policies = policies
	}
	return r
}

func defaultPriorityClass(pc *schedulingv1.PriorityClass) {
	if pc.PreemptionPolicy == nil {
		pc.PreemptionPolicy = ptr.To(corev1.PreemptLowerPriority)
	}
}

// ---- validation

var accessModes = []string{string(corev1.ReadWriteOnce), string(corev1.ReadOnlyMany), string(corev1.ReadWriteMany), string(corev1.ReadWriteOncePod)}

func validateAccessModes(ms []corev1.PersistentVolumeAccessMode, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(ms) == 0 {
		errs = append(errs, field.Required(p, ""))
	}
	for _, m := range ms {
		switch m {
		case corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod:
		default:
			errs = append(errs, field.NotSupported(p, m, accessModes))
		}
	}
	return errs
}

func validatePV(obj, _ runtime.Object) field.ErrorList {
	pv := obj.(*corev1.PersistentVolume)
	sp := field.NewPath("spec")
	errs := validateAccessModes(pv.Spec.AccessModes, sp.Child("accessModes"))
	if len(pv.Spec.Capacity) == 0 {
		errs = append(errs, field.Required(sp.Child("capacity"), ""))
	} else if _, ok := pv.Spec.Capacity[corev1.ResourceStorage]; !ok || len(pv.Spec.Capacity) > 1 {
		errs = append(errs, field.NotSupported(sp.Child("capacity"), pv.Spec.Capacity, []string{string(corev1.ResourceStorage)}))
	}
	errs = append(errs, validateQuantities(pv.Spec.Capacity, sp.Child("capacity"))...)
	if volumeTypes(&corev1.VolumeSource{HostPath: pv.Spec.HostPath, NFS: pv.Spec.NFS, CSI: nil}) == 0 &&
		pv.Spec.Local == nil && pv.Spec.CSI == nil && pv.Spec.ISCSI == nil && pv.Spec.FC == nil {
		errs = append(errs, field.Required(sp, "must specify a volume type"))
	}
	return errs
}

func validatePVC(obj, old runtime.Object) field.ErrorList {
	c := obj.(*corev1.PersistentVolumeClaim)
	sp := field.NewPath("spec")
	errs := validateAccessModes(c.Spec.AccessModes, sp.Child("accessModes"))
	if q, ok := c.Spec.Resources.Requests[corev1.ResourceStorage]; !ok {
		errs = append(errs, field.Required(sp.Child("resources").Key(string(corev1.ResourceStorage)), ""))
	} else if q.Sign() <= 0 {
		errs = append(errs, field.Invalid(sp.Child("resources", "requests").Key(string(corev1.ResourceStorage)), q.String(), "must be greater than zero"))
	}
	if c.Spec.Selector != nil {
		_, serrs := validateSelectorAllowEmpty(c.Spec.Selector, sp.Child("selector"))
		errs = append(errs, serrs...)
	}
	if old != nil {
		o := old.(*corev1.PersistentVolumeClaim).Spec.DeepCopy()
		n := c.Spec.DeepCopy()
		o.Resources, o.VolumeAttributesClassName = n.Resources, n.VolumeAttributesClassName
		if o.VolumeName == "" {
			o.VolumeName = n.VolumeName // binding fills it in once
		}
		if o.StorageClassName == nil {
			o.StorageClassName = n.StorageClassName // the default class, assigned once
		}
		if !apiequality.Semantic.DeepEqual(o, n) {
			errs = append(errs, field.Forbidden(sp, "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"))
		}
	}
	return errs
}

func validateQuantities(rl corev1.ResourceList, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := make([]string, 0, len(rl))
	for n := range rl {
		names = append(names, string(n))
	}
	sort.Strings(names)
	for _, n := range names {
		if q := rl[corev1.ResourceName(n)]; q.Sign() < 0 {
			errs = append(errs, field.Invalid(p.Key(n), q.String(), "must be greater than or equal to 0"))
		}
	}
	return errs
}

func validateLimitRange(obj, _ runtime.Object) field.ErrorList {
	lr := obj.(*corev1.LimitRange)
	var errs field.ErrorList
	lp := field.NewPath("spec", "limits")
	for i, l := range lr.Spec.Limits {
		switch l.Type {
		case corev1.LimitTypePod, corev1.LimitTypeContainer, corev1.LimitTypePersistentVolumeClaim:
		default:
			errs = append(errs, field.NotSupported(lp.Index(i).Child("type"), l.Type, []string{string(corev1.LimitTypeContainer), string(corev1.LimitTypePod), string(corev1.LimitTypePersistentVolumeClaim)}))
		}
		for name, mx := range l.Max {
			if mn, ok := l.Min[name]; ok && mn.Cmp(mx) > 0 {
				errs = append(errs, field.Invalid(lp.Index(i).Child("min").Key(string(name)), mn.String(), fmt.Sprintf("min value %s is greater than max value %s", mn.String(), mx.String())))
			}
		}
	}
	return errs
}

var bindingModes = []string{string(storagev1.VolumeBindingImmediate), string(storagev1.VolumeBindingWaitForFirstConsumer)}

func validateStorageClass(obj, old runtime.Object) field.ErrorList {
	c := obj.(*storagev1.StorageClass)
	var errs field.ErrorList
	if c.Provisioner == "" {
		errs = append(errs, field.Required(field.NewPath("provisioner"), ""))
	}
	if m := c.VolumeBindingMode; m != nil && *m != storagev1.VolumeBindingImmediate && *m != storagev1.VolumeBindingWaitForFirstConsumer {
		errs = append(errs, field.NotSupported(field.NewPath("volumeBindingMode"), *m, bindingModes))
	}
	if rp := c.ReclaimPolicy; rp != nil && *rp != corev1.PersistentVolumeReclaimDelete && *rp != corev1.PersistentVolumeReclaimRetain {
		errs = append(errs, field.NotSupported(field.NewPath("reclaimPolicy"), *rp, []string{string(corev1.PersistentVolumeReclaimDelete), string(corev1.PersistentVolumeReclaimRetain)}))
	}
	if old != nil {
		o := old.(*storagev1.StorageClass)
		if !apiequality.Semantic.DeepEqual(c.Parameters, o.Parameters) {
			errs = append(errs, field.Forbidden(field.NewPath("parameters"), "updates to parameters are forbidden."))
		}
		if c.Provisioner != o.Provisioner {
			errs = append(errs, field.Forbidden(field.NewPath("provisioner"), "updates to provisioner are forbidden."))
		}
		if !apiequality.Semantic.DeepEqual(c.ReclaimPolicy, o.ReclaimPolicy) {
			errs = append(errs, field.Forbidden(field.NewPath("reclaimPolicy"), "updates to reclaimPolicy are forbidden."))
		}
		if !apiequality.Semantic.DeepEqual(c.VolumeBindingMode, o.VolumeBindingMode) {
			errs = append(errs, field.Forbidden(field.NewPath("volumeBindingMode"), "field is immutable"))
		}
	}
	return errs
}

var pathTypes = []string{string(networkingv1.PathTypeExact), string(networkingv1.PathTypeImplementationSpecific), string(networkingv1.PathTypePrefix)}

func validateIngress(obj, _ runtime.Object) field.ErrorList {
	ing := obj.(*networkingv1.Ingress)
	sp := field.NewPath("spec")
	var errs field.ErrorList
	if ing.Spec.DefaultBackend == nil && len(ing.Spec.Rules) == 0 {
		errs = append(errs, field.Invalid(sp, ing.Spec, "either `defaultBackend` or `rules` must be specified"))
	}
	if b := ing.Spec.DefaultBackend; b != nil {
		errs = append(errs, validateBackend(b, sp.Child("defaultBackend"))...)
	}
	for i, rule := range ing.Spec.Rules {
		rp := sp.Child("rules").Index(i)
		if rule.HTTP == nil {
			continue
		}
		for j, hp := range rule.HTTP.Paths {
			pp := rp.Child("http", "paths").Index(j)
			switch {
			case hp.PathType == nil:
				errs = append(errs, field.Required(pp.Child("pathType"), "pathType must be specified"))
			case *hp.PathType != networkingv1.PathTypeExact && *hp.PathType != networkingv1.PathTypePrefix && *hp.PathType != networkingv1.PathTypeImplementationSpecific:
				errs = append(errs, field.NotSupported(pp.Child("pathType"), *hp.PathType, pathTypes))
			case *hp.PathType != networkingv1.PathTypeImplementationSpecific && !strings.HasPrefix(hp.Path, "/"):
				errs = append(errs, field.Invalid(pp.Child("path"), hp.Path, "must be an absolute path"))
			}
			errs = append(errs, validateBackend(&hp.Backend, pp.Child("backend"))...)
		}
	}
	return errs
}

func validateBackend(b *networkingv1.IngressBackend, p *field.Path) field.ErrorList {
	switch {
	case b.Service != nil && b.Resource != nil:
		return field.ErrorList{field.Invalid(p, b, "cannot set both resource and service backends")}
	case b.Service == nil && b.Resource == nil:
		return field.ErrorList{field.Invalid(p, b, "resource or service backend is required")}
	case b.Service != nil:
		var errs field.ErrorList
		for _, msg := range apivalidation.NameIsDNS1035Label(b.Service.Name, false) {
			errs = append(errs, field.Invalid(p.Child("service", "name"), b.Service.Name, msg))
		}
		hasName, hasNumber := b.Service.Port.Name != "", b.Service.Port.Number != 0
		switch {
		case hasName && hasNumber:
			errs = append(errs, field.Invalid(p.Child("service", "port"), b.Service.Port, "cannot set both port name & port number"))
		case !hasName && !hasNumber:
			errs = append(errs, field.Invalid(p.Child("service", "port"), b.Service.Port, "port name or number is required"))
		}
		return errs
	}
	return nil
}

func validateHPA(obj, _ runtime.Object) field.ErrorList {
	h := obj.(*autoscalingv2.HorizontalPodAutoscaler)
	sp := field.NewPath("spec")
	var errs field.ErrorList
	ref := sp.Child("scaleTargetRef")
	if h.Spec.ScaleTargetRef.Kind == "" {
		errs = append(errs, field.Required(ref.Child("kind"), ""))
	}
	if h.Spec.ScaleTargetRef.Name == "" {
		errs = append(errs, field.Required(ref.Child("name"), ""))
	}
	if mn := h.Spec.MinReplicas; mn != nil && *mn < 1 {
		errs = append(errs, field.Invalid(sp.Child("minReplicas"), *mn, "must be greater than or equal to 1"))
	}
	if h.Spec.MaxReplicas < 1 {
		errs = append(errs, field.Invalid(sp.Child("maxReplicas"), h.Spec.MaxReplicas, "must be greater than 0"))
	}
	if mn := h.Spec.MinReplicas; mn != nil && h.Spec.MaxReplicas < *mn {
		errs = append(errs, field.Invalid(sp.Child("maxReplicas"), h.Spec.MaxReplicas, "must be greater than or equal to `minReplicas`"))
	}
	return errs
}

func validatePDB(obj, _ runtime.Object) field.ErrorList {
	pdb := obj.(*policyv1.PodDisruptionBudget)
	sp := field.NewPath("spec")
	var errs field.ErrorList
	if pdb.Spec.MinAvailable != nil && pdb.Spec.MaxUnavailable != nil {
		errs = append(errs, field.Invalid(sp, pdb.Spec, "minAvailable and maxUnavailable cannot be both set"))
	}
	for _, f := range []struct {
		name string
		v    *intstr.IntOrString
	}{{"minAvailable", pdb.Spec.MinAvailable}, {"maxUnavailable", pdb.Spec.MaxUnavailable}} {
		if f.v != nil {
			_, e := intOrPercent(f.v, sp.Child(f.name))
			errs = append(errs, e...)
		}
	}
	if pdb.Spec.Selector != nil {
		_, serrs := validateSelectorAllowEmpty(pdb.Spec.Selector, sp.Child("selector"))
		errs = append(errs, serrs...)
	}
	return errs
}

var rbacVerbsRequired = field.NewPath("rules")

func validateRBACName(name string, prefix bool) []string {
	// RBAC names are path segments: anything but "." "..", "/" and "%".
	return path.ValidatePathSegmentName(name, prefix)
}

func validateRules(rules []rbacv1.PolicyRule, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	for i, r := range rules {
		p := rbacVerbsRequired.Index(i)
		if len(r.Verbs) == 0 {
			errs = append(errs, field.Required(p.Child("verbs"), "verbs must contain at least one value"))
		}
		if len(r.NonResourceURLs) > 0 {
			if namespaced {
				errs = append(errs, field.Invalid(p.Child("nonResourceURLs"), r.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
			}
			if len(r.APIGroups) > 0 || len(r.Resources) > 0 || len(r.ResourceNames) > 0 {
				errs = append(errs, field.Invalid(p.Child("nonResourceURLs"), r.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
			}
			continue
		}
		if len(r.APIGroups) == 0 {
			errs = append(errs, field.Required(p.Child("apiGroups"), "resource rules must supply at least one api group"))
		}
		if len(r.Resources) == 0 {
			errs = append(errs, field.Required(p.Child("resources"), "resource rules must supply at least one resource"))
		}
	}
	return errs
}

// validateBindingOf validates a RoleBinding or ClusterRoleBinding read by parts.
func validateBindingOf(namespaced bool, parts func(runtime.Object) (rbacv1.RoleRef, []rbacv1.Subject)) func(obj, old runtime.Object) field.ErrorList {
	return func(obj, old runtime.Object) field.ErrorList {
		ref, subjects := parts(obj)
		var oldRef *rbacv1.RoleRef
		if old != nil {
			r, _ := parts(old)
			oldRef = &r
		}
		return validateBinding(ref, oldRef, subjects, namespaced)
	}
}

func validateBinding(ref rbacv1.RoleRef, old *rbacv1.RoleRef, subjects []rbacv1.Subject, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	rp := field.NewPath("roleRef")
	if ref.APIGroup != rbacGroup {
		errs = append(errs, field.NotSupported(rp.Child("apiGroup"), ref.APIGroup, []string{rbacGroup}))
	}
	kinds := []string{"ClusterRole"}
	if namespaced {
		kinds = []string{"Role", "ClusterRole"}
	}
	if ref.Kind != "ClusterRole" && (!namespaced || ref.Kind != "Role") {
		errs = append(errs, field.NotSupported(rp.Child("kind"), ref.Kind, kinds))
	}
	if ref.Name == "" {
		errs = append(errs, field.Required(rp.Child("name"), ""))
	}
	if old != nil && *old != ref {
		errs = append(errs, field.Invalid(rp, ref, "cannot change roleRef"))
	}
	for i, s := range subjects {
		p := field.NewPath("subjects").Index(i)
		if s.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		}
		switch s.Kind {
		case rbacv1.ServiceAccountKind:
			if s.APIGroup != "" {
				errs = append(errs, field.NotSupported(p.Child("apiGroup"), s.APIGroup, []string{""}))
			}
			if !namespaced && s.Namespace == "" {
				errs = append(errs, field.Required(p.Child("namespace"), ""))
			}
		case rbacv1.UserKind, rbacv1.GroupKind:
			if s.APIGroup != rbacGroup {
				errs = append(errs, field.NotSupported(p.Child("apiGroup"), s.APIGroup, []string{rbacGroup}))
			}
		default:
			errs = append(errs, field.NotSupported(p.Child("kind"), s.Kind, []string{rbacv1.ServiceAccountKind, rbacv1.UserKind, rbacv1.GroupKind}))
		}
	}
	return errs
}

// Priority bounds: user classes stay below the system's.
const (
	highestUserPriority = 1000000000
	systemPriorityPfx   = "system-"
)

func validatePriorityClass(obj, old runtime.Object) field.ErrorList {
	pc := obj.(*schedulingv1.PriorityClass)
	var errs field.ErrorList
	if strings.HasPrefix(pc.Name, systemPriorityPfx) && pc.Value <= highestUserPriority {
		errs = append(errs, field.Forbidden(field.NewPath("metadata", "name"), "priority class names with '"+systemPriorityPfx+"' prefix are reserved for system use only"))
	} else if !strings.HasPrefix(pc.Name, systemPriorityPfx) && pc.Value > highestUserPriority {
		errs = append(errs, field.Forbidden(field.NewPath("value"), "maximum allowed value of a user defined priority is "+strconv.Itoa(highestUserPriority)))
	}
	if old != nil {
		o := old.(*schedulingv1.PriorityClass)
		if pc.Value != o.Value {
			errs = append(errs, field.Forbidden(field.NewPath("value"), "may not be changed in an update."))
		}
		if !apiequality.Semantic.DeepEqual(pc.PreemptionPolicy, o.PreemptionPolicy) {
			errs = append(errs, field.Invalid(field.NewPath("preemptionPolicy"), pc.PreemptionPolicy, "field is immutable"))
		}
	}
	return errs
}

// ---- tables

var createdAtColumns = []metav1.TableColumnDefinition{
	nameCol(), col("Created At", "date", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0),
}

func createdAtRow(obj runtime.Object, _ time.Time) []interface{} {
	m := objMeta(obj)
	return []interface{}{m.Name, m.CreationTimestamp.UTC().Format(time.RFC3339)}
}

func accessModesString(ms []corev1.PersistentVolumeAccessMode) string {
	short := map[corev1.PersistentVolumeAccessMode]string{corev1.ReadWriteOnce: "RWO", corev1.ReadOnlyMany: "ROX", corev1.ReadWriteMany: "RWX", corev1.ReadWriteOncePod: "RWOP"}
	var out []string
	for _, m := range []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod} {
		for _, have := range ms {
			if have == m {
				out = append(out, short[m])
				break
			}
		}
	}
	return strings.Join(out, ",")
}

func volumeMode(m *corev1.PersistentVolumeMode) string {
	if m == nil {
		return "<unset>"
	}
	return string(*m)
}

var pvColumns = []metav1.TableColumnDefinition{
	nameCol(),
	col("Capacity", "string", "capacity is the description of the persistent volume's resources and capacity.", 0),
	col("Access Modes", "string", "accessModes contains all ways the volume can be mounted.", 0),
	col("Reclaim Policy", "string", "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.", 0),
	col("Status", "string", "phase indicates if a volume is available, bound to a claim, or released by a claim.", 0),
	col("Claim", "string", "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.", 0),
	col("StorageClass", "string", "storageClassName is the name of StorageClass to which this persistent volume belongs.", 0),
	col("VolumeAttributesClass", "string", "Name of VolumeAttributesClass to which this persistent volume belongs.", 0),
	col("Reason", "string", "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.", 0),
	ageCol(),
	col("VolumeMode", "string", "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.", 1),
}

func pvRow(obj runtime.Object, now time.Time) []interface{} {
	pv := obj.(*corev1.PersistentVolume)
	claim := ""
	if pv.Spec.ClaimRef != nil {
		claim = pv.Spec.ClaimRef.Namespace + "/" + pv.Spec.ClaimRef.Name
	}
	q := pv.Spec.Capacity[corev1.ResourceStorage]
	vac := none
	if pv.Spec.VolumeAttributesClassName != nil {
		vac = *pv.Spec.VolumeAttributesClassName
	}
	phase := string(pv.Status.Phase)
	if pv.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	return []interface{}{pv.Name, q.String(), accessModesString(pv.Spec.AccessModes), string(pv.Spec.PersistentVolumeReclaimPolicy),
		phase, claim, pv.Spec.StorageClassName, vac, pv.Status.Reason, Age(pv.CreationTimestamp, now), volumeMode(pv.Spec.VolumeMode)}
}

var pvcColumns = []metav1.TableColumnDefinition{
	nameCol(),
	col("Status", "string", "phase represents the current phase of PersistentVolumeClaim.", 0),
	col("Volume", "string", "volumeName is the binding reference to the PersistentVolume backing this claim.", 0),
	col("Capacity", "string", "capacity represents the actual resources of the underlying volume.", 0),
	col("Access Modes", "string", "accessModes contains the desired access modes the volume should have.", 0),
	col("StorageClass", "string", "storageClassName is the name of the StorageClass required by the claim.", 0),
	col("VolumeAttributesClass", "string", "volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim.", 0),
	ageCol(),
	col("VolumeMode", "string", "volumeMode defines what type of volume is required by the claim.", 1),
}

func pvcRow(obj runtime.Object, now time.Time) []interface{} {
	c := obj.(*corev1.PersistentVolumeClaim)
	phase := string(c.Status.Phase)
	if c.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	capacity, modes := "", ""
	if c.Spec.VolumeName != "" {
		q := c.Status.Capacity[corev1.ResourceStorage]
		capacity, modes = q.String(), accessModesString(c.Status.AccessModes)
	}
	sc := ""
	if c.Spec.StorageClassName != nil {
		sc = *c.Spec.StorageClassName
	}
	vac := none
	if c.Spec.VolumeAttributesClassName != nil {
		vac = *c.Spec.VolumeAttributesClassName
	}
	return []interface{}{c.Name, phase, c.Spec.VolumeName, capacity, modes, sc, vac, Age(c.CreationTimestamp, now), volumeMode(c.Spec.VolumeMode)}
}

var quotaColumns = []metav1.TableColumnDefinition{
	nameCol(), ageCol(),
	col("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume.", 0),
	col("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.", 0),
}

func quotaRow(obj runtime.Object, now time.Time) []interface{} {
	q := obj.(*corev1.ResourceQuota)
	var req, lim []string
	names := make([]string, 0, len(q.Status.Hard))
	for n := range q.Status.Hard {
		names = append(names, string(n))
	}
	sort.Strings(names)
	for _, n := range names {
		hard, used := q.Status.Hard[corev1.ResourceName(n)], q.Status.Used[corev1.ResourceName(n)]
		s := fmt.Sprintf("%s: %s/%s", n, used.String(), hard.String())
		if strings.HasPrefix(n, "limits.") {
			lim = append(lim, s)
		} else {
			req = append(req, s)
		}
	}
	return []interface{}{q.Name, Age(q.CreationTimestamp, now), strings.Join(req, ", "), strings.Join(lim, ", ")}
}

var podTemplateColumns = []metav1.TableColumnDefinition{
	col("Template", "string", "The name of the pod template.", 0),
	col("Containers", "string", "Names of each container in the template.", 0),
	col("Images", "string", "Images referenced by each container in the template.", 0),
	col("Pod Labels", "string", "The labels for the pod template.", 0),
}

func podTemplateRow(obj runtime.Object, _ time.Time) []interface{} {
	t := obj.(*corev1.PodTemplate)
	cs, is := containersImages(&t.Template.Spec)
	return []interface{}{t.Name, cs, is, labels.FormatLabels(t.Template.Labels)}
}

const defaultClassAnnotation = "storageclass.kubernetes.io/is-default-class"

var storageClassColumns = []metav1.TableColumnDefinition{
	nameCol(),
	col("Provisioner", "string", "provisioner indicates the type of the provisioner.", 0),
	col("ReclaimPolicy", "string", "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.", 0),
	col("VolumeBindingMode", "string", "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.", 0),
	col("AllowVolumeExpansion", "string", "allowVolumeExpansion shows whether the storage class allow volume expand.", 0),
	ageCol(),
}

func storageClassRow(obj runtime.Object, now time.Time) []interface{} {
	c := obj.(*storagev1.StorageClass)
	name := c.Name
	if c.Annotations[defaultClassAnnotation] == "true" || c.Annotations["storageclass.beta.kubernetes.io/is-default-class"] == "true" {
		name += " (default)"
	}
	rp, bm := "Delete", "Immediate"
	if c.ReclaimPolicy != nil {
		rp = string(*c.ReclaimPolicy)
	}
	if c.VolumeBindingMode != nil {
		bm = string(*c.VolumeBindingMode)
	}
	return []interface{}{name, c.Provisioner, rp, bm, c.AllowVolumeExpansion != nil && *c.AllowVolumeExpansion, Age(c.CreationTimestamp, now)}
}

var ingressColumns = []metav1.TableColumnDefinition{
	nameCol(),
	col("Class", "string", "The name of the IngressClass resource that should be used for ingress.", 0),
	col("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule", 0),
	col("Address", "string", "Address is a list containing ingress points for the load-balancer", 0),
	col("Ports", "string", "Ports of TLS configurations that open", 0),
	ageCol(),
}

func ingressRow(obj runtime.Object, now time.Time) []interface{} {
	ing := obj.(*networkingv1.Ingress)
	class := none
	if ing.Spec.IngressClassName != nil {
		class = *ing.Spec.IngressClassName
	}
	var hosts []string
	for _, r := range ing.Spec.Rules {
		if r.Host != "" {
			hosts = append(hosts, r.Host)
		}
	}
	h := "*"
	if len(hosts) > 0 {
		h = formatList(hosts, 3)
	}
	var addrs []string
	for _, lb := range ing.Status.LoadBalancer.Ingress {
		if lb.IP != "" {
			addrs = append(addrs, lb.IP)
		} else if lb.Hostname != "" {
			addrs = append(addrs, lb.Hostname)
		}
	}
	ports := "80"
	if len(ing.Spec.TLS) != 0 {
		ports = "80, 443"
	}
	return []interface{}{ing.Name, class, h, strings.Join(addrs, ","), ports, Age(ing.CreationTimestamp, now)}
}

var ingressClassColumns = []metav1.TableColumnDefinition{
	nameCol(),
	col("Controller", "string", "Controller that is responsible for handling this class", 0),
	col("Parameters", "string", "A reference to a resource with additional parameters", 0),
	ageCol(),
}

func ingressClassRow(obj runtime.Object, now time.Time) []interface{} {
	c := obj.(*networkingv1.IngressClass)
	params := none
	if p := c.Spec.Parameters; p != nil {
		params = p.Kind
		if p.APIGroup != nil {
			params += "." + *p.APIGroup
		}
		params += "/" + p.Name
	}
	return []interface{}{c.Name, c.Spec.Controller, params, Age(c.CreationTimestamp, now)}
}

var netpolColumns = []metav1.TableColumnDefinition{
	nameCol(), col("Pod-Selector", "string", "Selects the pods to which this NetworkPolicy object applies.", 0), ageCol(),
}

func netpolRow(obj runtime.Object, now time.Time) []interface{} {
	np := obj.(*networkingv1.NetworkPolicy)
	return []interface{}{np.Name, metav1.FormatLabelSelector(&np.Spec.PodSelector), Age(np.CreationTimestamp, now)}
}

var hpaColumns = []metav1.TableColumnDefinition{
	nameCol(),
	col("Reference", "string", "reference to scaled resource; horizontal pod autoscaler will learn the current resource consumption and will set the desired number of pods by using its Scale subresource.", 0),
	col("Targets", "string", "metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).", 0),
	col("MinPods", "string", "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.", 0),
	col("MaxPods", "string", "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.", 0),
	col("Replicas", "string", "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.", 0),
	ageCol(),
}

func hpaRow(obj runtime.Object, now time.Time) []interface{} {
	h := obj.(*autoscalingv2.HorizontalPodAutoscaler)
	ref := h.Spec.ScaleTargetRef.Kind + "/" + h.Spec.ScaleTargetRef.Name
	minPods := "<unset>"
	if h.Spec.MinReplicas != nil {
		minPods = strconv.Itoa(int(*h.Spec.MinReplicas))
	}
	return []interface{}{h.Name, ref, hpaTargets(h), minPods, int64(h.Spec.MaxReplicas), int64(h.Status.CurrentReplicas), Age(h.CreationTimestamp, now)}
}

// hpaTargets prints each resource metric as "cpu: 40%/80%" (current/target).
func hpaTargets(h *autoscalingv2.HorizontalPodAutoscaler) string {
	if len(h.Spec.Metrics) == 0 {
		return "<none>"
	}
	var out []string
	for i, m := range h.Spec.Metrics {
		if i == 3 {
			out = append(out, fmt.Sprintf("+ %d more...", len(h.Spec.Metrics)-3))
			break
		}
		if m.Type != autoscalingv2.ResourceMetricSourceType || m.Resource == nil {
			out = append(out, "<unknown>/<unknown>")
			continue
		}
		current := "<unknown>"
		for _, c := range h.Status.CurrentMetrics {
			switch {
			case c.Resource == nil || c.Resource.Name != m.Resource.Name:
			case m.Resource.Target.AverageUtilization != nil && c.Resource.Current.AverageUtilization != nil:
				current = fmt.Sprintf("%d%%", *c.Resource.Current.AverageUtilization)
			case m.Resource.Target.AverageValue != nil && c.Resource.Current.AverageValue != nil:
				current = c.Resource.Current.AverageValue.String()
			}
		}
		target := "<auto>"
		switch {
		case m.Resource.Target.AverageUtilization != nil:
			target = fmt.Sprintf("%d%%", *m.Resource.Target.AverageUtilization)
		case m.Resource.Target.AverageValue != nil:
			target = m.Resource.Target.AverageValue.String()
		}
		out = append(out, fmt.Sprintf("%s: %s/%s", m.Resource.Name, current, target))
	}
	return strings.Join(out, ", ")
}

var pdbColumns = []metav1.TableColumnDefinition{
	nameCol(),
	col("Min Available", "string", "The minimum number of pods that must be available simultaneously.  This can be either an integer or a string specifying a percentage, e.g. \"28%\".", 0),
	col("Max Unavailable", "string", "The maximum number of pods that may be unavailable simultaneously.  This can be either an integer or a string specifying a percentage, e.g. \"28%\".", 0),
	col("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time.", 0),
	ageCol(),
}

func pdbRow(obj runtime.Object, now time.Time) []interface{} {
	pdb := obj.(*policyv1.PodDisruptionBudget)
	minA, maxU := "N/A", "N/A"
	if pdb.Spec.MinAvailable != nil {
		minA = pdb.Spec.MinAvailable.String()
	}
	if pdb.Spec.MaxUnavailable != nil {
		maxU = pdb.Spec.MaxUnavailable.String()
	}
	return []interface{}{pdb.Name, minA, maxU, int64(pdb.Status.DisruptionsAllowed), Age(pdb.CreationTimestamp, now)}
}

var bindingColumns = []metav1.TableColumnDefinition{
	nameCol(),
	col("Role", "string", "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.", 0),
	ageCol(),
	col("Users", "string", "Users in the roleBinding", 1),
	col("Groups", "string", "Groups in the roleBinding", 1),
	col("ServiceAccounts", "string", "ServiceAccounts in the roleBinding", 1),
}

func bindingRow(name string, created metav1.Time, ref rbacv1.RoleRef, subjects []rbacv1.Subject, now time.Time) []interface{} {
	var users, groups, sas []string
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			users = append(users, s.Name)
		case rbacv1.GroupKind:
			groups = append(groups, s.Name)
		case rbacv1.ServiceAccountKind:
			sas = append(sas, s.Namespace+":"+s.Name)
		}
	}
	return []interface{}{name, ref.Kind + "/" + ref.Name, Age(created, now), strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(sas, ", ")}
}

func roleBindingRow(obj runtime.Object, now time.Time) []interface{} {
	b := obj.(*rbacv1.RoleBinding)
	return bindingRow(b.Name, b.CreationTimestamp, b.RoleRef, b.Subjects, now)
}

func clusterRoleBindingRow(obj runtime.Object, now time.Time) []interface{} {
	b := obj.(*rbacv1.ClusterRoleBinding)
	return bindingRow(b.Name, b.CreationTimestamp, b.RoleRef, b.Subjects, now)
}

var priorityClassColumns = []metav1.TableColumnDefinition{
	nameCol(),
	col("Value", "integer", "value represents the integer value of this priority class.", 0),
	col("Global-Default", "boolean", "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.", 0),
	ageCol(),
	col("PreemptionPolicy", "string", "preemptionPolicy is the Policy for preempting pods with lower priority.", 0),
}

func priorityClassRow(obj runtime.Object, now time.Time) []interface{} {
	pc := obj.(*schedulingv1.PriorityClass)
	pp := string(corev1.PreemptLowerPriority)
	if pc.PreemptionPolicy != nil {
		pp = string(*pc.PreemptionPolicy)
	}
	return []interface{}{pc.Name, int64(pc.Value), pc.GlobalDefault, Age(pc.CreationTimestamp, now), pp}
}

// pvFields: volumes select on their phase.
func pvFields(obj runtime.Object, s fields.Set) {
	s["status.phase"] = string(obj.(*corev1.PersistentVolume).Status.Phase)
}

// validateSelectorAllowEmpty checks a selector where empty means everything.
func validateSelectorAllowEmpty(sel *metav1.LabelSelector, p *field.Path) (labels.Selector, field.ErrorList) {
	errs := metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, p)
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil && len(errs) == 0 {
		errs = append(errs, field.Invalid(p, sel, err.Error()))
	}
	return s, errs
}
