package registry

import (
	"fmt"
	"net/url"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"
)

// registerConnectParams teaches the scheme what kube-apiserver's generated
// conversions from url.Values do for the options of pods/exec, attach and
// portforward, so that the parameter codec decodes their queries into the
// objects admission sees: a boolean is true unless absent, "0" or "false";
// container is the first value, command every value; ports every value and
// comma-separated lists, each a port number.
func registerConnectParams(s *runtime.Scheme) error {
	flag := func(q url.Values, name string, out *bool) {
		v := q[name]
		_ = runtime.Convert_Slice_string_To_bool(&v, out, nil) // never fails
	}
	first := func(q url.Values, name string) string {
		if v := q[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	for _, f := range []struct {
		to      any
		convert func(q url.Values, out any) error
	}{
		{(*corev1.PodExecOptions)(nil), func(q url.Values, out any) error {
			o := out.(*corev1.PodExecOptions)
			flag(q, "stdin", &o.Stdin)
			flag(q, "stdout", &o.Stdout)
			flag(q, "stderr", &o.Stderr)
			flag(q, "tty", &o.TTY)
			o.Container, o.Command = first(q, "container"), nil
			if v := q["command"]; len(v) > 0 {
				o.Command = append([]string(nil), v...)
			}
			return nil
		}},
		{(*corev1.PodAttachOptions)(nil), func(q url.Values, out any) error {
			o := out.(*corev1.PodAttachOptions)
			flag(q, "stdin", &o.Stdin)
			flag(q, "stdout", &o.Stdout)
			flag(q, "stderr", &o.Stderr)
			flag(q, "tty", &o.TTY)
			o.Container = first(q, "container")
			return nil
		}},
		{(*corev1.PodPortForwardOptions)(nil), func(q url.Values, out any) error {
			o := out.(*corev1.PodPortForwardOptions)
			o.Ports = nil
			v := q["ports"]
			return metav1.Convert_Slice_string_To_Slice_int32(&v, &o.Ports, nil)
		}},
	} {
		convert := f.convert
		if err := s.AddConversionFunc((*url.Values)(nil), f.to, func(a, b any, _ conversion.Scope) error {
			q, ok := a.(*url.Values)
			if !ok {
				return fmt.Errorf("converting %T: not a query", a)
			}
			return convert(*q, b)
		}); err != nil {
			return err
		}
	}
	return nil
}
