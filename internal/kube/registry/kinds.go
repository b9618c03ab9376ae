package registry

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

var all = []string{"all"}

func core(name, kind, singular string, namespaced bool, newFn, newList func() runtime.Object) *Resource {
	return &Resource{Version: "v1", Name: name, Kind: kind, ListKind: kind + "List", Singular: singular,
		Namespaced: namespaced, New: newFn, NewList: newList, Columns: defaultColumns, Row: defaultRow}
}

func pods() *Resource {
	r := core("pods", "Pod", "pod", true, func() runtime.Object { return &corev1.Pod{} }, func() runtime.Object { return &corev1.PodList{} })
	r.ShortNames, r.Categories = []string{"po"}, all
	r.Subresources = []string{"status", "log", "binding", "eviction", "ephemeralcontainers"}
	r.HasSpec, r.HasStatus, r.ReturnDeleted = true, true, true
	r.Columns, r.Row = podColumns, podRow
	r.PrepareForCreate = func(obj runtime.Object) {
		pod := obj.(*corev1.Pod)
		pod.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: qosClass(&pod.Spec)}
		if pod.Spec.ServiceAccountName == "" {
			pod.Spec.ServiceAccountName = "default"
		}
		pod.Spec.DeprecatedServiceAccount = pod.Spec.ServiceAccountName
		if pod.Spec.Priority == nil {
			pod.Spec.Priority = ptr.To(int32(0))
		}
		if pod.Spec.PreemptionPolicy == nil {
			pod.Spec.PreemptionPolicy = ptr.To(corev1.PreemptLowerPriority)
		}
		addToleration(pod, corev1.TaintNodeNotReady)
		addToleration(pod, corev1.TaintNodeUnreachable)
	}
	r.Validate = validatePod
	r.Fields = func(obj runtime.Object, s fields.Set) {
		pod := obj.(*corev1.Pod)
		s["spec.nodeName"] = pod.Spec.NodeName
		s["spec.restartPolicy"] = string(pod.Spec.RestartPolicy)
		s["spec.schedulerName"] = pod.Spec.SchedulerName
		s["spec.serviceAccountName"] = pod.Spec.ServiceAccountName
		if pod.Spec.HostNetwork {
			s["spec.hostNetwork"] = "true"
		} else {
			s["spec.hostNetwork"] = "false"
		}
		s["status.phase"] = string(pod.Status.Phase)
		s["status.podIP"] = pod.Status.PodIP
		s["status.nominatedNodeName"] = pod.Status.NominatedNodeName
	}
	return r
}

func addToleration(pod *corev1.Pod, key string) {
	for _, t := range pod.Spec.Tolerations {
		if t.Key == key && (t.Effect == "" || t.Effect == corev1.TaintEffectNoExecute) {
			return
		}
	}
	pod.Spec.Tolerations = append(pod.Spec.Tolerations, corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists,
		Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To(int64(300))})
}

func qosClass(s *corev1.PodSpec) corev1.PodQOSClass {
	requests, limits, guaranteed := false, false, true
	for _, c := range s.Containers {
		if len(c.Resources.Requests) > 0 {
			requests = true
		}
		if len(c.Resources.Limits) > 0 {
			limits = true
		}
		cpuL, memL := c.Resources.Limits[corev1.ResourceCPU], c.Resources.Limits[corev1.ResourceMemory]
		if cpuL.IsZero() || memL.IsZero() {
			guaranteed = false
		}
		for name, q := range c.Resources.Requests {
			if l, ok := c.Resources.Limits[name]; !ok || l.Cmp(q) != 0 {
				guaranteed = false
			}
		}
	}
	switch {
	case !requests && !limits:
		return corev1.PodQOSBestEffort
	case guaranteed && len(s.Containers) > 0:
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

func nodes() *Resource {
	r := core("nodes", "Node", "node", false, func() runtime.Object { return &corev1.Node{} }, func() runtime.Object { return &corev1.NodeList{} })
	r.ShortNames = []string{"no"}
	r.Subresources = []string{"status"}
	r.HasSpec, r.HasStatus, r.KeepStatusOnCreate = true, true, true
	r.Columns, r.Row = nodeColumns, nodeRow
	r.Fields = func(obj runtime.Object, s fields.Set) {
		if obj.(*corev1.Node).Spec.Unschedulable {
			s["spec.unschedulable"] = "true"
		} else {
			s["spec.unschedulable"] = "false"
		}
	}
	return r
}

func namespaces() *Resource {
	r := core("namespaces", "Namespace", "namespace", false, func() runtime.Object { return &corev1.Namespace{} }, func() runtime.Object { return &corev1.NamespaceList{} })
	r.ShortNames = []string{"ns"}
	r.Verbs = []string{"create", "delete", "get", "list", "patch", "update", "watch"}
	r.Subresources = []string{"status", "finalize"}
	r.HasSpec, r.HasStatus, r.ReturnDeleted = true, true, true
	r.NameValidation = apivalidation.ValidateNamespaceName
	r.Columns, r.Row = namespaceColumns, namespaceRow
	r.PrepareForCreate = func(obj runtime.Object) {
		ns := obj.(*corev1.Namespace)
		ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
		ns.Spec.Finalizers = []corev1.FinalizerName{corev1.FinalizerKubernetes}
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels[corev1.LabelMetadataName] = ns.Name
	}
	r.Fields = func(obj runtime.Object, s fields.Set) {
		s["status.phase"] = string(obj.(*corev1.Namespace).Status.Phase)
	}
	return r
}

func services() *Resource {
	r := core("services", "Service", "service", true, func() runtime.Object { return &corev1.Service{} }, func() runtime.Object { return &corev1.ServiceList{} })
	r.ShortNames, r.Categories = []string{"svc"}, all
	r.Subresources = []string{"status"}
	r.HasSpec, r.HasStatus, r.ReturnDeleted = true, true, true
	r.NameValidation = apivalidation.NameIsDNS1035Label
	r.Columns, r.Row = serviceColumns, serviceRow
	r.PrepareForCreate = func(obj runtime.Object) { obj.(*corev1.Service).Status = corev1.ServiceStatus{} }
	r.Validate = validateService
	return r
}

func endpoints() *Resource {
	r := core("endpoints", "Endpoints", "endpoints", true, func() runtime.Object { return &corev1.Endpoints{} }, func() runtime.Object { return &corev1.EndpointsList{} })
	r.ShortNames = []string{"ep"}
	r.AllowCreateOnUpdate = true
	r.Columns, r.Row = endpointsColumns, endpointsRow
	return r
}

func replicationControllers() *Resource {
	r := core("replicationcontrollers", "ReplicationController", "replicationcontroller", true,
		func() runtime.Object { return &corev1.ReplicationController{} }, func() runtime.Object { return &corev1.ReplicationControllerList{} })
	r.ShortNames, r.Categories = []string{"rc"}, all
	r.Subresources = []string{"status", "scale"}
	r.HasSpec, r.HasStatus = true, true
	r.Columns, r.Row = rcColumns, rcRow
	r.PrepareForCreate = func(obj runtime.Object) {
		obj.(*corev1.ReplicationController).Status = corev1.ReplicationControllerStatus{}
	}
	r.Validate = validateRC
	r.Fields = func(obj runtime.Object, s fields.Set) {
		s["status.replicas"] = itoa(obj.(*corev1.ReplicationController).Status.Replicas)
	}
	r.Scale = &ScaleAccess{
		Get: func(obj runtime.Object) (int32, int32, string) {
			rc := obj.(*corev1.ReplicationController)
			return deref(rc.Spec.Replicas, 1), rc.Status.Replicas, fields.Set(rc.Spec.Selector).String()
		},
		Set: func(obj runtime.Object, n int32) { obj.(*corev1.ReplicationController).Spec.Replicas = &n },
	}
	return r
}

func configMaps() *Resource {
	r := core("configmaps", "ConfigMap", "configmap", true, func() runtime.Object { return &corev1.ConfigMap{} }, func() runtime.Object { return &corev1.ConfigMapList{} })
	r.ShortNames = []string{"cm"}
	r.Columns, r.Row = configMapColumns, configMapRow
	r.Validate = validateConfigMap
	return r
}

func secrets() *Resource {
	r := core("secrets", "Secret", "secret", true, func() runtime.Object { return &corev1.Secret{} }, func() runtime.Object { return &corev1.SecretList{} })
	r.Columns, r.Row = secretColumns, secretRow
	r.Validate = validateSecret
	r.PrepareForCreate = func(obj runtime.Object) {
		s := obj.(*corev1.Secret)
		for k, v := range s.StringData {
			if s.Data == nil {
				s.Data = map[string][]byte{}
			}
			s.Data[k] = []byte(v)
		}
		s.StringData = nil
	}
	r.Fields = func(obj runtime.Object, s fields.Set) { s["type"] = string(obj.(*corev1.Secret).Type) }
	return r
}

func serviceAccounts() *Resource {
	r := core("serviceaccounts", "ServiceAccount", "serviceaccount", true, func() runtime.Object { return &corev1.ServiceAccount{} }, func() runtime.Object { return &corev1.ServiceAccountList{} })
	r.ShortNames = []string{"sa"}
	r.Columns, r.Row = serviceAccountColumns, serviceAccountRow
	return r
}

func events() *Resource {
	r := core("events", "Event", "event", true, func() runtime.Object { return &corev1.Event{} }, func() runtime.Object { return &corev1.EventList{} })
	r.ShortNames = []string{"ev"}
	r.AllowCreateOnUpdate = true
	r.Columns, r.Row = eventColumns, eventRow
	r.Validate = func(obj, _ runtime.Object) field.ErrorList {
		e := obj.(*corev1.Event)
		if e.InvolvedObject.Namespace != "" && e.Namespace != "" && e.InvolvedObject.Namespace != e.Namespace {
			return field.ErrorList{field.Invalid(field.NewPath("involvedObject", "namespace"), e.InvolvedObject.Namespace, "does not match event.namespace")}
		}
		return nil
	}
	r.Fields = func(obj runtime.Object, s fields.Set) {
		e := obj.(*corev1.Event)
		s["involvedObject.kind"] = e.InvolvedObject.Kind
		s["involvedObject.namespace"] = e.InvolvedObject.Namespace
		s["involvedObject.name"] = e.InvolvedObject.Name
		s["involvedObject.uid"] = string(e.InvolvedObject.UID)
		s["involvedObject.apiVersion"] = e.InvolvedObject.APIVersion
		s["involvedObject.resourceVersion"] = e.InvolvedObject.ResourceVersion
		s["involvedObject.fieldPath"] = e.InvolvedObject.FieldPath
		s["reason"] = e.Reason
		s["reportingComponent"] = e.ReportingController
		s["source"] = e.Source.Component
		s["type"] = e.Type
	}
	return r
}

func deployments() *Resource {
	r := &Resource{Group: "apps", Version: "v1", Name: "deployments", Kind: "Deployment", ListKind: "DeploymentList", Singular: "deployment",
		Namespaced: true, ShortNames: []string{"deploy"}, Categories: all, Subresources: []string{"status", "scale"},
		New: func() runtime.Object { return &appsv1.Deployment{} }, NewList: func() runtime.Object { return &appsv1.DeploymentList{} },
		HasSpec: true, HasStatus: true, Columns: deployColumns, Row: deployRow, Validate: validateDeployment}
	r.PrepareForCreate = func(obj runtime.Object) { obj.(*appsv1.Deployment).Status = appsv1.DeploymentStatus{} }
	r.Scale = &ScaleAccess{
		Get: func(obj runtime.Object) (int32, int32, string) {
			d := obj.(*appsv1.Deployment)
			return deref(d.Spec.Replicas, 1), d.Status.Replicas, selectorString(d.Spec.Selector)
		},
		Set: func(obj runtime.Object, n int32) { obj.(*appsv1.Deployment).Spec.Replicas = &n },
	}
	return r
}

func replicaSets() *Resource {
	r := &Resource{Group: "apps", Version: "v1", Name: "replicasets", Kind: "ReplicaSet", ListKind: "ReplicaSetList", Singular: "replicaset",
		Namespaced: true, ShortNames: []string{"rs"}, Categories: all, Subresources: []string{"status", "scale"},
		New: func() runtime.Object { return &appsv1.ReplicaSet{} }, NewList: func() runtime.Object { return &appsv1.ReplicaSetList{} },
		HasSpec: true, HasStatus: true, Columns: rcColumns, Row: rsRow, Validate: validateReplicaSet}
	r.PrepareForCreate = func(obj runtime.Object) { obj.(*appsv1.ReplicaSet).Status = appsv1.ReplicaSetStatus{} }
	r.Fields = func(obj runtime.Object, s fields.Set) {
		s["status.replicas"] = itoa(obj.(*appsv1.ReplicaSet).Status.Replicas)
	}
	r.Scale = &ScaleAccess{
		Get: func(obj runtime.Object) (int32, int32, string) {
			rs := obj.(*appsv1.ReplicaSet)
			return deref(rs.Spec.Replicas, 1), rs.Status.Replicas, selectorString(rs.Spec.Selector)
		},
		Set: func(obj runtime.Object, n int32) { obj.(*appsv1.ReplicaSet).Spec.Replicas = &n },
	}
	return r
}

func leases() *Resource {
	return &Resource{Group: "coordination.k8s.io", Version: "v1", Name: "leases", Kind: "Lease", ListKind: "LeaseList", Singular: "lease",
		Namespaced: true, HasSpec: true, AllowCreateOnUpdate: true,
		New: func() runtime.Object { return &coordinationv1.Lease{} }, NewList: func() runtime.Object { return &coordinationv1.LeaseList{} },
		Columns: leaseColumns, Row: leaseRow}
}

func endpointSlices() *Resource {
	return &Resource{Group: "discovery.k8s.io", Version: "v1", Name: "endpointslices", Kind: "EndpointSlice", ListKind: "EndpointSliceList", Singular: "endpointslice",
		Namespaced: true,
		New:        func() runtime.Object { return &discoveryv1.EndpointSlice{} }, NewList: func() runtime.Object { return &discoveryv1.EndpointSliceList{} },
		Columns: sliceColumns, Row: sliceRow}
}

func selectorString(sel *metav1.LabelSelector) string {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return ""
	}
	return s.String()
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

// componentStatuses is the deprecated ComponentStatus API (get and list
// only). kube-apiserver probes the scheduler, the controller manager and
// etcd at each read; here they run in the server's process, so the
// server keeps the three objects Healthy (ComponentStatuses).
func componentStatuses() *Resource {
	r := core("componentstatuses", "ComponentStatus", "componentstatus", false,
		func() runtime.Object { return &corev1.ComponentStatus{} }, func() runtime.Object { return &corev1.ComponentStatusList{} })
	r.ShortNames = []string{"cs"}
	r.Verbs = []string{"get", "list"}
	r.Columns, r.Row = componentStatusColumns, componentStatusRow
	return r
}

// ComponentStatuses are the objects componentstatuses serves: the
// components a v1.33 server lists, each healthy.
func ComponentStatuses() []*corev1.ComponentStatus {
	var out []*corev1.ComponentStatus
	for _, name := range []string{"scheduler", "controller-manager", "etcd-0"} {
		out = append(out, &corev1.ComponentStatus{ObjectMeta: metav1.ObjectMeta{Name: name},
			Conditions: []corev1.ComponentCondition{{Type: corev1.ComponentHealthy, Status: corev1.ConditionTrue, Message: "ok"}}})
	}
	return out
}
