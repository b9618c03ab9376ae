package registry

import (
	"fmt"
	"maps"
	"net"
	"reflect"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateMeta checks metadata the way the real server does for every kind.
func validateMeta(r *Resource, m *metav1.ObjectMeta) field.ErrorList {
	nameFn := r.NameValidation
	if nameFn == nil {
		nameFn = apivalidation.NameIsDNSSubdomain
	}
	return apivalidation.ValidateObjectMeta(m, r.Namespaced, nameFn, field.NewPath("metadata"))
}

var (
	restartPolicies   = sets.New(string(corev1.RestartPolicyAlways), string(corev1.RestartPolicyOnFailure), string(corev1.RestartPolicyNever))
	dnsPolicies       = sets.New(string(corev1.DNSClusterFirst), string(corev1.DNSClusterFirstWithHostNet), string(corev1.DNSDefault), string(corev1.DNSNone))
	pullPolicies      = sets.New(string(corev1.PullAlways), string(corev1.PullIfNotPresent), string(corev1.PullNever))
	protocols         = sets.New(string(corev1.ProtocolTCP), string(corev1.ProtocolUDP), string(corev1.ProtocolSCTP))
	sessionAffinities = sets.New(string(corev1.ServiceAffinityClientIP), string(corev1.ServiceAffinityNone))
	serviceTypes      = sets.New(string(corev1.ServiceTypeClusterIP), string(corev1.ServiceTypeNodePort), string(corev1.ServiceTypeLoadBalancer), string(corev1.ServiceTypeExternalName))
)

func validatePodSpec(s *corev1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(s.Containers) == 0 {
		errs = append(errs, field.Required(p.Child("containers"), ""))
	}
	errs = append(errs, validateVolumes(s.Volumes, p.Child("volumes"))...)
	names := sets.New[string]()
	check := func(cs []corev1.Container, cp *field.Path) {
		for i := range cs {
			c := &cs[i]
			ip := cp.Index(i)
			if c.Name == "" {
				errs = append(errs, field.Required(ip.Child("name"), ""))
			} else {
				for _, msg := range validation.IsDNS1123Label(c.Name) {
					errs = append(errs, field.Invalid(ip.Child("name"), c.Name, msg))
				}
				if names.Has(c.Name) {
					errs = append(errs, field.Duplicate(ip.Child("name"), c.Name))
				}
				names.Insert(c.Name)
			}
			if c.Image == "" {
				errs = append(errs, field.Required(ip.Child("image"), ""))
			}
			for j, ev := range c.Env {
				np := ip.Child("env").Index(j).Child("name")
				if ev.Name == "" {
					errs = append(errs, field.Required(np, ""))
					continue
				}
				// The relaxed rule: RelaxedEnvironmentVariableValidation is on
				// by default in the version this server reports.
				for _, msg := range validation.IsRelaxedEnvVarName(ev.Name) {
					errs = append(errs, field.Invalid(np, ev.Name, msg))
				}
			}
			errs = append(errs, validateResources(&c.Resources, ip.Child("resources"))...)
			errs = append(errs, validateMounts(c.VolumeMounts, s.Volumes, ip.Child("volumeMounts"))...)
			if c.ImagePullPolicy != "" && !pullPolicies.Has(string(c.ImagePullPolicy)) {
				errs = append(errs, field.NotSupported(ip.Child("imagePullPolicy"), c.ImagePullPolicy, sets.List(pullPolicies)))
			}
			for j, port := range c.Ports {
				pp := ip.Child("ports").Index(j)
				for _, msg := range validation.IsValidPortNum(int(port.ContainerPort)) {
					errs = append(errs, field.Invalid(pp.Child("containerPort"), port.ContainerPort, msg))
				}
				if port.Protocol != "" && !protocols.Has(string(port.Protocol)) {
					errs = append(errs, field.NotSupported(pp.Child("protocol"), port.Protocol, sets.List(protocols)))
				}
			}
		}
	}
	check(s.InitContainers, p.Child("initContainers"))
	check(s.Containers, p.Child("containers"))
	if s.RestartPolicy != "" && !restartPolicies.Has(string(s.RestartPolicy)) {
		errs = append(errs, field.NotSupported(p.Child("restartPolicy"), s.RestartPolicy, sets.List(restartPolicies)))
	}
	if s.DNSPolicy != "" && !dnsPolicies.Has(string(s.DNSPolicy)) {
		errs = append(errs, field.NotSupported(p.Child("dnsPolicy"), s.DNSPolicy, sets.List(dnsPolicies)))
	}
	errs = append(errs, metav1validation.ValidateLabels(s.NodeSelector, p.Child("nodeSelector"))...)
	errs = append(errs, validateTolerations(s.Tolerations, p.Child("tolerations"))...)
	if s.TerminationGracePeriodSeconds != nil && *s.TerminationGracePeriodSeconds < 0 {
		errs = append(errs, field.Invalid(p.Child("terminationGracePeriodSeconds"), *s.TerminationGracePeriodSeconds, "must be greater than or equal to 0"))
	}
	return errs
}

var (
	tolerationOps = []corev1.TolerationOperator{corev1.TolerationOpEqual, corev1.TolerationOpExists}
	taintEffects  = []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute}
)

// validateTolerations checks a pod's tolerations as the real server does.
func validateTolerations(ts []corev1.Toleration, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, t := range ts {
		tp := p.Index(i)
		if t.Key != "" {
			errs = append(errs, metav1validation.ValidateLabelName(t.Key, tp.Child("key"))...)
		}
		if t.Key == "" && t.Operator != corev1.TolerationOpExists {
			errs = append(errs, field.Invalid(tp.Child("operator"), t.Operator,
				"operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
		}
		if t.TolerationSeconds != nil && t.Effect != corev1.TaintEffectNoExecute {
			errs = append(errs, field.Invalid(tp.Child("effect"), t.Effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
		}
		switch t.Operator {
		case corev1.TolerationOpEqual, "":
			for _, msg := range validation.IsValidLabelValue(t.Value) {
				errs = append(errs, field.Invalid(tp.Child("operator"), t.Value, msg))
			}
		case corev1.TolerationOpExists:
			if t.Value != "" {
				errs = append(errs, field.Invalid(tp.Child("operator"), t, "value must be empty when `operator` is 'Exists'"))
			}
		default:
			errs = append(errs, field.NotSupported(tp.Child("operator"), t.Operator, tolerationOps))
		}
		if t.Effect != "" && !slices.Contains(taintEffects, t.Effect) {
			errs = append(errs, field.NotSupported(tp.Child("effect"), t.Effect, taintEffects))
		}
	}
	return errs
}

// validateVolumes checks a pod's volumes: a DNS label name, unique, and
// exactly one volume type each.
func validateVolumes(vols []corev1.Volume, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i := range vols {
		vp := p.Index(i)
		switch n := volumeTypes(&vols[i].VolumeSource); {
		case n == 0:
			errs = append(errs, field.Required(vp, "must specify a volume type"))
		case n > 1:
			errs = append(errs, field.Forbidden(vp, "may not specify more than 1 volume type"))
		}
		name := vols[i].Name
		if name == "" {
			errs = append(errs, field.Required(vp.Child("name"), ""))
		} else {
			for _, msg := range validation.IsDNS1123Label(name) {
				errs = append(errs, field.Invalid(vp.Child("name"), name, msg))
			}
		}
		if seen.Has(name) {
			errs = append(errs, field.Duplicate(vp.Child("name"), name))
		}
		seen.Insert(name)
	}
	return errs
}

// volumeTypes counts the sources a volume sets (each is a pointer field).
func volumeTypes(src *corev1.VolumeSource) int {
	v := reflect.ValueOf(src).Elem()
	n := 0
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			n++
		}
	}
	return n
}

// validateMounts checks a container's volume mounts against the pod's
// volumes.
func validateMounts(mounts []corev1.VolumeMount, vols []corev1.Volume, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	paths := sets.New[string]()
	for i, m := range mounts {
		mp := p.Index(i)
		if m.Name == "" {
			errs = append(errs, field.Required(mp.Child("name"), ""))
		}
		if !slices.ContainsFunc(vols, func(v corev1.Volume) bool { return v.Name == m.Name }) {
			errs = append(errs, field.NotFound(mp.Child("name"), m.Name))
		}
		if m.MountPath == "" {
			errs = append(errs, field.Required(mp.Child("mountPath"), ""))
		}
		if paths.Has(m.MountPath) {
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be unique"))
		}
		paths.Insert(m.MountPath)
	}
	return errs
}

// validateResources checks a container's requests and limits as the real
// server does: no negative quantity, no request above its limit.
func validateResources(r *corev1.ResourceRequirements, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, name := range slices.Sorted(maps.Keys(r.Limits)) {
		if q := r.Limits[name]; q.Sign() < 0 {
			errs = append(errs, field.Invalid(p.Child("limits").Key(string(name)), q.String(), "must be greater than or equal to 0"))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.Requests)) {
		q := r.Requests[name]
		if q.Sign() < 0 {
			errs = append(errs, field.Invalid(p.Child("requests").Key(string(name)), q.String(), "must be greater than or equal to 0"))
		}
		if lim, ok := r.Limits[name]; ok && q.Cmp(lim) > 0 {
			errs = append(errs, field.Invalid(p.Child("requests"), q.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, lim.String())))
		}
	}
	return errs
}

func validatePod(obj, old runtime.Object) field.ErrorList {
	pod := obj.(*corev1.Pod)
	errs := validatePodSpec(&pod.Spec, field.NewPath("spec"))
	if old != nil {
		o := old.(*corev1.Pod)
		// Only a few pod spec fields may change after creation.
		if o.Spec.NodeName != "" && pod.Spec.NodeName != o.Spec.NodeName {
			errs = append(errs, field.Invalid(field.NewPath("spec", "nodeName"), pod.Spec.NodeName, "field is immutable"))
		}
		if len(pod.Spec.Containers) != len(o.Spec.Containers) {
			errs = append(errs, field.Forbidden(field.NewPath("spec"), "pod updates may not add or remove containers"))
		} else {
			for i := range pod.Spec.Containers {
				if pod.Spec.Containers[i].Name != o.Spec.Containers[i].Name {
					errs = append(errs, field.Forbidden(field.NewPath("spec"), "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"))
					break
				}
			}
		}
	}
	return errs
}

func validateTemplate(sel labels.Selector, t *corev1.PodTemplateSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if t == nil {
		return field.ErrorList{field.Required(p, "")}
	}
	if sel != nil && !sel.Empty() && !sel.Matches(labels.Set(t.Labels)) {
		errs = append(errs, field.Invalid(p.Child("metadata", "labels"), t.Labels, "`selector` does not match template `labels`"))
	}
	errs = append(errs, metav1validation.ValidateLabels(t.Labels, p.Child("metadata", "labels"))...)
	errs = append(errs, validatePodSpec(&t.Spec, p.Child("spec"))...)
	return errs
}

func validateReplicas(r *int32, p *field.Path) field.ErrorList {
	if r != nil && *r < 0 {
		return field.ErrorList{field.Invalid(p, *r, "must be greater than or equal to 0")}
	}
	return nil
}

func validateLabelSelector(sel *metav1.LabelSelector, p *field.Path) (labels.Selector, field.ErrorList) {
	if sel == nil {
		return nil, field.ErrorList{field.Required(p, "")}
	}
	errs := metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, p)
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, append(errs, field.Invalid(p, sel, err.Error()))
	}
	if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		errs = append(errs, field.Invalid(p, sel, "empty selector is invalid for deployment"))
	}
	return s, errs
}

func validateDeployment(obj, old runtime.Object) field.ErrorList {
	d := obj.(*appsv1.Deployment)
	sp := field.NewPath("spec")
	sel, errs := validateLabelSelector(d.Spec.Selector, sp.Child("selector"))
	errs = append(errs, validateReplicas(d.Spec.Replicas, sp.Child("replicas"))...)
	errs = append(errs, validateTemplate(sel, &d.Spec.Template, sp.Child("template"))...)
	if d.Spec.Template.Spec.RestartPolicy != "" && d.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(sp.Child("template", "spec", "restartPolicy"), d.Spec.Template.Spec.RestartPolicy, []string{string(corev1.RestartPolicyAlways)}))
	}
	if old != nil && !apiequalSelector(d.Spec.Selector, old.(*appsv1.Deployment).Spec.Selector) {
		errs = append(errs, field.Invalid(sp.Child("selector"), d.Spec.Selector, "field is immutable"))
	}
	errs = append(errs, validateStrategy(&d.Spec.Strategy, sp.Child("strategy"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(d.Spec.MinReadySeconds), sp.Child("minReadySeconds"))...)
	if d.Spec.RevisionHistoryLimit != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*d.Spec.RevisionHistoryLimit), sp.Child("revisionHistoryLimit"))...)
	}
	if pd := d.Spec.ProgressDeadlineSeconds; pd != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*pd), sp.Child("progressDeadlineSeconds"))...)
		if *pd <= d.Spec.MinReadySeconds {
			errs = append(errs, field.Invalid(sp.Child("progressDeadlineSeconds"), pd, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

var strategyTypes = []string{string(appsv1.RecreateDeploymentStrategyType), string(appsv1.RollingUpdateDeploymentStrategyType)}

// validateStrategy checks a deployment's (defaulted) update strategy.
func validateStrategy(st *appsv1.DeploymentStrategy, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch st.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if st.RollingUpdate != nil {
			errs = append(errs, field.Forbidden(p.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
		}
	case appsv1.RollingUpdateDeploymentStrategyType:
		if st.RollingUpdate == nil {
			break
		}
		rp := p.Child("rollingUpdate")
		unavailable, uerrs := intOrPercent(st.RollingUpdate.MaxUnavailable, rp.Child("maxUnavailable"))
		surge, serrs := intOrPercent(st.RollingUpdate.MaxSurge, rp.Child("maxSurge"))
		errs = append(append(errs, uerrs...), serrs...)
		if unavailable == 0 && surge == 0 {
			errs = append(errs, field.Invalid(rp.Child("maxUnavailable"), st.RollingUpdate.MaxUnavailable, "may not be 0 when `maxSurge` is 0"))
		}
		if v := st.RollingUpdate.MaxUnavailable; v != nil && v.Type == intstr.String && unavailable > 100 {
			errs = append(errs, field.Invalid(rp.Child("maxUnavailable"), v, "must not be greater than 100%"))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("type"), st.Type, strategyTypes))
	}
	return errs
}

// intOrPercent returns the number in v (an int, or a percent string) and
// the errors of a negative or malformed value.
func intOrPercent(v *intstr.IntOrString, p *field.Path) (int, field.ErrorList) {
	if v == nil {
		return 0, nil
	}
	if v.Type == intstr.String {
		var errs field.ErrorList
		for _, msg := range validation.IsValidPercent(v.StrVal) {
			errs = append(errs, field.Invalid(p, *v, msg))
		}
		n, _ := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
		return n, errs
	}
	return v.IntValue(), apivalidation.ValidateNonnegativeField(int64(v.IntValue()), p)
}

func validateReplicaSet(obj, old runtime.Object) field.ErrorList {
	rs := obj.(*appsv1.ReplicaSet)
	sp := field.NewPath("spec")
	sel, errs := validateLabelSelector(rs.Spec.Selector, sp.Child("selector"))
	errs = append(errs, validateReplicas(rs.Spec.Replicas, sp.Child("replicas"))...)
	errs = append(errs, validateTemplate(sel, &rs.Spec.Template, sp.Child("template"))...)
	if old != nil && !apiequalSelector(rs.Spec.Selector, old.(*appsv1.ReplicaSet).Spec.Selector) {
		errs = append(errs, field.Invalid(sp.Child("selector"), rs.Spec.Selector, "field is immutable"))
	}
	return errs
}

func apiequalSelector(a, b *metav1.LabelSelector) bool {
	return metav1.FormatLabelSelector(a) == metav1.FormatLabelSelector(b)
}

func validateRC(obj, _ runtime.Object) field.ErrorList {
	rc := obj.(*corev1.ReplicationController)
	sp := field.NewPath("spec")
	var errs field.ErrorList
	if len(rc.Spec.Selector) == 0 {
		errs = append(errs, field.Required(sp.Child("selector"), ""))
	}
	errs = append(errs, validateReplicas(rc.Spec.Replicas, sp.Child("replicas"))...)
	var sel labels.Selector
	if len(rc.Spec.Selector) > 0 {
		sel = labels.SelectorFromSet(rc.Spec.Selector)
	}
	errs = append(errs, validateTemplate(sel, rc.Spec.Template, sp.Child("template"))...)
	return errs
}

func validateService(obj, old runtime.Object) field.ErrorList {
	svc := obj.(*corev1.Service)
	sp := field.NewPath("spec")
	var errs field.ErrorList
	if !serviceTypes.Has(string(svc.Spec.Type)) {
		errs = append(errs, field.NotSupported(sp.Child("type"), svc.Spec.Type, sets.List(serviceTypes)))
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		if svc.Spec.ExternalName == "" {
			errs = append(errs, field.Required(sp.Child("externalName"), ""))
		}
	} else if len(svc.Spec.Ports) == 0 && svc.Spec.ClusterIP != corev1.ClusterIPNone {
		errs = append(errs, field.Required(sp.Child("ports"), ""))
	}
	names := sets.New[string]()
	for i, p := range svc.Spec.Ports {
		pp := sp.Child("ports").Index(i)
		if len(svc.Spec.Ports) > 1 && p.Name == "" {
			errs = append(errs, field.Required(pp.Child("name"), ""))
		}
		if p.Name != "" {
			for _, msg := range validation.IsDNS1123Label(p.Name) {
				errs = append(errs, field.Invalid(pp.Child("name"), p.Name, msg))
			}
			if names.Has(p.Name) {
				errs = append(errs, field.Duplicate(pp.Child("name"), p.Name))
			}
			names.Insert(p.Name)
		}
		for _, msg := range validation.IsValidPortNum(int(p.Port)) {
			errs = append(errs, field.Invalid(pp.Child("port"), p.Port, msg))
		}
		switch tp := p.TargetPort; tp.Type {
		case intstr.Int:
			for _, msg := range validation.IsValidPortNum(tp.IntValue()) {
				errs = append(errs, field.Invalid(pp.Child("targetPort"), tp.IntValue(), msg))
			}
		case intstr.String:
			for _, msg := range validation.IsValidPortName(tp.StrVal) {
				errs = append(errs, field.Invalid(pp.Child("targetPort"), tp.StrVal, msg))
			}
		}
		if !protocols.Has(string(p.Protocol)) {
			errs = append(errs, field.NotSupported(pp.Child("protocol"), p.Protocol, sets.List(protocols)))
		}
		if p.NodePort != 0 {
			if svc.Spec.Type != corev1.ServiceTypeNodePort && svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
				errs = append(errs, field.Forbidden(pp.Child("nodePort"), "may not be used when `type` is 'ClusterIP'"))
			} else if p.NodePort < NodePortMin || p.NodePort > NodePortMax {
				errs = append(errs, field.Invalid(pp.Child("nodePort"), p.NodePort, fmt.Sprintf("provided port is not in the valid range. The range of valid ports is %d-%d", NodePortMin, NodePortMax)))
			}
		}
	}
	errs = append(errs, metav1validation.ValidateLabels(svc.Spec.Selector, sp.Child("selector"))...)
	if !sessionAffinities.Has(string(svc.Spec.SessionAffinity)) {
		errs = append(errs, field.NotSupported(sp.Child("sessionAffinity"), svc.Spec.SessionAffinity, sets.List(sessionAffinities)))
	}
	if ip := svc.Spec.ClusterIP; ip != "" && ip != corev1.ClusterIPNone && net.ParseIP(ip) == nil {
		errs = append(errs, field.Invalid(sp.Child("clusterIPs").Index(0), ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
	}
	if old != nil {
		o := old.(*corev1.Service)
		if o.Spec.ClusterIP != "" && svc.Spec.ClusterIP != o.Spec.ClusterIP && svc.Spec.Type != corev1.ServiceTypeExternalName && o.Spec.Type != corev1.ServiceTypeExternalName {
			errs = append(errs, field.Invalid(sp.Child("clusterIPs").Index(0), []string{svc.Spec.ClusterIP}, "may not change once set"))
		}
	}
	return errs
}

func validateConfigMap(obj, _ runtime.Object) field.ErrorList {
	cm := obj.(*corev1.ConfigMap)
	var errs field.ErrorList
	for k := range cm.Data {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, msg))
		}
	}
	for k := range cm.BinaryData {
		if _, dup := cm.Data[k]; dup {
			errs = append(errs, field.Invalid(field.NewPath("binaryData").Key(k), k, "duplicate of key present in data"))
		}
	}
	if e := configMapDataTooLong(cm); e != nil {
		errs = append(errs, e)
	}
	return errs
}

func validateSecret(obj, _ runtime.Object) field.ErrorList {
	s := obj.(*corev1.Secret)
	var errs field.ErrorList
	for k := range s.Data {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, msg))
		}
	}
	if e := secretDataTooLong(s); e != nil {
		errs = append(errs, e)
	}
	return errs
}
