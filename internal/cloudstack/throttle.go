package cloudstack

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Login throttling.
//
// CloudStack counts failed logins per user (incorrect.login.attempts.allowed,
// 5 by default) and then locks the user until an admin enables it again.
// Locking out a user is a denial of service anyone can cause, so the
// simulator backs off instead: after Free failures in a row, for one user
// name (4×Free from one source address), every further attempt is refused for a
// time that doubles with each failure (1 s, 2 s, 4 s, … up to Max), without
// looking at the password. A refused attempt gets the same 401 as a wrong
// password, so an attacker learns nothing from it; a success clears the
// user's count. Attempts are counted per user whether or not the user
// exists, so the back-off does not tell known names from unknown ones.

// ThrottleOptions tune login throttling (zero values: the defaults).
type ThrottleOptions struct {
	// Free is how many failures in a row are allowed before back-off (default 5).
	Free int
	// Base is the first back-off (default 1 s); Max the longest (default 5 min).
	Base, Max time.Duration
}

// failures is the failure count of one user or address.
type failures struct {
	n     int
	until time.Time // attempts before this are refused
	last  time.Time
}

// throttle keeps failure counts per user and per source address.
type throttle struct {
	opts   ThrottleOptions
	mu     sync.Mutex
	byUser map[string]*failures
	byAddr map[string]*failures
}

// maxTracked bounds each map; older entries are dropped first.
const maxTracked = 100000

func newThrottle(o ThrottleOptions) *throttle {
	if o.Free <= 0 {
		o.Free = 5
	}
	if o.Base <= 0 {
		o.Base = time.Second
	}
	if o.Max <= 0 {
		o.Max = 5 * time.Minute
	}
	return &throttle{opts: o, byUser: map[string]*failures{}, byAddr: map[string]*failures{}}
}

// loginKey names a user for throttling: the domain as given and the name.
func loginKey(user, domain, domainID string) string {
	d := domainID
	if d == "" {
		d = strings.ToLower(strings.Trim(domain, "/"))
	}
	return d + "\x00" + user
}

// sourceAddr is the client's address without its port.
func sourceAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// blocked reports whether an attempt for user from addr must be refused now,
// and for how much longer.
func (t *throttle) blocked(user, addr string, now time.Time) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	for _, f := range []*failures{t.byUser[user], t.byAddr[addr]} {
		if f != nil && now.Before(f.until) {
			wait = max(wait, f.until.Sub(now))
		}
	}
	return wait, wait > 0
}

// failed counts a failed attempt.
func (t *throttle) failed(user, addr string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.count(t.byUser, user, now, t.opts.Free)
	t.count(t.byAddr, addr, now, t.opts.Free*addrFactor)
}

// addrFactor: an address may fail this many times more often than one
// user name before it is slowed down (several people share an address).
const addrFactor = 4

func (t *throttle) count(m map[string]*failures, k string, now time.Time, free int) {
	f := m[k]
	if f == nil {
		if len(m) >= maxTracked {
			t.prune(m, now)
		}
		f = &failures{}
		m[k] = f
	}
	// A count left alone for the longest back-off starts over.
	if now.Sub(f.last) > t.opts.Max+t.opts.Base {
		f.n = 0
	}
	f.n++
	f.last = now
	if over := f.n - free; over > 0 {
		d := t.opts.Base << min(over-1, 30)
		if d <= 0 || d > t.opts.Max {
			d = t.opts.Max
		}
		f.until = now.Add(d)
	}
}

// prune drops entries that no longer block, or (if none) half the map.
func (t *throttle) prune(m map[string]*failures, now time.Time) {
	for k, f := range m {
		if now.After(f.until) && now.Sub(f.last) > t.opts.Base {
			delete(m, k)
		}
	}
	if len(m) < maxTracked {
		return
	}
	i := 0
	for k := range m {
		if i%2 == 0 {
			delete(m, k)
		}
		i++
	}
}

// succeeded clears the user's failures (the address keeps its count: one
// address guessing many users' passwords is still slowed down).
func (t *throttle) succeeded(user string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.byUser, user)
}
