package marathon

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/stratus-cloud/stratus/internal/kube/restartgate"
)

// Namespace holds every Marathon app's Kubernetes objects.
const Namespace = "marathon"

// Names of the labels and annotations on the Kubernetes objects.
const (
	LabelApp          = "marathon.stratus.io/app"     // pods and Deployments: hash of the app id
	annotationID      = "marathon.stratus.io/id"      // the app id
	annotationApp     = "marathon.stratus.io/app"     // the app's current JSON
	annotationVersion = "marathon.stratus.io/version" // pod template: the config version
	annotationPorts   = "marathon.stratus.io/ports"   // pod template: the task's host ports
	deletionCost      = "controller.kubernetes.io/pod-deletion-cost"
	managedBy         = "app.kubernetes.io/managed-by"
)

// PortRangeMin and PortRangeMax bound the service ports Marathon assigns
// to apps (its local_port_min and local_port_max).
const (
	PortRangeMin = 10000
	PortRangeMax = 20000
)

// AgentPortMin and AgentPortMax bound the host ports a node offers its
// tasks: a Mesos agent's default ports resource, [31000-32000].
const (
	AgentPortMin = 31000
	AgentPortMax = 32000
)

// annotationPort is the pod annotation holding the task's i-th host port
// (its PORTi), and annotationPortList the comma-separated list (PORTS),
// written when the server gives a task its ports (hostports.go).
func annotationPort(i int) string { return "marathon.stratus.io/port" + strconv.Itoa(i) }

const annotationPortList = "marathon.stratus.io/port-list"

// versionTime formats a version as Marathon does.
func versionTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// hostPorts returns the host ports of a task of app (0: the task gets one
// of its node's ports, as a Mesos offer's) and the app's service ports,
// for an app whose service ports are filled in.
func (a *App) hostPorts() (host, service []int) {
	if a.usesPortMappings() {
		for _, pm := range a.Container.PortMappings {
			if pm.HostPort != 0 || a.Container.Docker == nil || a.Container.Docker.Network != "USER" {
				host = append(host, pm.HostPort)
			}
			service = append(service, pm.ServicePort)
		}
		return host, service
	}
	for _, pd := range a.PortDefinitions {
		if a.RequirePorts {
			host = append(host, pd.Port)
		} else {
			host = append(host, 0)
		}
		service = append(service, pd.Port)
	}
	return host, service
}

// dynamicPorts reports whether some of the app's host ports are given per
// task.
func dynamicPorts(host []int) bool {
	for _, p := range host {
		if p == 0 {
			return true
		}
	}
	return false
}

// portNames are the names of the app's ports, by index ("" for none).
func (a *App) portNames() []string {
	var out []string
	if a.usesPortMappings() {
		for _, pm := range a.Container.PortMappings {
			if pm.HostPort != 0 || a.Container.Docker == nil || a.Container.Docker.Network != "USER" {
				out = append(out, pm.Name)
			}
		}
		return out
	}
	for _, pd := range a.PortDefinitions {
		out = append(out, pd.Name)
	}
	return out
}

// assignPorts gives every service port 0 of the app a free port of the range;
// used holds the ports other apps already have and gets the new ones.
func (a *App) assignPorts(used map[int]bool, next *int) error {
	take := func() (int, error) {
		for range PortRangeMax - PortRangeMin + 1 {
			p := *next
			*next++
			if *next > PortRangeMax {
				*next = PortRangeMin
			}
			if !used[p] {
				used[p] = true
				return p, nil
			}
		}
		return 0, fmt.Errorf("all ports in the range %d-%d are already in use", PortRangeMin, PortRangeMax)
	}
	var err error
	if a.usesPortMappings() {
		for i := range a.Container.PortMappings {
			// hostPort 0 stays 0: each task gets its own (hostports.go).
			pm := &a.Container.PortMappings[i]
			if pm.ServicePort == 0 {
				if pm.ServicePort, err = take(); err != nil {
					return err
				}
			}
		}
		if a.Container.Docker != nil {
			a.Container.Docker.PortMappings = a.Container.PortMappings
		}
		return nil
	}
	a.Ports = a.Ports[:0]
	for i := range a.PortDefinitions {
		if a.PortDefinitions[i].Port == 0 {
			if a.PortDefinitions[i].Port, err = take(); err != nil {
				return err
			}
		}
		a.Ports = append(a.Ports, a.PortDefinitions[i].Port)
	}
	return nil
}

// portsOf lists the ports an app already holds (for assignPorts' used set).
func (a *App) portsOf(used map[int]bool) {
	h, s := a.hostPorts()
	for _, p := range append(h, s...) {
		if p != 0 {
			used[p] = true
		}
	}
}

// kubeDeployment is the Kubernetes Deployment that runs app; appJSON is
// the app as stored; values lists the values nodes have for a label (for
// LIKE and UNLIKE constraints).
func kubeDeployment(a *App, appJSON []byte, values func(key string) []string) *appsv1.Deployment {
	name := kubeName(a.ID)
	sel := map[string]string{LabelApp: appLabel(a.ID)}
	podLabels := map[string]string{LabelApp: appLabel(a.ID), managedBy: "marathon"}
	for k, v := range a.Labels {
		if len(validation.IsQualifiedName(k)) == 0 && len(validation.IsValidLabelValue(v)) == 0 && k != LabelApp {
			podLabels[k] = v
		}
	}
	hostPorts, servicePorts := a.hostPorts()
	portsJSON, _ := json.Marshal(hostPorts)
	c := corev1.Container{Name: "task", Image: "mesos/command", ImagePullPolicy: corev1.PullIfNotPresent}
	if a.Container != nil && a.Container.Docker != nil {
		c.Image = a.Container.Docker.Image
		if a.Container.Docker.ForcePullImage {
			c.ImagePullPolicy = corev1.PullAlways
		}
	}
	switch {
	case a.Cmd != nil:
		c.Command = []string{"/bin/sh", "-c", *a.Cmd}
	case len(a.Args) > 0 && (a.Container == nil || a.Container.Docker == nil):
		c.Command = append([]string(nil), a.Args...)
	case len(a.Args) > 0:
		c.Args = append([]string(nil), a.Args...)
	}
	req := corev1.ResourceList{}
	if a.Cpus > 0 {
		req[corev1.ResourceCPU] = *resource.NewMilliQuantity(int64(math.Round(a.Cpus*1000)), resource.DecimalSI)
	}
	if a.Mem > 0 {
		req[corev1.ResourceMemory] = *resource.NewQuantity(int64(a.Mem*(1<<20)), resource.BinarySI)
	}
	if a.Disk > 0 {
		req[corev1.ResourceEphemeralStorage] = *resource.NewQuantity(int64(a.Disk*(1<<20)), resource.BinarySI)
	}
	c.Resources.Requests = req
	// The environment Marathon gives a task, then the app's own.
	env := []corev1.EnvVar{{Name: "MARATHON_APP_ID", Value: a.ID}, {Name: "MARATHON_APP_VERSION", Value: a.configVersion()},
		{Name: "MARATHON_APP_DOCKER_IMAGE", Value: c.Image}, {Name: "MESOS_TASK_ID", Value: taskPrefix(a.ID) + ".instance"},
		{Name: "HOST", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}}}
	env = append(env, portEnv(a, hostPorts)...)
	for k, v := range a.Labels {
		env = append(env, corev1.EnvVar{Name: "MARATHON_APP_LABEL_" + envName(k), Value: v})
	}
	for _, k := range sortedKeys(a.Env) {
		env = append(env, corev1.EnvVar{Name: k, Value: a.Env[k]})
	}
	c.Env = env
	// A task answers on its host ports at its pod IP, and in bridge mode
	// on its container ports too.
	seen := map[int]bool{}
	addPort := func(name string, p int, proto string) {
		if p <= 0 || seen[p] {
			return
		}
		seen[p] = true
		cp := corev1.ContainerPort{Name: name, ContainerPort: int32(p), Protocol: corev1.ProtocolTCP}
		if strings.HasPrefix(proto, "udp") {
			cp.Protocol = corev1.ProtocolUDP
		}
		c.Ports = append(c.Ports, cp)
	}
	if a.usesPortMappings() {
		for i, pm := range a.Container.PortMappings {
			addPort(portName(pm.Name, i), pm.ContainerPort, pm.Protocol)
		}
	}
	for i, p := range hostPorts {
		addPort("host-"+strconv.Itoa(i), p, "tcp")
	}
	if i := probedCheck(a); i >= 0 {
		// One check is the probes; the server runs the others (healthrun.go).
		c.ReadinessProbe, c.LivenessProbe = probes(a, a.HealthChecks[i], hostPorts)
	}
	spec := corev1.PodSpec{Containers: []corev1.Container{c}, RestartPolicy: corev1.RestartPolicyAlways}
	if a.TaskKillGracePeriodSeconds != nil {
		g := int64(*a.TaskKillGracePeriodSeconds)
		spec.TerminationGracePeriodSeconds = &g
	}
	applyConstraints(&spec, a.Constraints, sel, values)
	replicas := int32(a.Instances)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace,
			Labels:      map[string]string{LabelApp: appLabel(a.ID), managedBy: "marathon"},
			Annotations: map[string]string{annotationID: a.ID, annotationApp: string(appJSON)}},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: sel},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels,
					// The server decides when a failed task is launched
					// again (delay.go).
					Annotations: map[string]string{annotationID: a.ID, annotationVersion: a.configVersion(), annotationPorts: string(portsJSON),
						restartgate.Annotation: ""}},
				Spec: spec,
			},
			Strategy: strategy(a.UpgradeStrategy),
		},
	}
	if len(a.HealthChecks) > 1 || serverRuns(a) {
		d.Spec.Template.Annotations[annotationChecks] = strconv.Itoa(len(a.HealthChecks))
	}
	if dynamicPorts(hostPorts) {
		// Each task starts once the server has given it its host ports
		// on the node it was bound to (hostports.go).
		d.Spec.Template.Annotations[restartgate.StartAnnotation] = ""
	}
	_ = servicePorts
	return d
}

// portEnv is the environment Marathon gives a task of its host ports:
// PORT0…PORTn, PORT, PORTS, PORT_<NAME> for named ports and, with port
// mappings, PORT_<containerPort>. Ports given per task are read from the
// annotations the server writes before the task starts.
func portEnv(a *App, hostPorts []int) []corev1.EnvVar {
	if len(hostPorts) == 0 {
		return nil
	}
	dynamic := dynamicPorts(hostPorts)
	value := func(name string, i int) corev1.EnvVar {
		if !dynamic {
			return corev1.EnvVar{Name: name, Value: strconv.Itoa(hostPorts[i])}
		}
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
			FieldPath: "metadata.annotations['" + annotationPort(i) + "']"}}}
	}
	var env []corev1.EnvVar
	for i := range hostPorts {
		env = append(env, value("PORT"+strconv.Itoa(i), i))
	}
	env = append(env, value("PORT", 0))
	if dynamic {
		env = append(env, corev1.EnvVar{Name: "PORTS", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
			FieldPath: "metadata.annotations['" + annotationPortList + "']"}}})
	} else {
		env = append(env, corev1.EnvVar{Name: "PORTS", Value: joinPorts(hostPorts)})
	}
	seen := map[string]bool{}
	names := a.portNames()
	for i := range hostPorts {
		if i < len(names) && names[i] != "" && !seen[envName(names[i])] {
			seen[envName(names[i])] = true
			env = append(env, value("PORT_"+envName(names[i]), i))
		}
		if a.usesPortMappings() && len(hostPorts) == len(a.Container.PortMappings) {
			if cp := a.Container.PortMappings[i].ContainerPort; cp != 0 && !seen[strconv.Itoa(cp)] {
				seen[strconv.Itoa(cp)] = true
				env = append(env, value("PORT_"+strconv.Itoa(cp), i))
			}
		}
	}
	return env
}

// joinPorts is PORTS' value: the ports, comma-separated.
func joinPorts(ports []int) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ",")
}

// configVersion is the version of the app's last change other than a
// scale: the version its tasks carry.
func (a *App) configVersion() string {
	if a.VersionInfo != nil && a.VersionInfo.LastConfigChangeAt != "" {
		return a.VersionInfo.LastConfigChangeAt
	}
	return a.Version
}

var notEnv = regexp.MustCompile(`[^A-Za-z0-9_]`)

func envName(k string) string { return strings.ToUpper(notEnv.ReplaceAllString(k, "_")) }

// portName is a valid IANA service name for a port mapping's name.
func portName(name string, i int) string {
	if name != "" && len(validation.IsValidPortName(name)) == 0 {
		return name
	}
	return "port-" + strconv.Itoa(i)
}

// strategy maps the upgrade strategy onto a rolling update: Kubernetes
// rounds maxUnavailable down and maxSurge up, so at least
// minimumHealthCapacity of the instances stay and at most
// maximumOverCapacity more run.
func strategy(u UpgradeStrategy) appsv1.DeploymentStrategy {
	unavail := int(math.Floor((1 - u.MinimumHealthCapacity) * 100))
	surge := int(math.Floor(u.MaximumOverCapacity * 100))
	if unavail >= 100 && surge == 0 {
		return appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	}
	mu, ms := intstr.FromString(strconv.Itoa(unavail)+"%"), intstr.FromString(strconv.Itoa(surge)+"%")
	if unavail == 0 && surge == 0 {
		ms = intstr.FromInt32(1)
	}
	return appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: &mu, MaxSurge: &ms}}
}

// probes turns a health check into the readiness probe that makes the
// task healthy (one success) or unhealthy (one failure), and the liveness
// probe that kills it after maxConsecutiveFailures failures once its
// gracePeriodSeconds are over (none when maxConsecutiveFailures is 0:
// Marathon then never kills).
func probes(a *App, h HealthCheck, hostPorts []int) (readiness, liveness *corev1.Probe) {
	readiness = probe(a, h, hostPorts)
	readiness.InitialDelaySeconds = int32(h.DelaySeconds)
	if n := h.MaxConsecutiveFailures; n == nil || *n > 0 {
		liveness = probe(a, h, hostPorts)
		liveness.InitialDelaySeconds = int32(h.GracePeriodSeconds)
		liveness.FailureThreshold = 3
		if n != nil {
			liveness.FailureThreshold = int32(*n)
		}
	}
	return readiness, liveness
}

// probe turns a health check into a probe that fails once.
func probe(a *App, h HealthCheck, hostPorts []int) *corev1.Probe {
	p := &corev1.Probe{PeriodSeconds: int32(h.IntervalSeconds), TimeoutSeconds: int32(h.TimeoutSeconds),
		SuccessThreshold: 1, FailureThreshold: 1}
	port := 0
	if h.Port != nil {
		port = *h.Port
	} else if h.PortIndex != nil && *h.PortIndex < len(hostPorts) {
		port = hostPorts[*h.PortIndex]
		if a.usesPortMappings() {
			port = a.Container.PortMappings[*h.PortIndex].ContainerPort
		}
	}
	switch h.Protocol {
	case "COMMAND":
		cmd := ""
		if h.Command != nil {
			cmd = h.Command.Value
		}
		p.Exec = &corev1.ExecAction{Command: []string{"/bin/sh", "-c", cmd}}
	case "TCP", "MESOS_TCP":
		p.TCPSocket = &corev1.TCPSocketAction{Port: intstr.FromInt(port)}
	default:
		scheme := corev1.URISchemeHTTP
		if strings.HasSuffix(h.Protocol, "HTTPS") {
			scheme = corev1.URISchemeHTTPS
		}
		p.HTTPGet = &corev1.HTTPGetAction{Path: h.Path, Port: intstr.FromInt(port), Scheme: scheme}
	}
	return p
}

// applyConstraints turns Marathon's constraints into scheduling rules.
// A field is a node label (Mesos attributes were), "hostname" the node's
// hostname label:
//
//   - CLUSTER (and IS): a node selector;
//   - LIKE and UNLIKE: required node affinity, In or NotIn the field's
//     values that the pattern matches: the alternatives of a plain
//     "a|b", else the values nodes hold now (values), so a node added
//     later with a matching value is not chosen until the app changes;
//   - UNIQUE and MAX_PER 1: pod anti-affinity by the field;
//   - GROUP_BY: topology spread by the field, skew 1, never broken; its
//     number becomes minDomains;
//   - MAX_PER n > 1: topology spread by the field with skew n, which
//     Kubernetes can say where "at most n per value" it cannot: it holds
//     while some value has no task, and allows more than n per value
//     once every value has tasks.
func applyConstraints(spec *corev1.PodSpec, cs [][]string, sel map[string]string, values func(key string) []string) {
	key := func(field string) string {
		if field == "hostname" {
			return corev1.LabelHostname
		}
		return field
	}
	affinity := func() *corev1.Affinity {
		if spec.Affinity == nil {
			spec.Affinity = &corev1.Affinity{}
		}
		return spec.Affinity
	}
	antiAffinity := func(k string) {
		a := affinity()
		if a.PodAntiAffinity == nil {
			a.PodAntiAffinity = &corev1.PodAntiAffinity{}
		}
		a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution = append(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution,
			corev1.PodAffinityTerm{LabelSelector: &metav1.LabelSelector{MatchLabels: sel}, TopologyKey: k})
	}
	spread := func(k string, skew int32, minDomains *int32) {
		spec.TopologySpreadConstraints = append(spec.TopologySpreadConstraints, corev1.TopologySpreadConstraint{
			MaxSkew: skew, TopologyKey: k, WhenUnsatisfiable: corev1.DoNotSchedule, MinDomains: minDomains,
			LabelSelector: &metav1.LabelSelector{MatchLabels: sel}})
	}
	var terms []corev1.NodeSelectorRequirement
	for _, c := range cs {
		if checkConstraint(c) != "" {
			continue
		}
		k := key(c[0])
		switch c[1] {
		case "CLUSTER", "IS":
			if spec.NodeSelector == nil {
				spec.NodeSelector = map[string]string{}
			}
			spec.NodeSelector[k] = c[2]
		case "LIKE", "UNLIKE":
			vals, ok := literalAlternatives(c[2])
			if !ok {
				vals = nil
				re, _ := constraintPattern(c[2])
				for _, v := range values(k) {
					if re.MatchString(v) {
						vals = append(vals, v)
					}
				}
			}
			switch {
			case len(vals) > 0 && c[1] == "LIKE":
				terms = append(terms, corev1.NodeSelectorRequirement{Key: k, Operator: corev1.NodeSelectorOpIn, Values: vals})
			case len(vals) > 0:
				terms = append(terms, corev1.NodeSelectorRequirement{Key: k, Operator: corev1.NodeSelectorOpNotIn, Values: vals})
			case c[1] == "LIKE":
				// No node matches: a rule no node meets, as Marathon
				// would decline every offer.
				terms = append(terms, corev1.NodeSelectorRequirement{Key: k, Operator: corev1.NodeSelectorOpExists},
					corev1.NodeSelectorRequirement{Key: k, Operator: corev1.NodeSelectorOpDoesNotExist})
			}
		case "UNIQUE":
			antiAffinity(k)
		case "GROUP_BY":
			var minDomains *int32
			if len(c) == 3 {
				if n, _ := strconv.Atoi(c[2]); n > 1 {
					m := int32(n)
					minDomains = &m
				}
			}
			spread(k, 1, minDomains)
		case "MAX_PER":
			n := 0
			if len(c) == 3 {
				n, _ = strconv.Atoi(c[2])
			}
			switch {
			case n == 1:
				antiAffinity(k)
			case n > 1:
				spread(k, int32(n), nil)
			}
		}
	}
	if len(terms) > 0 {
		affinity().NodeAffinity = &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: terms}}}}
	}
}

// literalAlternatives reads a LIKE pattern that is plain words joined by
// "|" ("a|b"), which Kubernetes' set operators can say.
func literalAlternatives(re string) ([]string, bool) {
	vals := strings.Split(re, "|")
	for _, v := range vals {
		if v == "" || regexp.QuoteMeta(v) != v {
			return nil, false
		}
	}
	return vals, true
}
