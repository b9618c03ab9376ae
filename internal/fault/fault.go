// Package fault keeps the fault rules that stratus's fault API injects
// into its HTTP fronts (`stratus fault add`, POST /stratus/v1/faults):
// Kubernetes API requests matched by verb, resource, namespace and name,
// and GCE API requests matched by method and path, answered with an error
// status (429 with Retry-After, 500, 409, …), delayed, or (watches) cut
// after a while. A rule can be limited by count, probability and duration.
// Faults in the cloud simulator (agent commands, hosts, VMs) are the
// simulator's own (internal/cloud, configureSimulator); internal/instance
// lists both kinds as one.
package fault

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// Kinds of rule this package serves.
const (
	KindKube = "kube-api"
	KindGCE  = "gce-api"
)

// Rule is one fault.
type Rule struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`

	// Kubernetes matching ("" or "*": any). Verb is get, list, watch,
	// create, update, patch, delete or deletecollection; Resource may name
	// a subresource ("pods/status").
	Verb      string `json:"verb,omitempty"`
	Resource  string `json:"resource,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	// UserAgent, when set, is a substring the client's User-Agent must
	// hold (to aim at one client and spare the others).
	UserAgent string `json:"userAgent,omitempty"`
	// GCE matching: the HTTP method, a substring of the path, and the
	// project (an account's: only requests about that project).
	Method  string `json:"method,omitempty"`
	Path    string `json:"path,omitempty"`
	Project string `json:"project,omitempty"`
	// Account names what a fault is limited to: for gce-api the account
	// whose Project it is (as given); the instance's cloud faults use it
	// for the account's VMs.
	Account string `json:"account,omitempty"`

	// Status answers the request with this HTTP status instead (the API's
	// own error body); RetryAfter sets Retry-After (seconds).
	Status     int `json:"status,omitempty"`
	RetryAfter int `json:"retryAfter,omitempty"`
	// Latency delays the request (then it is served, or answered Status).
	Latency Duration `json:"latency,omitempty"`
	// DisconnectAfter ends a matching watch after this long.
	DisconnectAfter Duration `json:"disconnectAfter,omitempty"`

	// Count is how many requests it hits (0: no limit); Probability the
	// chance it hits a matching one (0: 1); Duration how long it lasts
	// from its creation (0: until removed).
	Count       int      `json:"count,omitempty"`
	Probability float64  `json:"probability,omitempty"`
	Duration    Duration `json:"duration,omitempty"`

	Created time.Time `json:"created"`
	// Hits is how many requests it has hit.
	Hits int `json:"hits"`
}

// Duration is a time.Duration written as "1.5s" in JSON.
type Duration time.Duration

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// ErrNotFound: no rule has that id.
var ErrNotFound = errors.New("no such fault")

// Check refuses a rule that cannot act.
func (r *Rule) Check() error {
	switch r.Kind {
	case KindKube:
		if r.Method != "" || r.Path != "" || r.Project != "" || r.Account != "" {
			return errors.New("method, path, project and account are for gce-api faults; kube-api faults match verb, resource, namespace, name")
		}
		if r.Verb != "" && r.Verb != "*" && !slices.Contains(verbs, r.Verb) {
			return fmt.Errorf("verb %q: want one of %s", r.Verb, strings.Join(verbs, ", "))
		}
	case KindGCE:
		if r.Verb != "" || r.Resource != "" || r.Namespace != "" || r.Name != "" {
			return errors.New("verb, resource, namespace and name are for kube-api faults; gce-api faults match method and path")
		}
		if r.DisconnectAfter != 0 {
			return errors.New("disconnectAfter is for Kubernetes watches")
		}
	default:
		return fmt.Errorf("kind %q: this package serves %s and %s", r.Kind, KindKube, KindGCE)
	}
	if r.Status == 0 && r.Latency == 0 && r.DisconnectAfter == 0 {
		return errors.New("a fault needs status, latency or disconnectAfter")
	}
	if r.Status != 0 && (r.Status < 400 || r.Status > 599) {
		return fmt.Errorf("status %d: want an error status (400-599)", r.Status)
	}
	if r.Probability < 0 || r.Probability > 1 || r.Count < 0 || r.RetryAfter < 0 || r.Latency < 0 || r.Duration < 0 || r.DisconnectAfter < 0 {
		return errors.New("probability is 0-1; count, retryAfter, latency, duration and disconnectAfter are not negative")
	}
	return nil
}

var verbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}

// Set holds the rules. The zero value is empty and ready.
type Set struct {
	mu    sync.Mutex
	rules []*Rule
	// Clock gives the time (default the wall clock); Rand the dice
	// (default math/rand/v2).
	Clock clock.PassiveClock
	Rand  func() float64
	// Hit, when set, is called (without the lock held) after a rule took
	// a hit, so its owner can keep the counts.
	Hit func()
}

func (s *Set) now() time.Time {
	if s.Clock != nil {
		return s.Clock.Now()
	}
	return time.Now()
}

// Add checks a rule and adds it, giving it an id.
func (s *Set) Add(r Rule) (Rule, error) {
	if err := r.Check(); err != nil {
		return Rule{}, err
	}
	b := make([]byte, 4)
	_, _ = crand.Read(b)
	r.ID = r.Kind + "-" + hex.EncodeToString(b)
	r.Created = s.now()
	r.Hits = 0
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = append(s.rules, &r)
	return r, nil
}

// Restore puts back rules as they were listed (ids, creation times and
// hits kept): what a restarted instance had. A rule that does not pass
// Check is refused, and then none is added.
func (s *Set) Restore(rules []Rule) error {
	add := make([]*Rule, 0, len(rules))
	for _, r := range rules {
		if err := r.Check(); err != nil {
			return fmt.Errorf("fault %s: %w", r.ID, err)
		}
		if r.ID == "" {
			return errors.New("a restored fault needs its id")
		}
		add = append(add, &r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = append(s.rules, add...)
	return nil
}

// List returns the live rules (spent and expired ones are dropped).
func (s *Set) List() []Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune()
	out := make([]Rule, 0, len(s.rules))
	for _, r := range s.rules {
		out = append(out, *r)
	}
	return out
}

// Remove deletes a rule.
func (s *Set) Remove(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.rules, func(r *Rule) bool { return r.ID == id })
	if i < 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	s.rules = slices.Delete(s.rules, i, i+1)
	return nil
}

// Clear removes every rule.
func (s *Set) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = nil
}

func (s *Set) prune() {
	now := s.now()
	s.rules = slices.DeleteFunc(s.rules, func(r *Rule) bool {
		return (r.Count > 0 && r.Hits >= r.Count) || (r.Duration > 0 && now.Sub(r.Created) >= time.Duration(r.Duration))
	})
}

// hit finds the first live rule of kind that matches and takes one hit of
// it (nil: none).
func (s *Set) hit(kind string, match func(*Rule) bool) *Rule {
	s.mu.Lock()
	if len(s.rules) == 0 {
		s.mu.Unlock()
		return nil
	}
	r := s.hitLocked(kind, match)
	s.mu.Unlock()
	if r != nil && s.Hit != nil {
		s.Hit()
	}
	return r
}

func (s *Set) hitLocked(kind string, match func(*Rule) bool) *Rule {
	s.prune()
	for _, r := range s.rules {
		if r.Kind != kind || !match(r) {
			continue
		}
		if r.Probability > 0 && r.Probability < 1 && s.roll() >= r.Probability {
			continue
		}
		r.Hits++
		c := *r
		return &c
	}
	return nil
}

func (s *Set) roll() float64 {
	if s.Rand != nil {
		return s.Rand()
	}
	return rand.Float64()
}

// wait sleeps d, or until ctx ends.
func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// matches: want is empty, "*" or have.
func matches(want, have string) bool { return want == "" || want == "*" || want == have }

// serve applies a rule that hit: the delay, then the error answer (true)
// or nothing (false: the request goes on).
func serve(w http.ResponseWriter, r *http.Request, rule *Rule, answer func(w http.ResponseWriter, rule *Rule)) bool {
	if err := wait(r.Context(), time.Duration(rule.Latency)); err != nil {
		return true
	}
	if rule.Status == 0 {
		return false
	}
	if rule.RetryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(rule.RetryAfter))
	}
	answer(w, rule)
	return true
}
