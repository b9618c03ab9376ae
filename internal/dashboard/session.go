package dashboard

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// Cookie names. The session cookie carries only a random id; the CloudStack
// session key never leaves the server.
const (
	sessionCookie = "stratus_dashboard"
	loginCookie   = "stratus_login"
	cookiePath    = "/client/"
)

// session is one logged-in browser.
type session struct {
	id   string
	csrf string
	cs   *csSession
	user csUser
	// idle is how long the session lives without requests.
	idle time.Duration

	mu       sync.Mutex
	lastSeen time.Time
	flash    flash
	vmSeries series
	// form caches the deploy form's choices (see formCacheTTL).
	form   *deployForm
	formAt time.Time
}

// formCacheTTL is how long a session reuses the deploy form's choices:
// listing security groups names every member VM, which costs milliseconds
// with thousands of VMs, and the choices rarely change.
const formCacheTTL = 15 * time.Second

// cachedForm returns the cached deploy form choices, if fresh.
func (s *session) cachedForm(now time.Time) *deployForm {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.form == nil || now.Sub(s.formAt) > formCacheTTL {
		return nil
	}
	return s.form
}

func (s *session) cacheForm(f *deployForm, now time.Time) {
	s.mu.Lock()
	s.form, s.formAt = f, now
	s.mu.Unlock()
}

// flash is a one-shot message shown on the next page.
type flash struct {
	Text  string
	Error bool
}

// takeFlash returns the pending message and clears it.
func (s *session) takeFlash() flash {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flash
	s.flash = flash{}
	return f
}

func (s *session) setFlash(text string, isErr bool) {
	s.mu.Lock()
	s.flash = flash{Text: text, Error: isErr}
	s.mu.Unlock()
}

func (s *session) touch(now time.Time) {
	s.mu.Lock()
	s.lastSeen = now
	s.mu.Unlock()
}

func (s *session) expired(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return now.Sub(s.lastSeen) > s.idle
}

// checkCSRF reports whether the token matches the session's, in constant time.
func (s *session) checkCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) == 1
}

// sessions holds the live sessions by id.
type sessions struct {
	mu sync.Mutex
	m  map[string]*session
}

func newSessions() *sessions { return &sessions{m: map[string]*session{}} }

// maxSessions bounds the live sessions: past it, adding one drops the
// one idle longest (its CloudStack session then times out on its own).
const maxSessions = 1000

func (ss *sessions) add(s *session) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) >= maxSessions {
		var idlest *session
		var seen time.Time
		for _, x := range ss.m {
			x.mu.Lock()
			ls := x.lastSeen
			x.mu.Unlock()
			if idlest == nil || ls.Before(seen) {
				idlest, seen = x, ls
			}
		}
		delete(ss.m, idlest.id)
	}
	ss.m[s.id] = s
}

func (ss *sessions) get(id string) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.m[id]
}

func (ss *sessions) remove(id string) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[id]
	delete(ss.m, id)
	return s
}

func (ss *sessions) len() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.m)
}

// all returns a snapshot of the live sessions.
func (ss *sessions) all() []*session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := make([]*session, 0, len(ss.m))
	for _, s := range ss.m {
		out = append(out, s)
	}
	return out
}

// sweep removes and returns the sessions idle past their timeout.
func (ss *sessions) sweep(now time.Time) []*session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var gone []*session
	for id, s := range ss.m {
		if s.expired(now) {
			gone = append(gone, s)
			delete(ss.m, id)
		}
	}
	return gone
}

// randomToken returns 32 random bytes, base64url without padding.
func randomToken() string {
	var b [32]byte
	// crypto/rand.Read never returns an error (it panics if the OS fails).
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// setCookie sets a dashboard cookie: HttpOnly, SameSite=Strict, scoped to
// /client/, Secure when the request came over TLS. maxAge < 0 deletes it.
func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     cookiePath,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
}
