// Package restartgate is the annotation by which a client of the
// Kubernetes API takes over when a pod's containers restart, and the node
// agent that honours it: the Marathon API, whose launch back-off is per
// app (backoffSeconds, backoffFactor, maxLaunchDelaySeconds) rather than
// the kubelet's per container, writes it; internal/agent reads it.
//
// With the annotation present the kubelet's back-off does not apply: a
// container that exited after N restarts starts again only once the
// annotation reads "N@TIME" (or a larger N) and TIME (RFC 3339) has come;
// until then it waits in CrashLoopBackOff. An empty value holds every
// restart. A pod's first start is held only by StartAnnotation.
package restartgate

import (
	"strconv"
	"strings"
	"time"
)

// Annotation is the pod annotation that holds the gate.
const Annotation = "pod.stratus.io/restart-gate"

// StartAnnotation holds a pod's first start: while the pod has it, the
// agent starts none of its containers. Its writer removes it once the pod
// may start (the Marathon API, when it has given the task its host ports
// on the node the pod was bound to).
const StartAnnotation = "pod.stratus.io/start-gate"

// Value lets the container that exited after restarts restarts start
// again at t.
func Value(restarts int32, t time.Time) string {
	return strconv.Itoa(int(restarts)) + "@" + t.UTC().Format(time.RFC3339Nano)
}

// Parse reads a gate's value: the restarts it lets go and from when (ok
// false when it lets nothing go).
func Parse(v string) (restarts int32, at time.Time, ok bool) {
	n, t, found := strings.Cut(v, "@")
	if !found {
		return 0, time.Time{}, false
	}
	r, err := strconv.ParseInt(n, 10, 32)
	if err != nil || r < 0 {
		return 0, time.Time{}, false
	}
	at, err = time.Parse(time.RFC3339Nano, t)
	if err != nil {
		return 0, time.Time{}, false
	}
	return int32(r), at, true
}

// Wait is how long the gate v still holds the restart of a container
// that exited after restarts restarts; held is false once it may start.
// A gate that says nothing yet of this exit holds it until it changes
// (wait 0, held true).
func Wait(v string, restarts int32, now time.Time) (wait time.Duration, held bool) {
	n, at, ok := Parse(v)
	if !ok || n < restarts {
		return 0, true
	}
	if d := at.Sub(now); d > 0 {
		return d, true
	}
	return 0, false
}
