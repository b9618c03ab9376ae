package marathon

import (
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

// TestNodePorts: each task gets free ports of its node's range, the same
// ones when asked again; other nodes have their own; released ports come
// back; fixed ports are held too.
func TestNodePorts(t *testing.T) {
	n := newNodePorts()
	steps := []struct {
		name    string
		uid     types.UID
		node    string
		want    []int
		release types.UID
		got     []int
	}{
		{name: "first task", uid: "a", node: "n1", want: []int{0, 0}, got: []int{31000, 31001}},
		{name: "asked again", uid: "a", node: "n1", want: []int{0, 0}, got: []int{31000, 31001}},
		{name: "second task, same node", uid: "b", node: "n1", want: []int{0}, got: []int{31002}},
		{name: "other node", uid: "c", node: "n2", want: []int{0}, got: []int{31000}},
		{name: "fixed port held", uid: "d", node: "n1", want: []int{31003, 0}, got: []int{31003, 31004}},
		{name: "released and taken again later", release: "a", uid: "e", node: "n1", want: []int{0}, got: []int{31005}},
	}
	for _, s := range steps {
		if s.release != "" {
			n.release(s.release)
		}
		got, err := n.take(s.uid, s.node, s.want)
		if err != nil || !slices.Equal(got, s.got) {
			t.Fatalf("%s: %v %v, want %v", s.name, got, err, s.got)
		}
	}
	// The range runs out, then wraps to the released ports.
	m := newNodePorts()
	for i := range AgentPortMax - AgentPortMin + 1 {
		if _, err := m.take(types.UID(rune(i)+'0'), "n", []int{0}); err != nil {
			t.Fatalf("port %d: %v", i, err)
		}
	}
	if _, err := m.take("full", "n", []int{0}); err == nil {
		t.Fatal("a port beyond the range")
	}
	m.release(types.UID(rune(7) + '0'))
	if got, err := m.take("again", "n", []int{0}); err != nil || got[0] != AgentPortMin+7 {
		t.Fatalf("after a release: %v %v", got, err)
	}
}

// TestPortEnv: fixed ports are values; a task's own ports are read from
// the annotations the server writes, PORT_<NAME> and, with port mappings,
// PORT_<containerPort> among them.
func TestPortEnv(t *testing.T) {
	ref := func(i string) string { return "metadata.annotations['marathon.stratus.io/port" + i + "']" }
	for _, tc := range []struct {
		name string
		app  string
		want map[string]string // name → value or field path
	}{
		{"fixed", `{"id":"/f","cmd":"x","requirePorts":true,"portDefinitions":[{"port":10001,"name":"http"}]}`,
			map[string]string{"PORT0": "10001", "PORT": "10001", "PORTS": "10001", "PORT_HTTP": "10001"}},
		{"own", `{"id":"/o","cmd":"x","portDefinitions":[{"port":0,"name":"http"},{"port":0}]}`,
			map[string]string{"PORT0": ref("0"), "PORT1": ref("1"), "PORT": ref("0"), "PORTS": "metadata.annotations['marathon.stratus.io/port-list']", "PORT_HTTP": ref("0")}},
		{"mapping", `{"id":"/m","container":{"docker":{"image":"nginx","network":"BRIDGE","portMappings":[{"containerPort":80,"name":"web"}]}}}`,
			map[string]string{"PORT0": ref("0"), "PORT_WEB": ref("0"), "PORT_80": ref("0")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj, err := decodeObject([]byte(tc.app))
			if err != nil {
				t.Fatal(err)
			}
			a, err := parseApp(obj, "/", "")
			if err != nil {
				t.Fatal(err)
			}
			d := kubeDeployment(a, []byte("{}"), noNodes)
			got := map[string]string{}
			for _, e := range d.Spec.Template.Spec.Containers[0].Env {
				if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
					got[e.Name] = e.ValueFrom.FieldRef.FieldPath
				} else {
					got[e.Name] = e.Value
				}
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			_, gated := d.Spec.Template.Annotations["pod.stratus.io/start-gate"]
			if gated != (tc.name != "fixed") {
				t.Errorf("start gate %v", gated)
			}
		})
	}
}

func TestParsePorts(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want []int
	}{
		{"", []int{}}, {"[]", []int{}}, {"[31000]", []int{31000}}, {"[31000, 31001]", []int{31000, 31001}},
		{"[0,31001]", []int{}}, {"[x]", []int{}}, {"31000", []int{}}, {"31000]", []int{}}, {"[31000", []int{}},
	} {
		if got := parsePorts(tc.raw); !slices.Equal(got, tc.want) || got == nil {
			t.Errorf("parsePorts(%q) = %v, want %v", tc.raw, got, tc.want)
		}
	}
}
