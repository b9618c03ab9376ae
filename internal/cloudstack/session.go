package cloudstack

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// session is a logged-in user: the JSESSIONID cookie and the session key
// the client sends as sessionkey.
type session struct {
	id      string
	key     string
	userID  string
	expires time.Time
}

// sessions keeps login sessions in memory (a restart logs everyone out,
// as a restart of CloudStack's management server does).
type sessions struct {
	mu      sync.Mutex
	timeout time.Duration
	byID    map[string]*session
	byKey   map[string]*session
}

// maxSessions bounds the live sessions.
const maxSessions = 10_000

func (s *sessions) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID)
}

func newSessions(timeout time.Duration) *sessions {
	return &sessions{timeout: timeout, byID: map[string]*session{}, byKey: map[string]*session{}}
}

func randomToken() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *sessions) create(userID string, now time.Time) *session {
	ss := &session{id: randomToken(), key: randomToken(), userID: userID, expires: now.Add(s.timeout)}
	s.mu.Lock()
	defer s.mu.Unlock()
	// drop expired sessions now and then
	if len(s.byID) > 64 {
		for id, x := range s.byID {
			if now.After(x.expires) {
				delete(s.byID, id)
				delete(s.byKey, x.key)
			}
		}
	}
	// A script that logs in without logging out must not grow the table
	// without bound: past maxSessions the one closest to expiring goes.
	if len(s.byID) >= maxSessions {
		var oldest *session
		for _, x := range s.byID {
			if oldest == nil || x.expires.Before(oldest.expires) {
				oldest = x
			}
		}
		delete(s.byID, oldest.id)
		delete(s.byKey, oldest.key)
	}
	s.byID[ss.id] = ss
	s.byKey[ss.key] = ss
	return ss
}

// check finds the session of a sessionkey parameter; the JSESSIONID cookie
// (or the sessionkey cookie) must belong to the same session.
func (s *sessions) check(key, cookieID, cookieKey string) (*session, bool) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.byKey[key]
	if !ok {
		return nil, false
	}
	if now.After(ss.expires) {
		delete(s.byID, ss.id)
		delete(s.byKey, ss.key)
		return nil, false
	}
	if !eq(cookieID, ss.id) && !eq(cookieKey, ss.key) {
		return nil, false
	}
	ss.expires = now.Add(s.timeout)
	return ss, true
}

func (s *sessions) drop(id, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss, ok := s.byID[id]; ok {
		delete(s.byID, id)
		delete(s.byKey, ss.key)
	}
	if ss, ok := s.byKey[key]; ok {
		delete(s.byKey, key)
		delete(s.byID, ss.id)
	}
}

// loginAnswer is loginresponse's body.
type loginAnswer struct {
	Username       string `json:"username"`
	UserID         string `json:"userid"`
	DomainID       string `json:"domainid"`
	Timeout        int    `json:"timeout"`
	Account        string `json:"account"`
	FirstName      string `json:"firstname"`
	LastName       string `json:"lastname"`
	Type           string `json:"type"`
	Timezone       string `json:"timezone,omitempty"`
	Registered     string `json:"registered"`
	SessionKey     string `json:"sessionkey"`
	Is2FAEnabled   string `json:"is2faenabled"`
	Is2FAVerified  string `json:"is2faverified"`
	ProviderFor2FA string `json:"providerfor2fa"`
	IssuerFor2FA   string `json:"issuerfor2fa"`
}

// login checks username/password and starts a session.
func (h *Handler) login(rq *request) {
	p := rq.p
	for _, req := range []string{"username", "password"} {
		if p.Get(req) == "" {
			rq.cmd = h.cmds["login"]
			rq.fail("loginresponse", cloud.Invalid("Unable to execute API command login due to missing parameter %s", req))
			return
		}
	}
	user, domain, domainID := p.Get("username"), p.Get("domain"), firstOf(p.Get("domainId"), p.Get("domainid"))
	key, addr, now := loginKey(user, domain, domainID), sourceAddr(rq.r), time.Now()
	if wait, ok := h.throttle.blocked(key, addr, now); ok {
		h.log.Warn("login refused: too many failures", "user", user, "addr", addr, "retry_in", wait.Round(time.Millisecond))
		h.loginThrottled.Inc()
		rq.fail("loginresponse", h.sim.LoginRefused(user, domain, domainID))
		return
	}
	c, err := h.sim.Login(user, p.Get("password"), domain, domainID)
	if err != nil {
		h.throttle.failed(key, addr, now)
		rq.fail("loginresponse", err)
		return
	}
	h.throttle.succeeded(key)
	ss := h.sessions.create(c.User.ID, time.Now())
	http.SetCookie(rq.w, &http.Cookie{Name: "JSESSIONID", Value: ss.id, Path: "/client", HttpOnly: true})
	http.SetCookie(rq.w, &http.Cookie{Name: "sessionkey", Value: ss.key, Path: "/client", HttpOnly: true})
	rq.status = http.StatusOK
	writeAnswer(rq.w, rq.json, "loginresponse", http.StatusOK, loginAnswer{
		Username: c.User.Username, UserID: c.User.ID, DomainID: c.User.DomainID, Timeout: int(h.sessions.timeout / time.Second),
		Account: c.Account.Name, FirstName: c.User.FirstName, LastName: c.User.LastName, Type: strconv.Itoa(int(c.Account.Type)),
		Timezone: c.User.Timezone, Registered: "false", SessionKey: ss.key, Is2FAEnabled: "false", Is2FAVerified: "true",
		ProviderFor2FA: "totp", IssuerFor2FA: "cloudstack",
	})
	h.log.Info("login", "user", c.User.Username, "account", c.Account.Name)
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// logout ends the caller's session.
func (rq *request) logout() (any, error) {
	key, _ := rq.p.getFold("sessionkey")
	rq.h.sessions.drop(rq.sessionCookie(), key)
	for _, name := range []string{"JSESSIONID", "sessionkey"} {
		http.SetCookie(rq.w, &http.Cookie{Name: name, Value: "", Path: "/client", MaxAge: -1, HttpOnly: true})
	}
	return struct {
		Description string `json:"description"`
	}{"success"}, nil
}
