package compose

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

func load(t *testing.T, env []string, files ...string) *Objects {
	t.Helper()
	p, err := Load(context.Background(), LoadOptions{Files: files, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Convert(p, ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func workload(t *testing.T, objs *Objects, svc string) *Workload {
	t.Helper()
	for _, w := range objs.Workloads {
		if w.Service == svc {
			return w
		}
	}
	t.Fatalf("no workload for service %q", svc)
	return nil
}

func service(objs *Objects, name string) *corev1.Service {
	for _, s := range objs.Services {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func env(c corev1.Container) map[string]string {
	m := map[string]string{}
	for _, e := range c.Env {
		m[e.Name] = e.Value
	}
	return m
}

func TestConvertMesos(t *testing.T) {
	objs := load(t, []string{"MARATHON_PORT=18080"}, "testdata/mesos/docker-compose.yml")
	if objs.Namespace.Name != "mesos" || objs.Namespace.Labels[LabelProject] != "mesos" {
		t.Fatalf("namespace %+v, want mesos named after the folder", objs.Namespace.ObjectMeta)
	}
	var order []string
	for _, w := range objs.Workloads {
		order = append(order, w.Service)
		if w.Deployment == nil {
			t.Errorf("%s: not a Deployment", w.Service)
			continue
		}
		for _, m := range []map[string]string{w.Deployment.Labels, w.Deployment.Spec.Template.Labels} {
			if m[LabelProject] != "mesos" || m[LabelService] != w.Service {
				t.Errorf("%s: labels %v lack compose's", w.Service, m)
			}
		}
	}
	// Links order start-up: zookeeper first, master before marathon and slave.
	if want := []string{"zookeeper", "master", "marathon", "slave"}; !reflect.DeepEqual(order, want) {
		t.Errorf("start order %v, want %v", order, want)
	}
	master := workload(t, objs, "master").Deployment.Spec.Template.Spec.Containers[0]
	if e := env(master); e["MESOS_ZK"] != "zk://zk:2181/mesos" || e["MESOS_QUORUM"] != "1" {
		t.Errorf("master env %v", e)
	}
	marathon := workload(t, objs, "marathon").Deployment.Spec.Template.Spec.Containers[0]
	if want := []string{"--master", "zk://zk:2181/mesos", "--zk", "zk://zk:2181/marathon"}; !reflect.DeepEqual(marathon.Args, want) || marathon.Command != nil {
		t.Errorf("marathon command %q args %q, want args %q", marathon.Command, marathon.Args, want)
	}
	slave := workload(t, objs, "slave").Deployment.Spec.Template.Spec
	if c := slave.Containers[0]; !reflect.DeepEqual(c.Command, []string{"mesos-slave"}) || c.Args != nil {
		t.Errorf("slave entrypoint → command %q args %q", c.Command, c.Args)
	}
	if e := env(slave.Containers[0]); e["MESOS_CONTAINERIZERS"] != "docker,mesos" {
		t.Errorf("slave env (list form) %v", e)
	}
	if len(slave.Volumes) != 2 || slave.Volumes[0].HostPath == nil || slave.Volumes[0].HostPath.Path != "/var/run/docker.sock" {
		t.Errorf("slave volumes %+v, want the docker socket as hostPath", slave.Volumes)
	}
	// The link alias zk is a Service selecting zookeeper, with its port.
	zk := service(objs, "zk")
	if zk == nil || zk.Spec.Selector[LabelService] != "zookeeper" || len(zk.Spec.Ports) != 1 || zk.Spec.Ports[0].Port != 2181 {
		t.Fatalf("alias service zk: %+v", zk)
	}
	if s := service(objs, "master"); s == nil || s.Spec.Ports[0].Port != 5050 {
		t.Errorf("service master: %+v", s)
	}
	pub := service(objs, "marathon-published")
	if pub == nil || !reflect.DeepEqual(pub.Spec.ExternalIPs, []string{"127.0.0.1"}) || pub.Spec.Ports[0].Port != 18080 || pub.Spec.Ports[0].TargetPort.IntValue() != 8080 {
		t.Errorf("published marathon (interpolated port): %+v", pub)
	}
}

func TestConvertKubernetes(t *testing.T) {
	objs := load(t, nil, "testdata/kubernetes/docker-compose.yml")
	for _, svc := range []string{"etcd", "master", "proxy"} {
		spec := workload(t, objs, svc).Deployment.Spec.Template.Spec
		if !spec.HostNetwork {
			t.Errorf("%s: net: host did not become hostNetwork", svc)
		}
	}
	master := workload(t, objs, "master").Deployment.Spec.Template.Spec
	if sc := master.Containers[0].SecurityContext; sc == nil || sc.Privileged == nil || !*sc.Privileged {
		t.Errorf("master not privileged: %+v", master.Containers[0].SecurityContext)
	}
	if len(master.Volumes) != 1 || master.Volumes[0].HostPath.Path != "/var/run/docker.sock" || master.Containers[0].VolumeMounts[0].MountPath != "/var/run/docker.sock" {
		t.Errorf("master docker.sock volume: %+v %+v", master.Volumes, master.Containers[0].VolumeMounts)
	}
	if a := master.Containers[0].Args; len(a) < 2 || a[0] != "/hyperkube" || a[1] != "kubelet" {
		t.Errorf("master args %q", a)
	}
}

func TestConvertWordPress(t *testing.T) {
	objs := load(t, nil, "testdata/wordpress/compose.yaml")
	wp := workload(t, objs, "wordpress")
	if *wp.Deployment.Spec.Replicas != 2 {
		t.Errorf("wordpress replicas %d, want deploy.replicas 2", *wp.Deployment.Spec.Replicas)
	}
	if wp.DependsOn["db"].Condition != "service_healthy" {
		t.Errorf("depends_on %+v", wp.DependsOn)
	}
	c := wp.Deployment.Spec.Template.Spec.Containers[0]
	if l := c.Resources.Limits; l.Cpu().MilliValue() != 500 || l.Memory().Value() != 256<<20 {
		t.Errorf("limits %v", l)
	}
	if r := c.Resources.Requests; r.Memory().Value() != 128<<20 {
		t.Errorf("requests %v", r)
	}
	if pub := service(objs, "wordpress-published"); pub == nil || pub.Spec.Ports[0].Port != 8000 || pub.Spec.Ports[0].TargetPort.IntValue() != 80 {
		t.Errorf("published port: %+v", pub)
	}
	db := workload(t, objs, "db").Deployment.Spec.Template.Spec
	p := db.Containers[0].ReadinessProbe
	if p == nil || !reflect.DeepEqual(p.Exec.Command, []string{"mysqladmin", "ping", "-h", "localhost"}) ||
		p.PeriodSeconds != 10 || p.TimeoutSeconds != 5 || p.FailureThreshold != 5 || p.InitialDelaySeconds != 0 {
		t.Errorf("db readiness probe %+v", p)
	}
	if len(db.Volumes) != 1 || db.Volumes[0].Name != "vol-db-data" || db.Volumes[0].EmptyDir == nil {
		t.Errorf("named volume: %+v", db.Volumes)
	}
	if objs.Workloads[0].Service != "db" {
		t.Errorf("db must start first")
	}
}

// TestConvertMapping covers the keys the seed's files do not.
func TestConvertMapping(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "compose.yaml", `
services:
  job:
    image: busybox
    restart: "no"
    user: "1000:1000"
    cap_add: [NET_ADMIN]
    tmpfs: [/run]
    configs: [app]
    secrets: [token]
    working_dir: /srv
    labels: {tier: batch}
    networks:
      default:
        aliases: [worker]
  web:
    image: nginx
    expose: ["80", "9000-9001"]
    volumes:
      - type: tmpfs
        target: /cache
    healthcheck:
      test: curl -f http://localhost
configs:
  app:
    content: "hello"
secrets:
  token:
    file: ./token.txt
`)
	write(t, dir, "token.txt", "s3cret")
	objs := load(t, nil, filepath.Join(dir, "compose.yaml"))
	job := workload(t, objs, "job")
	if j := job.Job; job.Deployment != nil || j == nil || j.Name != "job" || *j.Spec.Completions != 1 || *j.Spec.Parallelism != 1 ||
		*j.Spec.BackoffLimit != 0 || j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Fatalf("restart: no must be a Job run once with restartPolicy Never: %+v", job)
	}
	spec := job.Job.Spec.Template.Spec
	c := spec.Containers[0]
	if sc := c.SecurityContext; *sc.RunAsUser != 1000 || *sc.RunAsGroup != 1000 || sc.Capabilities.Add[0] != "NET_ADMIN" {
		t.Errorf("security context %+v", sc)
	}
	if c.WorkingDir != "/srv" || job.Template().Annotations["tier"] != "batch" {
		t.Errorf("working dir %q annotations %v", c.WorkingDir, job.Template().Annotations)
	}
	vols := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		vols[v.Name] = v
	}
	if v := vols["tmpfs-t0"]; v.EmptyDir == nil || v.EmptyDir.Medium != corev1.StorageMediumMemory {
		t.Errorf("tmpfs: %+v", v)
	}
	if v := vols["config-app"]; v.ConfigMap == nil || v.ConfigMap.Name != "app" {
		t.Errorf("config volume: %+v", v)
	}
	if v := vols["secret-token"]; v.Secret == nil || v.Secret.SecretName != "token" {
		t.Errorf("secret volume: %+v", v)
	}
	if len(objs.ConfigMaps) != 1 || string(objs.ConfigMaps[0].BinaryData["content"]) != "hello" {
		t.Errorf("configmaps %+v", objs.ConfigMaps)
	}
	if len(objs.Secrets) != 1 || string(objs.Secrets[0].Data["content"]) != "s3cret" {
		t.Errorf("secrets %+v", objs.Secrets)
	}
	if s := service(objs, "worker"); s == nil || s.Spec.Selector[LabelService] != "job" {
		t.Errorf("network alias worker: %+v", s)
	}
	if s := service(objs, "job"); s == nil || s.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("a service without ports is headless: %+v", s)
	}
	web := workload(t, objs, "web").Deployment
	if s := service(objs, "web"); s == nil || len(s.Spec.Ports) != 3 {
		t.Errorf("expose 80, 9000-9001: %+v", s)
	}
	if p := web.Spec.Template.Spec.Containers[0].ReadinessProbe; p == nil || !reflect.DeepEqual(p.Exec.Command, []string{"/bin/sh", "-c", "curl -f http://localhost"}) || p.PeriodSeconds != 30 || p.FailureThreshold != 3 {
		t.Errorf("CMD-SHELL probe with compose's defaults: %+v", p)
	}
	if v := web.Spec.Template.Spec.Volumes[0]; v.EmptyDir == nil || v.EmptyDir.Medium != corev1.StorageMediumMemory {
		t.Errorf("tmpfs volume: %+v", v)
	}
	var _ *appsv1.Deployment = web
}

func write(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoadRules: default file names, project names, COMPOSE_FILE, .env and
// profiles follow compose's rules.
func TestLoadRules(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "My_Blog")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "docker-compose.yml", "services:\n  web:\n    image: nginx:${TAG}\n  debug:\n    image: busybox\n    profiles: [debug]\n")
	write(t, dir, ".env", "TAG=1.25\n")
	write(t, dir, "other.yaml", "services:\n  api:\n    image: api\n")
	cases := []struct {
		name     string
		o        LoadOptions
		project  string
		services []string
		image    string
	}{
		{"default file, folder name, .env", LoadOptions{WorkingDir: dir}, "my_blog", []string{"web"}, "nginx:1.25"},
		{"-p", LoadOptions{WorkingDir: dir, ProjectName: "blog"}, "blog", []string{"web"}, "nginx:1.25"},
		{"COMPOSE_PROJECT_NAME", LoadOptions{WorkingDir: dir, Env: []string{"COMPOSE_PROJECT_NAME=fromenv"}}, "fromenv", []string{"web"}, "nginx:1.25"},
		{"environment beats .env", LoadOptions{WorkingDir: dir, Env: []string{"TAG=2"}}, "my_blog", []string{"web"}, "nginx:2"},
		{"COMPOSE_FILE", LoadOptions{WorkingDir: dir, Env: []string{"COMPOSE_FILE=" + filepath.Join(dir, "other.yaml")}}, "my_blog", []string{"api"}, ""},
		{"profile", LoadOptions{WorkingDir: dir, Profiles: []string{"debug"}}, "my_blog", []string{"debug", "web"}, "nginx:1.25"},
		{"COMPOSE_PROFILES", LoadOptions{WorkingDir: dir, Env: []string{"COMPOSE_PROFILES=debug"}}, "my_blog", []string{"debug", "web"}, "nginx:1.25"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Load(context.Background(), tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != tc.project || !reflect.DeepEqual(p.ServiceNames(), tc.services) {
				t.Errorf("project %q services %v, want %q %v", p.Name, p.ServiceNames(), tc.project, tc.services)
			}
			if tc.image != "" && p.Services["web"].Image != tc.image {
				t.Errorf("image %q, want %q", p.Services["web"].Image, tc.image)
			}
		})
	}
	if ns, err := Namespace("my_blog"); err != nil || ns != "my-blog" {
		t.Errorf("namespace of my_blog: %q %v", ns, err)
	}
}

// TestLoadErrors: a broken file is an error naming file, line, service
// and key.
func TestLoadErrors(t *testing.T) {
	cases := []struct {
		file    string
		line    int
		service string
		key     string
		text    string
	}{
		{"testdata/bad/syntax.yml", 2, "", "", "did not find expected key"},
		{"testdata/bad/unknown-key.yml", 4, "web", "colour", "unknown key"},
		{"testdata/bad/no-image.yml", 3, "web", "build", "give the service an image"},
		{"testdata/bad/no-image-no-build.yml", 0, "", "", "has neither an image nor a build context"},
		{"testdata/bad/legacy-unknown-key.yml", 5, "web", "colour", "unknown key"},
		{"testdata/bad/restart.yml", 4, "web", "restart", "unknown restart policy"},
		{"testdata/bad/user-name.yml", 4, "web", "user", "numeric uid"},
	}
	for _, tc := range cases {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			_, err := Load(context.Background(), LoadOptions{Files: []string{tc.file}})
			if err == nil {
				t.Fatal("loaded")
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error %q lacks %q", err, tc.text)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
			abs, _ := filepath.Abs(tc.file)
			if ce.File != abs || ce.Line != tc.line || ce.Service != tc.service || ce.Key != tc.key {
				t.Errorf("error at %s:%d service %q key %q, want %s:%d %q %q", ce.File, ce.Line, ce.Service, ce.Key, abs, tc.line, tc.service, tc.key)
			}
		})
	}
}

// TestLegacyConversion: v1 keys become the specification's.
func TestLegacyConversion(t *testing.T) {
	dir := t.TempDir()
	f := write(t, dir, "docker-compose.yml", `
db:
  image: postgres
web:
  image: app
  net: "container:db"
  log_driver: syslog
  log_opt: {tag: web}
  volumes_from: [db]
`)
	p, err := Load(context.Background(), LoadOptions{Files: []string{f}})
	if err != nil {
		// network_mode service: is not supported, and says so.
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "service:db") {
			t.Fatal(err)
		}
	} else {
		t.Fatalf("loaded %v", p.Services["web"].NetworkMode)
	}
	write(t, dir, "docker-compose.yml", `
db:
  image: postgres
  volumes: ["/data:/var/lib/postgresql"]
web:
  image: app
  log_driver: syslog
  log_opt: {tag: web}
  volumes_from: [db]
`)
	p, err = Load(context.Background(), LoadOptions{Files: []string{f}})
	if err != nil {
		t.Fatal(err)
	}
	if l := p.Services["web"].Logging; l == nil || l.Driver != "syslog" || l.Options["tag"] != "web" {
		t.Errorf("logging %+v", l)
	}
	objs, err := Convert(p, ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v := workload(t, objs, "web").Deployment.Spec.Template.Spec.Volumes; len(v) != 1 || v[0].HostPath.Path != "/data" {
		t.Errorf("volumes_from: %+v", v)
	}
}
