package compose

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"
)

// The labels and annotations every object of a project carries, named as
// docker compose names its container labels.
const (
	LabelProject = "com.docker.compose.project"
	LabelService = "com.docker.compose.service"
	// AnnotationConfigHash is the hash of a service's pod template: up
	// changes a workload only when it differs.
	AnnotationConfigHash = "com.docker.compose.config-hash"
	// AnnotationPublished marks the Service that publishes a compose
	// service's ports on the host.
	labelRole = "com.docker.compose.stratus-role"
)

// Objects are what a project becomes on Kubernetes, in creation order.
type Objects struct {
	Namespace  *corev1.Namespace
	ConfigMaps []*corev1.ConfigMap
	Secrets    []*corev1.Secret
	Services   []*corev1.Service
	// Claims are the named volumes (with ConvertOptions.Claims).
	Claims []*corev1.PersistentVolumeClaim
	// Workloads are in start order: a service after what it depends on.
	Workloads []*Workload
}

// Workload is one compose service: a Deployment, or for a one-off service
// (restart "no" or on-failure) a Job running each replica once.
type Workload struct {
	Service    string // the compose service name
	Name       string // its Kubernetes name
	Deployment *appsv1.Deployment
	Job        *batchv1.Job
	DependsOn  types.DependsOnConfig
}

// Template is the workload's pod template.
func (w *Workload) Template() *corev1.PodTemplateSpec {
	if w.Deployment != nil {
		return &w.Deployment.Spec.Template
	}
	return &w.Job.Spec.Template
}

// Replicas is how many containers the service runs (or, one-off, runs
// to completion).
func (w *Workload) Replicas() int {
	if w.Deployment != nil {
		return int(*w.Deployment.Spec.Replicas)
	}
	return int(*w.Job.Spec.Completions)
}

// ConvertOptions tune Convert.
type ConvertOptions struct {
	// Scale overrides services' replicas (up --scale SVC=N).
	Scale map[string]int
	// PublishAddress is where published ports answer when a port names no
	// host_ip (default 127.0.0.1: stratus listens on loopback).
	PublishAddress string
	// Claims: the cluster has a default StorageClass (Client.
	// HasDefaultStorageClass), so named volumes become
	// PersistentVolumeClaims; without it they are pod volumes.
	Claims bool
}

// ClaimSize is what a named volume's PersistentVolumeClaim requests:
// compose volumes name no size.
var ClaimSize = resource.MustParse("1Gi")

// LabelVolume names the compose volume a PersistentVolumeClaim is.
const LabelVolume = "com.docker.compose.volume"

// Namespace returns the Kubernetes namespace of a compose project.
func Namespace(project string) (string, error) {
	ns := strings.ReplaceAll(project, "_", "-")
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return "", fmt.Errorf("project name %q cannot name a namespace: %s", project, strings.Join(errs, "; "))
	}
	return ns, nil
}

// dnsName is a compose name (service, volume, config) as a Kubernetes
// object name: lower case, "_" and "." as "-".
func dnsName(name string) (string, error) {
	n := strings.NewReplacer("_", "-", ".", "-").Replace(strings.ToLower(name))
	if errs := validation.IsDNS1123Label(n); len(errs) > 0 {
		return "", fmt.Errorf("name %q cannot name a Kubernetes object: %s", name, strings.Join(errs, "; "))
	}
	return n, nil
}

// parseUser reads "uid[:gid]"; names need the image's /etc/passwd,
// which the API does not see.
func parseUser(u string) (uid int64, gid *int64, err error) {
	us, gs, hasG := strings.Cut(u, ":")
	uid, err = strconv.ParseInt(us, 10, 64)
	if err != nil || uid < 0 {
		return 0, nil, fmt.Errorf("user %q: only a numeric uid[:gid] is %w (a name needs the image's /etc/passwd)", u, errors.Join(ErrUnsupported))
	}
	if hasG {
		g, err := strconv.ParseInt(gs, 10, 64)
		if err != nil || g < 0 {
			return 0, nil, fmt.Errorf("user %q: only a numeric gid is %w", u, errors.Join(ErrUnsupported))
		}
		gid = &g
	}
	return uid, gid, nil
}

// restartPolicy maps restart: (and deploy.restart_policy) onto a pod's.
func restartPolicy(s types.ServiceConfig) corev1.RestartPolicy {
	r := s.Restart
	if s.Deploy != nil && s.Deploy.RestartPolicy != nil {
		switch s.Deploy.RestartPolicy.Condition {
		case "none":
			r = types.RestartPolicyNo
		case "on-failure":
			r = types.RestartPolicyOnFailure
		case "any":
			r = types.RestartPolicyAlways
		}
	}
	switch {
	case r == types.RestartPolicyNo:
		return corev1.RestartPolicyNever
	case strings.HasPrefix(r, types.RestartPolicyOnFailure):
		return corev1.RestartPolicyOnFailure
	}
	return corev1.RestartPolicyAlways
}

func checkRestart(s types.ServiceConfig) error {
	switch r := s.Restart; {
	case r == "", r == types.RestartPolicyAlways, r == types.RestartPolicyNo, r == types.RestartPolicyUnlessStopped,
		r == types.RestartPolicyOnFailure, strings.HasPrefix(r, types.RestartPolicyOnFailure+":"):
		return nil
	default:
		return fmt.Errorf("unknown restart policy %q: want no, always, on-failure[:N] or unless-stopped", r)
	}
}

// Convert maps a loaded project onto Kubernetes objects. It reads the
// files configs and secrets name; it creates nothing.
func Convert(p *types.Project, o ConvertOptions) (*Objects, error) {
	if o.PublishAddress == "" {
		o.PublishAddress = "127.0.0.1"
	}
	ns, err := Namespace(p.Name)
	if err != nil {
		return nil, err
	}
	c := &converter{p: p, o: o, ns: ns, objs: &Objects{}, svcNames: map[string]string{}}
	c.objs.Namespace = &corev1.Namespace{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{LabelProject: p.Name}},
	}
	if err := c.files(); err != nil {
		return nil, err
	}
	order, err := startOrder(p)
	if err != nil {
		return nil, err
	}
	for _, name := range order {
		if err := c.service(name, p.Services[name]); err != nil {
			return nil, err
		}
	}
	sort.Slice(c.objs.Services, func(i, j int) bool { return c.objs.Services[i].Name < c.objs.Services[j].Name })
	return c.objs, nil
}

type converter struct {
	p    *types.Project
	o    ConvertOptions
	ns   string
	objs *Objects
	// svcNames: Kubernetes Service name → the compose service it selects.
	svcNames map[string]string
}

func (c *converter) meta(name, service string) metav1.ObjectMeta {
	m := metav1.ObjectMeta{Name: name, Namespace: c.ns, Labels: map[string]string{LabelProject: c.p.Name}}
	if service != "" {
		m.Labels[LabelService] = service
	}
	return m
}

// files makes a ConfigMap per config and a Secret per secret of the
// project (external ones must exist already and are only referenced).
func (c *converter) files() error {
	read := func(kind, name string, f types.FileObjectConfig) ([]byte, error) {
		switch {
		case f.Content != "":
			return []byte(f.Content), nil
		case f.Environment != "":
			v, ok := c.p.Environment[f.Environment]
			if !ok {
				return nil, fmt.Errorf("%s %q: environment variable %q is not set", kind, name, f.Environment)
			}
			return []byte(v), nil
		case f.File != "":
			b, err := os.ReadFile(f.File)
			if err != nil {
				return nil, fmt.Errorf("%s %q: %w", kind, name, err)
			}
			return b, nil
		}
		return nil, fmt.Errorf("%s %q: no file, content or environment", kind, name)
	}
	for _, name := range sortedKeys(c.p.Configs) {
		f := types.FileObjectConfig(c.p.Configs[name])
		if f.External {
			continue
		}
		b, err := read("config", name, f)
		if err != nil {
			return err
		}
		kn, err := dnsName(name)
		if err != nil {
			return fmt.Errorf("config %q: %w", name, err)
		}
		cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: c.meta(kn, "")}
		cm.BinaryData = map[string][]byte{"content": b}
		c.objs.ConfigMaps = append(c.objs.ConfigMaps, cm)
	}
	for _, name := range sortedKeys(c.p.Secrets) {
		f := types.FileObjectConfig(c.p.Secrets[name])
		if f.External {
			continue
		}
		b, err := read("secret", name, f)
		if err != nil {
			return err
		}
		kn, err := dnsName(name)
		if err != nil {
			return fmt.Errorf("secret %q: %w", name, err)
		}
		s := &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: c.meta(kn, ""), Type: corev1.SecretTypeOpaque}
		s.Data = map[string][]byte{"content": b}
		c.objs.Secrets = append(c.objs.Secrets, s)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// startOrder sorts the services so each comes after what it depends on
// (depends_on, links, volumes_from), names breaking ties.
func startOrder(p *types.Project) ([]string, error) {
	deps := map[string][]string{}
	for _, name := range p.ServiceNames() {
		s := p.Services[name]
		for d := range s.DependsOn {
			deps[name] = append(deps[name], d)
		}
		for _, l := range s.Links {
			deps[name] = append(deps[name], strings.SplitN(l, ":", 2)[0])
		}
		for _, vf := range s.VolumesFrom {
			deps[name] = append(deps[name], strings.TrimPrefix(strings.SplitN(vf, ":", 2)[0], "service:"))
		}
		sort.Strings(deps[name])
	}
	var order []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(n string, stack []string) error
	visit = func(n string, stack []string) error {
		switch state[n] {
		case 1:
			return fmt.Errorf("dependency cycle: %s", strings.Join(append(stack, n), " -> "))
		case 2:
			return nil
		}
		state[n] = 1
		for _, d := range deps[n] {
			if _, ok := p.Services[d]; !ok {
				continue // compose-go reports missing required ones
			}
			if err := visit(d, append(stack, n)); err != nil {
				return err
			}
		}
		state[n] = 2
		order = append(order, n)
		return nil
	}
	for _, name := range p.ServiceNames() {
		if err := visit(name, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// service converts one compose service.
func (c *converter) service(name string, s types.ServiceConfig) error {
	kn, err := dnsName(name)
	if err != nil {
		return fmt.Errorf("service %q: %w", name, err)
	}
	fail := func(key string, err error) error { return &Error{Service: name, Key: key, Err: err} }
	ctr := corev1.Container{
		Name:       kn,
		Image:      s.Image,
		Command:    []string(s.Entrypoint),
		Args:       []string(s.Command),
		WorkingDir: s.WorkingDir,
		Stdin:      s.StdinOpen,
		TTY:        s.Tty,
	}
	if s.PullPolicy == types.PullPolicyAlways {
		ctr.ImagePullPolicy = corev1.PullAlways
	}
	for _, k := range sortedKeys(s.Environment) {
		if v := s.Environment[k]; v != nil {
			ctr.Env = append(ctr.Env, corev1.EnvVar{Name: k, Value: *v})
		}
	}
	// Ports: every target port is a container port; expose adds more.
	var internal []corev1.ServicePort
	var published []corev1.ServicePort
	publishIP := ""
	seen := map[string]bool{}
	addInternal := func(port int32, proto corev1.Protocol) {
		key := fmt.Sprintf("%d/%s", port, proto)
		if seen[key] {
			return
		}
		seen[key] = true
		ctr.Ports = append(ctr.Ports, corev1.ContainerPort{ContainerPort: port, Protocol: proto})
		internal = append(internal, corev1.ServicePort{Name: strings.ToLower(fmt.Sprintf("%s-%d", proto, port)), Port: port, TargetPort: intstr.FromInt32(port), Protocol: proto})
	}
	for _, pt := range s.Ports {
		proto := protocol(pt.Protocol)
		addInternal(int32(pt.Target), proto)
		if pt.Published == "" {
			continue
		}
		pub, err := strconv.ParseUint(pt.Published, 10, 16)
		if err != nil || pub == 0 {
			return fail("ports", fmt.Errorf("published port %q: want a port number", pt.Published))
		}
		ip := pt.HostIP
		if ip == "" || ip == "0.0.0.0" || ip == "::" {
			ip = c.o.PublishAddress
		}
		if publishIP != "" && ip != publishIP {
			return fail("ports", fmt.Errorf("ports published on two host addresses (%s, %s) are %w", publishIP, ip, ErrUnsupported))
		}
		publishIP = ip
		published = append(published, corev1.ServicePort{Name: strings.ToLower(fmt.Sprintf("%s-%d", proto, pub)), Port: int32(pub), TargetPort: intstr.FromInt32(int32(pt.Target)), Protocol: proto})
	}
	for _, e := range s.Expose {
		portS, proto, _ := strings.Cut(e, "/")
		lo, hi, isRange := strings.Cut(portS, "-")
		a, err1 := strconv.ParseUint(lo, 10, 16)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.ParseUint(hi, 10, 16)
		}
		if err1 != nil || err2 != nil || b < a {
			return fail("expose", fmt.Errorf("%q: want PORT[-PORT][/PROTOCOL]", e))
		}
		for p := a; p <= b; p++ {
			addInternal(int32(p), protocol(proto))
		}
	}
	// Resources.
	res, err := resources(s)
	if err != nil {
		return fail("deploy.resources", err)
	}
	ctr.Resources = res
	// Security.
	sc := &corev1.SecurityContext{}
	if s.Privileged {
		sc.Privileged = ptr.To(true)
	}
	if s.ReadOnly {
		sc.ReadOnlyRootFilesystem = ptr.To(true)
	}
	if len(s.CapAdd) > 0 || len(s.CapDrop) > 0 {
		sc.Capabilities = &corev1.Capabilities{}
		for _, cp := range s.CapAdd {
			sc.Capabilities.Add = append(sc.Capabilities.Add, corev1.Capability(strings.TrimPrefix(strings.ToUpper(cp), "CAP_")))
		}
		for _, cp := range s.CapDrop {
			sc.Capabilities.Drop = append(sc.Capabilities.Drop, corev1.Capability(strings.TrimPrefix(strings.ToUpper(cp), "CAP_")))
		}
	}
	if s.User != "" {
		uid, gid, err := parseUser(s.User)
		if err != nil {
			return fail("user", err)
		}
		sc.RunAsUser, sc.RunAsGroup = &uid, gid
	}
	if (*sc != corev1.SecurityContext{}) {
		ctr.SecurityContext = sc
	}
	ctr.ReadinessProbe = probe(s.HealthCheck)

	pod := corev1.PodSpec{RestartPolicy: restartPolicy(s), HostNetwork: s.NetworkMode == "host"}
	if s.Hostname != "" && len(validation.IsDNS1123Label(s.Hostname)) == 0 {
		pod.Hostname = s.Hostname
	}
	if s.StopGracePeriod != nil {
		g := int64(math.Ceil(time.Duration(*s.StopGracePeriod).Seconds()))
		pod.TerminationGracePeriodSeconds = &g
	}
	for _, host := range sortedKeys(s.ExtraHosts) {
		for _, ip := range s.ExtraHosts[host] {
			pod.HostAliases = append(pod.HostAliases, corev1.HostAlias{IP: ip, Hostnames: []string{host}})
		}
	}
	if err := c.volumes(name, s, &pod, &ctr); err != nil {
		return err
	}
	pod.Containers = []corev1.Container{ctr}

	// Names: the service's own, its link aliases and network aliases.
	if err := c.names(name, kn, s, internal, published, publishIP); err != nil {
		return err
	}

	labels := map[string]string{LabelProject: c.p.Name, LabelService: name}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: pod}
	if len(s.Labels) > 0 {
		tmpl.Annotations = map[string]string(s.Labels)
	}
	replicas := s.GetScale()
	if n, ok := c.o.Scale[name]; ok {
		replicas = n
	}
	w := &Workload{Service: name, Name: kn, DependsOn: s.DependsOn}
	if pod.RestartPolicy == corev1.RestartPolicyAlways {
		r := int32(replicas)
		d := &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: c.meta(kn, name)}
		if s.Deploy != nil && len(s.Deploy.Labels) > 0 {
			d.Annotations = map[string]string(s.Deploy.Labels)
		}
		d.Spec = appsv1.DeploymentSpec{Replicas: &r, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{LabelProject: c.p.Name, LabelService: name}}, Template: tmpl}
		w.Deployment = d
	} else {
		if replicas < 1 {
			return fail("scale", fmt.Errorf("a one-off service needs at least one replica"))
		}
		// A one-off service runs each replica once: restart "no" never
		// again, on-failure[:N] up to N more times (compose's default
		// for on-failure is unlimited; the Job's is 6).
		n := int32(replicas)
		backoff := int32(0)
		if tmpl.Spec.RestartPolicy == corev1.RestartPolicyOnFailure {
			backoff = 6
			if _, max, ok := strings.Cut(s.Restart, ":"); ok {
				if v, err := strconv.ParseInt(max, 10, 32); err == nil && v >= 0 {
					backoff = int32(v)
				}
			}
		}
		j := &batchv1.Job{TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"}, ObjectMeta: c.meta(kn, name)}
		j.Spec = batchv1.JobSpec{Parallelism: &n, Completions: &n, BackoffLimit: &backoff, Template: tmpl}
		w.Job = j
	}
	c.objs.Workloads = append(c.objs.Workloads, w)
	return nil
}

func protocol(p string) corev1.Protocol {
	switch strings.ToLower(p) {
	case "udp":
		return corev1.ProtocolUDP
	case "sctp":
		return corev1.ProtocolSCTP
	}
	return corev1.ProtocolTCP
}

// resources maps deploy.resources (and mem_limit, cpus) onto requests
// and limits.
func resources(s types.ServiceConfig) (corev1.ResourceRequirements, error) {
	var rr corev1.ResourceRequirements
	set := func(l *corev1.ResourceList, cpus float64, mem int64) {
		if cpus > 0 {
			if *l == nil {
				*l = corev1.ResourceList{}
			}
			(*l)[corev1.ResourceCPU] = *resource.NewMilliQuantity(int64(math.Round(cpus*1000)), resource.DecimalSI)
		}
		if mem > 0 {
			if *l == nil {
				*l = corev1.ResourceList{}
			}
			(*l)[corev1.ResourceMemory] = *resource.NewQuantity(mem, resource.BinarySI)
		}
	}
	set(&rr.Limits, float64(s.CPUS), int64(s.MemLimit))
	set(&rr.Requests, 0, int64(s.MemReservation))
	if s.Deploy != nil {
		if l := s.Deploy.Resources.Limits; l != nil {
			set(&rr.Limits, float64(l.NanoCPUs), int64(l.MemoryBytes))
		}
		if r := s.Deploy.Resources.Reservations; r != nil {
			set(&rr.Requests, float64(r.NanoCPUs), int64(r.MemoryBytes))
		}
	}
	for k, q := range rr.Requests {
		if l, ok := rr.Limits[k]; ok && q.Cmp(l) > 0 {
			return rr, fmt.Errorf("the reservation of %s (%s) exceeds its limit (%s)", k, q.String(), l.String())
		}
	}
	return rr, nil
}

// probe maps a healthcheck onto a readiness probe: the same test, run
// every interval, ready at its first success, unready after retries
// failures in a row (compose's defaults: 30 s, 30 s timeout, 3 retries).
func probe(h *types.HealthCheckConfig) *corev1.Probe {
	if h == nil || h.Disable || len(h.Test) == 0 || h.Test[0] == "NONE" {
		return nil
	}
	var cmd []string
	switch h.Test[0] {
	case "CMD":
		cmd = h.Test[1:]
	case "CMD-SHELL":
		cmd = []string{"/bin/sh", "-c", strings.Join(h.Test[1:], " ")}
	default:
		cmd = []string{"/bin/sh", "-c", strings.Join(h.Test, " ")}
	}
	secs := func(d *types.Duration, def int32) int32 {
		if d == nil {
			return def
		}
		s := int32(math.Ceil(time.Duration(*d).Seconds()))
		if s < 1 {
			s = 1
		}
		return s
	}
	p := &corev1.Probe{
		ProbeHandler:     corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: cmd}},
		PeriodSeconds:    secs(h.Interval, 30),
		TimeoutSeconds:   secs(h.Timeout, 30),
		FailureThreshold: 3,
		SuccessThreshold: 1,
	}
	if h.Retries != nil && *h.Retries > 0 {
		p.FailureThreshold = int32(*h.Retries)
	}
	// start_period needs no field: failures in it do not count, and a
	// success in it makes the container healthy at once; a readiness
	// probe starts unready, so failures before its first success count
	// for nothing either. Delaying the first probe by it (initialDelay)
	// would hold back a service that is healthy sooner.
	return p
}

// volumes adds the service's volumes, tmpfs, configs, secrets and those of
// volumes_from.
func (c *converter) volumes(name string, s types.ServiceConfig, pod *corev1.PodSpec, ctr *corev1.Container) error {
	have := map[string]bool{}
	addVol := func(v corev1.Volume) {
		if !have[v.Name] {
			have[v.Name] = true
			pod.Volumes = append(pod.Volumes, v)
		}
	}
	mount := func(vol, target string, ro bool, sub string) {
		ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: vol, MountPath: target, ReadOnly: ro, SubPath: sub})
	}
	vols := append([]types.ServiceVolumeConfig(nil), s.Volumes...)
	for _, vf := range s.VolumesFrom {
		from, mode, _ := strings.Cut(strings.TrimPrefix(vf, "service:"), ":")
		for _, v := range c.p.Services[from].Volumes {
			if mode == "ro" {
				v.ReadOnly = true
			}
			vols = append(vols, v)
		}
	}
	for i, v := range vols {
		switch v.Type {
		case types.VolumeTypeBind:
			vn := fmt.Sprintf("bind-%d", i)
			addVol(corev1.Volume{Name: vn, VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: v.Source}}})
			mount(vn, v.Target, v.ReadOnly, "")
		case types.VolumeTypeVolume:
			// A named volume is a PersistentVolumeClaim where the
			// cluster has a default StorageClass, else a pod volume; an
			// anonymous one lives as long as the pod.
			vn := fmt.Sprintf("anon-%d", i)
			vs := corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}
			if v.Source != "" {
				n, err := dnsName(v.Source)
				if err != nil {
					return &Error{Service: name, Key: "volumes", Err: err}
				}
				vn = "vol-" + n
				if c.o.Claims {
					claim, err := c.claim(v.Source, n)
					if err != nil {
						return &Error{Service: name, Key: "volumes", Err: err}
					}
					vs = corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}
				}
			}
			addVol(corev1.Volume{Name: vn, VolumeSource: vs})
			mount(vn, v.Target, v.ReadOnly, "")
		case types.VolumeTypeTmpfs:
			vn := fmt.Sprintf("tmpfs-%d", i)
			ed := &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}
			if v.Tmpfs != nil && v.Tmpfs.Size > 0 {
				ed.SizeLimit = resource.NewQuantity(int64(v.Tmpfs.Size), resource.BinarySI)
			}
			addVol(corev1.Volume{Name: vn, VolumeSource: corev1.VolumeSource{EmptyDir: ed}})
			mount(vn, v.Target, v.ReadOnly, "")
		default:
			return &Error{Service: name, Key: "volumes", Err: fmt.Errorf("volume type %q is %w", v.Type, ErrUnsupported)}
		}
	}
	for i, t := range s.Tmpfs {
		target, _, _ := strings.Cut(t, ":")
		vn := fmt.Sprintf("tmpfs-t%d", i)
		addVol(corev1.Volume{Name: vn, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}})
		mount(vn, target, false, "")
	}
	fileVol := func(kind, src, target string, mode *types.FileMode, external bool) error {
		kn, err := dnsName(src)
		if err != nil {
			return &Error{Service: name, Key: kind, Err: err}
		}
		key := "content"
		if external {
			key = "" // an external object's keys are its own: mount all
		}
		var m *int32
		if mode != nil {
			m = ptr.To(int32(*mode))
		}
		vn := kind + "-" + kn
		var vs corev1.VolumeSource
		var items []corev1.KeyToPath
		if key != "" {
			items = []corev1.KeyToPath{{Key: key, Path: path.Base(target), Mode: m}}
		}
		if kind == "config" {
			vs.ConfigMap = &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: kn}, Items: items}
		} else {
			vs.Secret = &corev1.SecretVolumeSource{SecretName: kn, Items: items}
		}
		addVol(corev1.Volume{Name: vn, VolumeSource: vs})
		if key != "" {
			mount(vn, target, true, path.Base(target))
		} else {
			mount(vn, target, true, "")
		}
		return nil
	}
	for _, f := range s.Configs {
		target := f.Target
		if target == "" {
			target = "/" + f.Source
		}
		if err := fileVol("config", f.Source, target, f.Mode, bool(c.p.Configs[f.Source].External)); err != nil {
			return err
		}
	}
	for _, f := range s.Secrets {
		target := f.Target
		if target == "" {
			target = "/run/secrets/" + f.Source
		} else if !path.IsAbs(target) {
			target = "/run/secrets/" + target
		}
		if err := fileVol("secret", f.Source, target, f.Mode, bool(c.p.Secrets[f.Source].External)); err != nil {
			return err
		}
	}
	return nil
}

// claim returns the PersistentVolumeClaim of named volume src (kn as a
// Kubernetes name), adding it to the objects the first time; an external
// volume's claim must exist already, under the volume's name.
func (c *converter) claim(src, kn string) (string, error) {
	if vc, ok := c.p.Volumes[src]; ok && bool(vc.External) {
		name := vc.Name
		if name == "" {
			name = src
		}
		return dnsName(name)
	}
	for _, pvc := range c.objs.Claims {
		if pvc.Name == kn {
			return kn, nil
		}
	}
	pvc := &corev1.PersistentVolumeClaim{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"}, ObjectMeta: c.meta(kn, "")}
	pvc.Labels[LabelVolume] = src
	pvc.Spec = corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: ClaimSize}},
	}
	c.objs.Claims = append(c.objs.Claims, pvc)
	return kn, nil
}

// names adds the Services that make a compose service reachable by name:
// its own (ClusterIP with its target and exposed ports, or headless when
// it has none), one per link alias and network alias, and, for published
// ports, "<name>-published", which answers on the host address at the
// published port (the service proxy serves a Service's externalIPs).
func (c *converter) names(name, kn string, s types.ServiceConfig, internal, published []corev1.ServicePort, publishIP string) error {
	selector := map[string]string{LabelProject: c.p.Name, LabelService: name}
	add := func(svcName, key string, ports []corev1.ServicePort, external []string, role string) error {
		if other, ok := c.svcNames[svcName]; ok {
			if other == name {
				return nil
			}
			return &Error{Service: name, Key: key, Err: fmt.Errorf("name %q already names service %q", svcName, other)}
		}
		c.svcNames[svcName] = name
		svc := &corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}, ObjectMeta: c.meta(svcName, name)}
		svc.Labels[labelRole] = role
		svc.Spec = corev1.ServiceSpec{Selector: selector, Ports: ports, ExternalIPs: external, Type: corev1.ServiceTypeClusterIP}
		if len(ports) == 0 {
			svc.Spec.ClusterIP = corev1.ClusterIPNone
		}
		c.objs.Services = append(c.objs.Services, svc)
		return nil
	}
	if err := add(kn, "", internal, nil, "name"); err != nil {
		return err
	}
	if len(published) > 0 {
		if err := add(kn+"-published", "ports", published, []string{publishIP}, "published"); err != nil {
			return err
		}
	}
	// Aliases: links name them from the linking service's side.
	for _, other := range c.p.ServiceNames() {
		for _, l := range c.p.Services[other].Links {
			target, alias, ok := strings.Cut(l, ":")
			if !ok || target != name || alias == name {
				continue
			}
			an, err := dnsName(alias)
			if err != nil {
				return &Error{Service: other, Key: "links", Err: err}
			}
			if err := add(an, "links", internal, nil, "alias"); err != nil {
				return &Error{Service: other, Key: "links", Err: err}
			}
		}
	}
	for _, net := range sortedKeys(s.Networks) {
		if s.Networks[net] == nil {
			continue
		}
		for _, alias := range s.Networks[net].Aliases {
			an, err := dnsName(alias)
			if err != nil {
				return &Error{Service: name, Key: "networks." + net + ".aliases", Err: err}
			}
			if err := add(an, "networks."+net+".aliases", internal, nil, "alias"); err != nil {
				return err
			}
		}
	}
	return nil
}

// hash is the config hash of a pod template.
func hash(t *corev1.PodTemplateSpec) string {
	b, _ := json.Marshal(t)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
