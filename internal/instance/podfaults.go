package instance

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/stratus-cloud/stratus/internal/runtime"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
)

// Kinds of pod fault, acted out by the sim runtime as kwok's stages script
// pods: they hit the containers of matching pods as they start.
const (
	// FaultPodCrash: containers exit at once with ExitCode (default 1);
	// under restartPolicy Always the agent's back-off makes it a
	// CrashLoopBackOff.
	FaultPodCrash = "pod-crash"
	// FaultPodSlowStart: containers take Latency to start.
	FaultPodSlowStart = "pod-slow-start"
	// FaultPodImagePull: starting the containers fails as a pull of their
	// image does (ErrImagePull, then the agent's back-off).
	FaultPodImagePull = "pod-image-pull"
)

// podFaults are the live pod faults, asked by every sim runtime of the
// instance at each container start.
type podFaults struct {
	mu sync.Mutex
	m  map[string]*podFault
	// hit, when set, is called (without the lock) after a fault took a hit.
	hit func()
}

type podFault struct {
	f    Fault
	sel  labels.Selector // nil: any labels
	left int             // hits left (0: no limit)
}

func (p *podFaults) add(f Fault) (Fault, error) {
	pf, err := newPodFault(f)
	if err != nil {
		return Fault{}, err
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	pf.f.ID, pf.f.Created, pf.f.Hits = f.Kind+"-"+hex.EncodeToString(b), time.Now(), 0
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]*podFault{}
	}
	p.m[pf.f.ID] = pf
	return pf.f, nil
}

// restore puts back pod faults as they were listed (ids, hits and what
// was left of their counts kept).
func (p *podFaults) restore(fs []Fault) error {
	m := make(map[string]*podFault, len(fs))
	for _, f := range fs {
		pf, err := newPodFault(f)
		if err != nil {
			return fmt.Errorf("fault %s: %w", f.ID, err)
		}
		if f.Count > 0 {
			pf.left = f.Remaining
		}
		m[f.ID] = pf
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]*podFault{}
	}
	for id, pf := range m {
		p.m[id] = pf
	}
	return nil
}

// newPodFault checks a pod fault.
func newPodFault(f Fault) (*podFault, error) {
	if f.Verb != "" || f.Resource != "" || f.Method != "" || f.Path != "" || f.Status != 0 || f.DisconnectAfter != 0 ||
		f.Probability != 0 || f.Duration != 0 || f.Command != "" || f.Value != "" || f.Host != "" || f.VM != "" || f.Zone != "" ||
		f.Account != "" || len(f.Conditions) > 0 || len(f.Nodes) > 0 {
		return nil, fmt.Errorf("%w: pod faults take namespace, name, selector, exit code (pod-crash), latency (pod-slow-start) and count", errBadFault)
	}
	if err := checkObjectMatch(f.Namespace, f.Name); err != nil {
		return nil, err
	}
	pf := &podFault{f: f, left: f.Count}
	if f.Selector != "" {
		sel, err := labels.Parse(f.Selector)
		if err != nil {
			return nil, fmt.Errorf("%w: selector %q: %v", errBadFault, f.Selector, err)
		}
		pf.sel = sel
	}
	switch f.Kind {
	case FaultPodCrash:
		if f.Latency != 0 {
			return nil, fmt.Errorf("%w: pod-crash takes no latency", errBadFault)
		}
		if pf.f.ExitCode == 0 {
			pf.f.ExitCode = 1
		}
		if pf.f.ExitCode < 1 || pf.f.ExitCode > 255 {
			return nil, fmt.Errorf("%w: exit code %d: want 1-255", errBadFault, f.ExitCode)
		}
	case FaultPodSlowStart:
		if f.Latency <= 0 || f.ExitCode != 0 {
			return nil, fmt.Errorf("%w: pod-slow-start takes a latency (and no exit code)", errBadFault)
		}
	case FaultPodImagePull:
		if f.Latency != 0 || f.ExitCode != 0 {
			return nil, fmt.Errorf("%w: pod-image-pull takes no latency or exit code", errBadFault)
		}
	}
	if f.Count < 0 {
		return nil, fmt.Errorf("%w: count %d", errBadFault, f.Count)
	}
	return pf, nil
}

func (p *podFaults) remove(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.m[id]
	delete(p.m, id)
	return ok
}

func (p *podFaults) clear() {
	p.mu.Lock()
	p.m = nil
	p.mu.Unlock()
}

func (p *podFaults) list() []Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Fault, 0, len(p.m))
	for _, pf := range p.m {
		f := pf.f
		if f.Count > 0 {
			f.Remaining = pf.left
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b Fault) int { return a.Created.Compare(b.Created) })
	return out
}

// matches: Namespace is the pod's (empty: any); Name is the pod's name or
// the start of its generated name (a Deployment's or ReplicaSet's, say).
func (pf *podFault) matches(spec runtime.ContainerSpec) bool {
	f := pf.f
	return (f.Namespace == "" || f.Namespace == spec.PodNamespace) &&
		(f.Name == "" || spec.PodName == f.Name || strings.HasPrefix(spec.PodName, f.Name+"-")) &&
		(pf.sel == nil || pf.sel.Matches(labels.Set(spec.Labels)))
}

// annotations is the sim runtimes' FaultFunc: the sim annotations that act
// out the first matching fault, which then counts one hit.
func (p *podFaults) annotations(spec runtime.ContainerSpec) map[string]string {
	a := p.take(spec)
	if a != nil && p.hit != nil {
		p.hit()
	}
	return a
}

func (p *podFaults) take(spec runtime.ContainerSpec) map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, pf := range p.m {
		if !pf.matches(spec) {
			continue
		}
		pf.f.Hits++
		if pf.left > 0 {
			if pf.left--; pf.left == 0 {
				delete(p.m, id)
			}
		}
		switch pf.f.Kind {
		case FaultPodCrash:
			return map[string]string{sim.AnnotationExitAfter: "0s", sim.AnnotationExitCode: strconv.Itoa(pf.f.ExitCode),
				sim.AnnotationOutput: "stratus fault " + pf.f.ID + ": exiting with code " + strconv.Itoa(pf.f.ExitCode)}
		case FaultPodSlowStart:
			return map[string]string{sim.AnnotationStartLatency: time.Duration(pf.f.Latency).String()}
		case FaultPodImagePull:
			return map[string]string{sim.AnnotationImagePullError: "stratus fault " + pf.f.ID + ": pull access denied, repository does not exist or may require authorization"}
		}
	}
	return nil
}

// simRuntime is a sim runtime of this instance: pod faults reach it.
func (w *wiring) simRuntime(o sim.Options) *sim.Runtime {
	rt := sim.New(o)
	rt.SetFaults(w.podFaults.annotations)
	return rt
}
