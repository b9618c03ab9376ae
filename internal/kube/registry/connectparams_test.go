package registry

import (
	"net/url"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestConnectParams: the queries of pods/exec, attach and portforward
// decode as kube-apiserver's generated conversions decode them.
func TestConnectParams(t *testing.T) {
	c := NewCodecs()
	for _, tc := range []struct {
		query   string
		into    runtime.Object
		want    runtime.Object
		wantErr bool
	}{
		{"command=echo&command=hi&stdout=true&stderr=1&container=web", &corev1.PodExecOptions{},
			&corev1.PodExecOptions{Stdout: true, Stderr: true, Container: "web", Command: []string{"echo", "hi"}}, false},
		// every value but absent, "0" and "false" is true; the first counts
		{"stdin=&tty=yes&stdout=0&stderr=FALSE&container=a&container=b", &corev1.PodExecOptions{},
			&corev1.PodExecOptions{Stdin: true, TTY: true, Container: "a"}, false},
		{"stdin=true&stdout=true&container=sh", &corev1.PodAttachOptions{},
			&corev1.PodAttachOptions{Stdin: true, Stdout: true, Container: "sh"}, false},
		{"ports=80,8080&ports=9000", &corev1.PodPortForwardOptions{},
			&corev1.PodPortForwardOptions{Ports: []int32{80, 8080, 9000}}, false},
		{"ports=http", &corev1.PodPortForwardOptions{}, nil, true},
		{"ports=70000", &corev1.PodPortForwardOptions{}, nil, true},
	} {
		q, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		err = c.Params.DecodeParameters(q, corev1.SchemeGroupVersion, tc.into)
		if tc.wantErr {
			if err == nil {
				t.Errorf("%s: decoded as %+v, want an error", tc.query, tc.into)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.query, err)
		} else if !reflect.DeepEqual(tc.into, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.query, tc.into, tc.want)
		}
	}
}

// FuzzConnectParams: any query of pods/exec, attach or portforward decodes
// or is refused, and what decodes encodes back to itself: every port
// valid, the command kept in order.
func FuzzConnectParams(f *testing.F) {
	f.Add("command=sh&command=-c&command=echo+hi&stdin=true&tty=1&container=c")
	f.Add("ports=80,8080&ports=0")
	f.Add("ports=-1&stdout=false")
	f.Add("ports=%2C&container=")
	c := NewCodecs()
	f.Fuzz(func(t *testing.T, query string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		var exec corev1.PodExecOptions
		if err := c.Params.DecodeParameters(q, corev1.SchemeGroupVersion, &exec); err != nil {
			t.Fatalf("exec options of %q: %v", query, err)
		}
		if len(q["command"]) > 0 && !reflect.DeepEqual(exec.Command, q["command"]) {
			t.Fatalf("command of %q: %q", query, exec.Command)
		}
		var pf corev1.PodPortForwardOptions
		if err := c.Params.DecodeParameters(q, corev1.SchemeGroupVersion, &pf); err != nil {
			return
		}
		for _, p := range pf.Ports {
			if p < 0 || p > 65535 {
				t.Fatalf("port %d from %q", p, query)
			}
		}
	})
}
