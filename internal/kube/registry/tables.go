package registry

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
)

const none = "<none>"

func col(name, typ, desc string, priority int32) metav1.TableColumnDefinition {
	c := metav1.TableColumnDefinition{Name: name, Type: typ, Description: desc, Priority: priority}
	if name == "Name" {
		c.Format = "name"
		c.Description = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
	}
	return c
}

func nameCol() metav1.TableColumnDefinition { return col("Name", "string", "", 0) }
func ageCol() metav1.TableColumnDefinition {
	return col("Age", "string", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0)
}

// Age formats the time since t the way kubectl and the real server do ("5s", "3m2s", "4d").
func Age(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// DefaultColumns are the columns of a resource without its own printer.
var defaultColumns = []metav1.TableColumnDefinition{nameCol(), ageCol()}

func defaultRow(obj runtime.Object, now time.Time) []interface{} {
	m := objMeta(obj)
	return []interface{}{m.Name, Age(m.CreationTimestamp, now)}
}

func objMeta(obj runtime.Object) *metav1.ObjectMeta {
	if a, ok := obj.(interface{ GetObjectMeta() metav1.Object }); ok {
		if m, ok := a.GetObjectMeta().(*metav1.ObjectMeta); ok {
			return m
		}
	}
	return &metav1.ObjectMeta{}
}

// ---- pods

var podColumns = []metav1.TableColumnDefinition{
	nameCol(),
	col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic.", 0),
	col("Status", "string", "The aggregate status of the containers in this pod.", 0),
	col("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", 0),
	ageCol(),
	col("IP", "string", "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", 1),
	col("Node", "string", "NodeName is a request to schedule this pod onto a specific node.", 1),
	col("Nominated Node", "string", "nominatedNodeName is set only when this pod preempts other pods on the node.", 1),
	col("Readiness Gates", "string", "If specified, all readiness gates will be evaluated for pod readiness.", 1),
}

func podRow(obj runtime.Object, now time.Time) []interface{} {
	pod := obj.(*corev1.Pod)
	restarts, ready := 0, 0
	total := len(pod.Spec.Containers)
	reason := string(pod.Status.Phase)
	if pod.Status.Reason != "" {
		reason = pod.Status.Reason
	}
	var lastRestart time.Time
	initializing := false
	for i, c := range pod.Status.InitContainerStatuses {
		restarts += int(c.RestartCount)
		if c.LastTerminationState.Terminated != nil && c.LastTerminationState.Terminated.FinishedAt.After(lastRestart) {
			lastRestart = c.LastTerminationState.Terminated.FinishedAt.Time
		}
		switch {
		case c.State.Terminated != nil && c.State.Terminated.ExitCode == 0:
			continue
		case c.State.Terminated != nil:
			if c.State.Terminated.Reason == "" {
				if c.State.Terminated.Signal != 0 {
					reason = fmt.Sprintf("Init:Signal:%d", c.State.Terminated.Signal)
				} else {
					reason = fmt.Sprintf("Init:ExitCode:%d", c.State.Terminated.ExitCode)
				}
			} else {
				reason = "Init:" + c.State.Terminated.Reason
			}
			initializing = true
		case c.State.Waiting != nil && c.State.Waiting.Reason != "" && c.State.Waiting.Reason != "PodInitializing":
			reason = "Init:" + c.State.Waiting.Reason
			initializing = true
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
			initializing = true
		}
		break
	}
	if !initializing {
		restarts = 0
		hasRunning := false
		for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
			c := pod.Status.ContainerStatuses[i]
			restarts += int(c.RestartCount)
			if c.LastTerminationState.Terminated != nil && c.LastTerminationState.Terminated.FinishedAt.After(lastRestart) {
				lastRestart = c.LastTerminationState.Terminated.FinishedAt.Time
			}
			switch {
			case c.State.Waiting != nil && c.State.Waiting.Reason != "":
				reason = c.State.Waiting.Reason
			case c.State.Terminated != nil && c.State.Terminated.Reason != "":
				reason = c.State.Terminated.Reason
			case c.State.Terminated != nil && c.State.Terminated.Signal != 0:
				reason = fmt.Sprintf("Signal:%d", c.State.Terminated.Signal)
			case c.State.Terminated != nil:
				reason = fmt.Sprintf("ExitCode:%d", c.State.Terminated.ExitCode)
			case c.Ready && c.State.Running != nil:
				hasRunning = true
				ready++
			}
		}
		if reason == "Completed" && hasRunning {
			reason = "NotReady"
			for _, cond := range pod.Status.Conditions {
				if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
					reason = "Running"
				}
			}
		}
	}
	if pod.DeletionTimestamp != nil && pod.Status.Reason == "NodeLost" {
		reason = "Unknown"
	} else if pod.DeletionTimestamp != nil {
		reason = "Terminating"
	}
	restartsStr := strconv.Itoa(restarts)
	if !lastRestart.IsZero() {
		restartsStr = fmt.Sprintf("%d (%s ago)", restarts, duration.HumanDuration(now.Sub(lastRestart)))
	}
	ip := none
	if pod.Status.PodIP != "" {
		ip = pod.Status.PodIP
	}
	node := none
	if pod.Spec.NodeName != "" {
		node = pod.Spec.NodeName
	}
	nominated := none
	if pod.Status.NominatedNodeName != "" {
		nominated = pod.Status.NominatedNodeName
	}
	gates := none
	if n := len(pod.Spec.ReadinessGates); n > 0 {
		trueGates := 0
		for _, g := range pod.Spec.ReadinessGates {
			for _, c := range pod.Status.Conditions {
				if c.Type == g.ConditionType && c.Status == corev1.ConditionTrue {
					trueGates++
				}
			}
		}
		gates = fmt.Sprintf("%d/%d", trueGates, n)
	}
	if reason == "" {
		reason = string(corev1.PodPending)
	}
	return []interface{}{pod.Name, fmt.Sprintf("%d/%d", ready, total), reason, restartsStr, Age(pod.CreationTimestamp, now), ip, node, nominated, gates}
}

// ---- workloads

func containersImages(spec *corev1.PodSpec) (string, string) {
	var names, images []string
	for _, c := range spec.Containers {
		names = append(names, c.Name)
		images = append(images, c.Image)
	}
	return strings.Join(names, ","), strings.Join(images, ",")
}

var rcColumns = []metav1.TableColumnDefinition{
	nameCol(),
	col("Desired", "integer", "Number of desired pods.", 0),
	col("Current", "integer", "Number of actual pods.", 0),
	col("Ready", "integer", "Number of pods ready.", 0),
	ageCol(),
	col("Containers", "string", "Names of each container in the template.", 1),
	col("Images", "string", "Images referenced by each container in the template.", 1),
	col("Selector", "string", "Label selector for pods. Pods that match this label selector will be counted.", 1),
}

func rcRow(obj runtime.Object, now time.Time) []interface{} {
	rc := obj.(*corev1.ReplicationController)
	var cs, is string
	if rc.Spec.Template != nil {
		cs, is = containersImages(&rc.Spec.Template.Spec)
	}
	return []interface{}{rc.Name, int64(deref(rc.Spec.Replicas, 1)), int64(rc.Status.Replicas), int64(rc.Status.ReadyReplicas),
		Age(rc.CreationTimestamp, now), cs, is, labels.FormatLabels(rc.Spec.Selector)}
}

func rsRow(obj runtime.Object, now time.Time) []interface{} {
	rs := obj.(*appsv1.ReplicaSet)
	cs, is := containersImages(&rs.Spec.Template.Spec)
	return []interface{}{rs.Name, int64(deref(rs.Spec.Replicas, 1)), int64(rs.Status.Replicas), int64(rs.Status.ReadyReplicas),
		Age(rs.CreationTimestamp, now), cs, is, metav1.FormatLabelSelector(rs.Spec.Selector)}
}

var deployColumns = []metav1.TableColumnDefinition{
	nameCol(),
	col("Ready", "string", "Number of the pod with ready state", 0),
	col("Up-to-date", "string", "Total number of non-terminated pods targeted by this deployment that have the desired template spec.", 0),
	col("Available", "string", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.", 0),
	ageCol(),
	col("Containers", "string", "Names of each container in the template.", 1),
	col("Images", "string", "Images referenced by each container in the template.", 1),
	col("Selector", "string", "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.", 1),
}

func deployRow(obj runtime.Object, now time.Time) []interface{} {
	d := obj.(*appsv1.Deployment)
	cs, is := containersImages(&d.Spec.Template.Spec)
	return []interface{}{d.Name, fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, deref(d.Spec.Replicas, 1)),
		int64(d.Status.UpdatedReplicas), int64(d.Status.AvailableReplicas), Age(d.CreationTimestamp, now),
		cs, is, metav1.FormatLabelSelector(d.Spec.Selector)}
}

func deref(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

// ---- services and endpoints

var serviceColumns = []metav1.TableColumnDefinition{
	nameCol(),
	col("Type", "string", "The type of service.", 0),
	col("Cluster-IP", "string", "The cluster ip of the service.", 0),
	col("External-IP", "string", "The external ip of the service.", 0),
	col("Port(s)", "string", "The ports of the service.", 0),
	ageCol(),
	col("Selector", "string", "Route service traffic to pods with label keys and values matching this selector.", 1),
}

func serviceRow(obj runtime.Object, now time.Time) []interface{} {
	svc := obj.(*corev1.Service)
	clusterIP := svc.Spec.ClusterIP
	if clusterIP == "" {
		clusterIP = none
	}
	external := none
	switch svc.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		if len(svc.Spec.ExternalIPs) > 0 {
			external = strings.Join(svc.Spec.ExternalIPs, ",")
		}
	case corev1.ServiceTypeLoadBalancer:
		var ips []string
		for _, in := range svc.Status.LoadBalancer.Ingress {
			if in.IP != "" {
				ips = append(ips, in.IP)
			} else if in.Hostname != "" {
				ips = append(ips, in.Hostname)
			}
		}
		ips = append(ips, svc.Spec.ExternalIPs...)
		if len(ips) > 0 {
			external = strings.Join(ips, ",")
		} else {
			external = "<pending>"
		}
	case corev1.ServiceTypeExternalName:
		external = svc.Spec.ExternalName
	}
	var ports []string
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			ports = append(ports, fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol))
		} else {
			ports = append(ports, fmt.Sprintf("%d/%s", p.Port, p.Protocol))
		}
	}
	portStr := none
	if len(ports) > 0 {
		portStr = strings.Join(ports, ",")
	}
	sel := none
	if len(svc.Spec.Selector) > 0 {
		sel = labels.FormatLabels(svc.Spec.Selector)
	}
	return []interface{}{svc.Name, string(svc.Spec.Type), clusterIP, external, portStr, Age(svc.CreationTimestamp, now), sel}
}

var endpointsColumns = []metav1.TableColumnDefinition{
	nameCol(),
	col("Endpoints", "string", "Endpoints of the service", 0),
	ageCol(),
}

func formatList(list []string, max int) string {
	if len(list) == 0 {
		return none
	}
	if len(list) <= max {
		return strings.Join(list, ",")
	}
	return strings.Join(list[:max], ",") + fmt.Sprintf(" + %d more...", len(list)-max)
}

func endpointsRow(obj runtime.Object, now time.Time) []interface{} {
	ep := obj.(*corev1.Endpoints)
	var list []string
	for _, ss := range ep.Subsets {
		for _, a := range ss.Addresses {
			if len(ss.Ports) == 0 {
				list = append(list, a.IP)
			}
			for _, p := range ss.Ports {
				list = append(list, fmt.Sprintf("%s:%d", a.IP, p.Port))
			}
		}
	}
	return []interface{}{ep.Name, formatList(list, 3), Age(ep.CreationTimestamp, now)}
}

var sliceColumns = []metav1.TableColumnDefinition{
	nameCol(),
	col("AddressType", "string", "The IP protocol for this slice", 0),
	col("Ports", "string", "The ports of the slice", 0),
	col("Endpoints", "string", "Endpoints of the slice", 0),
	ageCol(),
}

func sliceRow(obj runtime.Object, now time.Time) []interface{} {
	s := obj.(*discoveryv1.EndpointSlice)
	var ports []string
	for _, p := range s.Ports {
		if p.Port != nil {
			ports = append(ports, strconv.Itoa(int(*p.Port)))
		}
	}
	portStr := "<unset>"
	if len(ports) > 0 {
		portStr = strings.Join(ports, ",")
	}
	var addrs []string
	for _, e := range s.Endpoints {
		addrs = append(addrs, e.Addresses...)
	}
	return []interface{}{s.Name, string(s.AddressType), portStr, formatList(addrs, 3), Age(s.CreationTimestamp, now)}
}

// ---- cluster

var nodeColumns = []metav1.TableColumnDefinition{
	nameCol(),
	col("Status", "string", "The status of the node", 0),
	col("Roles", "string", "The roles of the node", 0),
	ageCol(),
	col("Version", "string", "Kubelet Version reported by the node.", 0),
	col("Internal-IP", "string", "List of internal IPs.", 1),
	col("External-IP", "string", "List of external IPs.", 1),
	col("OS-Image", "string", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1),
	col("Kernel-Version", "string", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
	col("Container-Runtime", "string", "Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2).", 1),
}

func nodeRow(obj runtime.Object, now time.Time) []interface{} {
	n := obj.(*corev1.Node)
	status := "Unknown"
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			if c.Status == corev1.ConditionTrue {
				status = "Ready"
			} else {
				status = "NotReady"
			}
		}
	}
	if n.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	var roles []string
	for k, v := range n.Labels {
		switch {
		case strings.HasPrefix(k, "node-role.kubernetes.io/"):
			if r := strings.TrimPrefix(k, "node-role.kubernetes.io/"); r != "" {
				roles = append(roles, r)
			}
		case k == "kubernetes.io/role" && v != "":
			roles = append(roles, v)
		}
	}
	sort.Strings(roles)
	roleStr := none
	if len(roles) > 0 {
		roleStr = strings.Join(roles, ",")
	}
	addr := func(t corev1.NodeAddressType) string {
		for _, a := range n.Status.Addresses {
			if a.Type == t {
				return a.Address
			}
		}
		return none
	}
	osImage, kernel, runtimeV := n.Status.NodeInfo.OSImage, n.Status.NodeInfo.KernelVersion, n.Status.NodeInfo.ContainerRuntimeVersion
	if osImage == "" {
		osImage = "<unknown>"
	}
	if kernel == "" {
		kernel = "<unknown>"
	}
	if runtimeV == "" {
		runtimeV = "<unknown>"
	}
	return []interface{}{n.Name, status, roleStr, Age(n.CreationTimestamp, now), n.Status.NodeInfo.KubeletVersion,
		addr(corev1.NodeInternalIP), addr(corev1.NodeExternalIP), osImage, kernel, runtimeV}
}

var namespaceColumns = []metav1.TableColumnDefinition{
	nameCol(),
	col("Status", "string", "The status of the namespace", 0),
	ageCol(),
}

func namespaceRow(obj runtime.Object, now time.Time) []interface{} {
	ns := obj.(*corev1.Namespace)
	return []interface{}{ns.Name, string(ns.Status.Phase), Age(ns.CreationTimestamp, now)}
}

// ---- config

var configMapColumns = []metav1.TableColumnDefinition{
	nameCol(), col("Data", "integer", "Number of data items in the config map", 0), ageCol(),
}

func configMapRow(obj runtime.Object, now time.Time) []interface{} {
	cm := obj.(*corev1.ConfigMap)
	return []interface{}{cm.Name, int64(len(cm.Data) + len(cm.BinaryData)), Age(cm.CreationTimestamp, now)}
}

var secretColumns = []metav1.TableColumnDefinition{
	nameCol(), col("Type", "string", "The type of the secret", 0),
	col("Data", "integer", "The number of entries in the data", 0), ageCol(),
}

func secretRow(obj runtime.Object, now time.Time) []interface{} {
	s := obj.(*corev1.Secret)
	return []interface{}{s.Name, string(s.Type), int64(len(s.Data)), Age(s.CreationTimestamp, now)}
}

var serviceAccountColumns = []metav1.TableColumnDefinition{
	nameCol(), col("Secrets", "string", "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.", 0), ageCol(),
}

func serviceAccountRow(obj runtime.Object, now time.Time) []interface{} {
	sa := obj.(*corev1.ServiceAccount)
	return []interface{}{sa.Name, int64(len(sa.Secrets)), Age(sa.CreationTimestamp, now)}
}

var eventColumns = []metav1.TableColumnDefinition{
	col("Last Seen", "string", "Time when this Event was last seen", 0),
	col("Type", "string", "Type of this event (Normal, Warning), new types could be added in the future.", 0),
	col("Reason", "string", "This should be a short, machine understandable string that gives the reason for this event being generated.", 0),
	col("Object", "string", "The object that this event is about.", 0),
	col("Subobject", "string", "The subobject that this event is about.", 1),
	col("Source", "string", "The component reporting this event. Should be a short machine understandable string.", 1),
	col("Message", "string", "A human-readable description of the status of this operation.", 0),
	col("First Seen", "string", "The first time that this event was seen.", 1),
	col("Count", "string", "The number of times this event has occurred.", 1),
	col("Name", "string", "The name of this event.", 1),
}

func eventRow(obj runtime.Object, now time.Time) []interface{} {
	e := obj.(*corev1.Event)
	first, last := e.FirstTimestamp, e.LastTimestamp
	if last.IsZero() {
		last = metav1.Time{Time: e.EventTime.Time}
	}
	if first.IsZero() {
		first = last
	}
	lastSeen := Age(last, now)
	if e.Series != nil {
		lastSeen = fmt.Sprintf("%s (x%d over %s)", Age(metav1.Time{Time: e.Series.LastObservedTime.Time}, now), e.Series.Count, Age(first, now))
	} else if e.Count > 1 {
		lastSeen = fmt.Sprintf("%s (x%d over %s)", lastSeen, e.Count, Age(first, now))
	}
	objName := strings.ToLower(e.InvolvedObject.Kind) + "/" + e.InvolvedObject.Name
	src := e.Source.Component
	if src == "" {
		src = e.ReportingController
	}
	if e.Source.Host != "" {
		src += ", " + e.Source.Host
	}
	count := e.Count
	if e.Series != nil {
		count = e.Series.Count
	}
	return []interface{}{lastSeen, e.Type, e.Reason, objName, e.InvolvedObject.FieldPath, src, strings.TrimSpace(e.Message),
		Age(first, now), int64(count), e.Name}
}

var leaseColumns = []metav1.TableColumnDefinition{
	nameCol(), col("Holder", "string", "The holder of the lease.", 0), ageCol(),
}

func leaseRow(obj runtime.Object, now time.Time) []interface{} {
	l := obj.(*coordinationv1.Lease)
	holder := ""
	if l.Spec.HolderIdentity != nil {
		holder = *l.Spec.HolderIdentity
	}
	return []interface{}{l.Name, holder, Age(l.CreationTimestamp, now)}
}

// componentStatusColumns are kubectl get componentstatuses' (the real
// server's printer).
var componentStatusColumns = []metav1.TableColumnDefinition{
	nameCol(), col("Status", "string", "Status of the component conditions", 0),
	col("Message", "string", "Message of the component conditions", 0), col("Error", "string", "Error of the component conditions", 0),
}

func componentStatusRow(obj runtime.Object, _ time.Time) []interface{} {
	cs := obj.(*corev1.ComponentStatus)
	status, msg, errText := "Unknown", "", ""
	for _, c := range cs.Conditions {
		if c.Type != corev1.ComponentHealthy {
			continue
		}
		status = "Unhealthy"
		if c.Status == corev1.ConditionTrue {
			status = "Healthy"
		}
		msg, errText = c.Message, c.Error
		break
	}
	return []interface{}{cs.Name, status, msg, errText}
}
