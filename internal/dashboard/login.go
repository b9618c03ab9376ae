package dashboard

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"
)

// loginData is what the login page shows.
type loginData struct {
	Token    string
	Next     string
	Username string
	Domain   string
	Error    string
}

// loginPage shows the login form. A fresh random token goes both into a
// cookie and into the form, so only a form this site served can log in
// (no login CSRF).
func (d *Dashboard) loginPage(w http.ResponseWriter, r *http.Request) {
	if d.sessionOf(r) != nil {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	d.showLogin(w, r, http.StatusOK, loginData{Next: r.URL.Query().Get("next"), Domain: "/"})
}

func (d *Dashboard) showLogin(w http.ResponseWriter, r *http.Request, status int, ld loginData) {
	ld.Token = randomToken()
	ld.Next = localPath(ld.Next)
	setCookie(w, r, loginCookie, ld.Token, 600)
	body, err := execute(d.pages.login, "login", ld)
	if err != nil {
		d.log.Error("render login", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeHTML(w, status, body)
}

// loginSubmit logs in through CloudStack's session login and opens a
// dashboard session holding the CloudStack session.
func (d *Dashboard) loginSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "Bad form.", http.StatusBadRequest)
		return
	}
	f := r.PostForm
	ld := loginData{Next: f.Get("next"), Username: f.Get("username"), Domain: f.Get("domain")}
	ck, err := r.Cookie(loginCookie)
	if !sameOrigin(r) || err != nil || f.Get("token") == "" ||
		subtle.ConstantTimeCompare([]byte(ck.Value), []byte(f.Get("token"))) != 1 {
		ld.Error = "The login form expired; please try again."
		d.showLogin(w, r, http.StatusForbidden, ld)
		return
	}
	username, password, domain := strings.TrimSpace(f.Get("username")), f.Get("password"), strings.TrimSpace(f.Get("domain"))
	if domain == "" {
		domain = "/"
	}
	if username == "" || password == "" || len(username) > 255 || len(password) > 255 || len(domain) > 255 {
		ld.Error = "Enter a user name and password."
		d.showLogin(w, r, http.StatusBadRequest, ld)
		return
	}
	cs, user, err := d.api.login(r.Context(), username, password, domain)
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			d.log.Info("login refused", "user", username, "domain", domain, "code", ae.ErrorCode)
			ld.Error = "Login failed: " + ae.Text
		} else {
			d.log.Error("login failed", "user", username, "err", err)
			ld.Error = "Login failed; see the server log."
		}
		d.showLogin(w, r, http.StatusUnauthorized, ld)
		return
	}
	idle := time.Duration(user.Timeout) * time.Second
	if idle <= 0 {
		idle = defaultIdle
	}
	s := &session{id: randomToken(), csrf: randomToken(), cs: cs, user: user, idle: idle, lastSeen: d.clock.Now()}
	d.sessions.add(s)
	d.sampleVMs(r.Context(), s)
	if user.RootAdmin() {
		d.samplePods(r.Context())
	}
	d.log.Info("login", "user", user.Username, "account", user.Account, "role", user.Role())
	setCookie(w, r, loginCookie, "", -1)
	setCookie(w, r, sessionCookie, s.id, 0)
	http.Redirect(w, r, localPath(ld.Next), http.StatusSeeOther)
}

// logoutSubmit ends both the dashboard and the CloudStack session.
func (d *Dashboard) logoutSubmit(w http.ResponseWriter, r *http.Request, s *session) {
	d.endSession(w, r, s)
	http.Redirect(w, r, "/client/login", http.StatusSeeOther)
}

func (d *Dashboard) endSession(w http.ResponseWriter, r *http.Request, s *session) {
	d.sessions.remove(s.id)
	if err := s.cs.Logout(r.Context()); err != nil && !errors.Is(err, errSessionExpired) {
		d.log.Warn("CloudStack logout", "user", s.user.Username, "err", err)
	}
	setCookie(w, r, sessionCookie, "", -1)
	d.log.Info("logout", "user", s.user.Username)
}
