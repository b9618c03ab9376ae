package quota

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func rl(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

func pod(name string, req, lim corev1.ResourceList) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{Containers: []corev1.Container{
		{Name: "c", Resources: corev1.ResourceRequirements{Requests: req, Limits: lim}}}}}
}

// TestExceeded: only the resources that would go over are named, in the
// API's own words.
func TestExceeded(t *testing.T) {
	hard := rl("pods", "2", "requests.cpu", "300m")
	for _, tc := range []struct {
		name      string
		used, req corev1.ResourceList
		want      string
	}{
		{"fits exactly", rl("pods", "1", "requests.cpu", "200m"), rl("pods", "1", "requests.cpu", "100m"), ""},
		{"pods over", rl("pods", "2", "requests.cpu", "200m"), rl("pods", "1", "requests.cpu", "100m"),
			"exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2"},
		{"both over", rl("pods", "2", "requests.cpu", "250m"), rl("pods", "1", "requests.cpu", "100m"),
			"exceeded quota: q, requested: pods=1,requests.cpu=100m, used: pods=2,requests.cpu=250m, limited: pods=2,requests.cpu=300m"},
		{"unlimited resource", rl(), rl("limits.cpu", "5"), ""},
	} {
		if got := Exceeded("q", hard, tc.used, tc.req); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// TestUsageAndCoverage: what a pod, a claim and a finished pod take, and
// which objects a quota counts.
func TestUsageAndCoverage(t *testing.T) {
	p := pod("p", rl("cpu", "100m"), rl("cpu", "200m"))
	u := Usage("", "pods", p)
	for n, want := range map[string]string{"pods": "1", "count/pods": "1", "requests.cpu": "100m", "cpu": "100m", "limits.cpu": "200m"} {
		if q := u[corev1.ResourceName(n)]; q.String() != want {
			t.Errorf("pod usage %s = %s, want %s", n, q.String(), want)
		}
	}
	done := p.DeepCopy()
	done.Status.Phase = corev1.PodSucceeded
	if Usage("", "pods", done) != nil {
		t.Error("a finished pod takes quota")
	}
	class := "standard"
	c := &corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: &class,
		Resources: corev1.VolumeResourceRequirements{Requests: rl("storage", "1Gi")}}}
	if q := Usage("", "persistentvolumeclaims", c)["standard.storageclass.storage.k8s.io/requests.storage"]; q.String() != "1Gi" {
		t.Errorf("claim's class storage %s", q.String())
	}
	for _, tc := range []struct {
		hard       corev1.ResourceList
		group, res string
		want       bool
	}{
		{rl("requests.cpu", "1"), "", "pods", true},
		{rl("requests.cpu", "1"), "", "services", false},
		{rl("count/deployments.apps", "1"), "apps", "deployments", true},
		{rl("requests.storage", "1Gi"), "", "persistentvolumeclaims", true},
		{rl("services.nodeports", "1"), "", "services", true},
	} {
		if got := Covers(tc.hard, tc.group, tc.res); got != tc.want {
			t.Errorf("Covers(%v, %s/%s) = %v", tc.hard, tc.group, tc.res, got)
		}
	}
}

// TestLimitRanges: defaults (after the API's LimitRange defaulting) and
// the min/max messages.
func TestLimitRanges(t *testing.T) {
	lr := &corev1.LimitRange{Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{
		{Type: corev1.LimitTypeContainer, Max: rl("cpu", "1"), Min: rl("memory", "10Mi")}}}}
	p := pod("p", nil, nil)
	ann, err := ApplyLimitRanges(p, []*corev1.LimitRange{lr})
	if err != nil {
		t.Fatal(err)
	}
	r := p.Spec.Containers[0].Resources
	if r.Limits.Cpu().String() != "1" || r.Requests.Cpu().String() != "1" || r.Requests.Memory().String() != "10Mi" {
		t.Errorf("defaults: %v", r)
	}
	if want := "LimitRanger plugin set: cpu request for container c; memory request for container c; cpu limit for container c"; ann != want {
		t.Errorf("annotation %q", ann)
	}
	for _, tc := range []struct {
		name string
		p    *corev1.Pod
		want string
	}{
		{"over max", pod("p", rl("memory", "20Mi"), rl("cpu", "2")), "maximum cpu usage per Container is 1, but limit is 2"},
		{"under min", pod("p", rl("memory", "1Mi"), rl("cpu", "1")), "minimum memory usage per Container is 10Mi, but request is 1Mi"},
		{"both", pod("p", rl("memory", "1Mi"), rl("cpu", "2")), "[minimum memory usage per Container is 10Mi, but request is 1Mi, maximum cpu usage per Container is 1, but limit is 2]"},
	} {
		_, err := ApplyLimitRanges(tc.p, []*corev1.LimitRange{lr})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
	}
	if got := MissingRequests(rl("requests.cpu", "1", "limits.memory", "1Gi"), pod("p", nil, nil)); got != "must specify limits.memory for: c; requests.cpu for: c" {
		t.Errorf("missing: %q", got)
	}
}
