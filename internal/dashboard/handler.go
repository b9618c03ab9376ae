package dashboard

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// maxFormBytes caps a form body; every dashboard form is small.
const maxFormBytes = 64 << 10

// Handler returns the dashboard's HTTP handler. Mount it at /client/; it
// expects full paths (/client/vms) and never serves /client/api.
func (d *Dashboard) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /client/static/", staticHandler())
	mux.HandleFunc("GET /client/login", d.loginPage)
	mux.HandleFunc("POST /client/login", d.loginSubmit)
	mux.HandleFunc("POST /client/logout", d.authed(d.logoutSubmit))
	mux.HandleFunc("GET /client/live", d.authed(d.serveLive))
	mux.HandleFunc("POST /client/vms", d.authed(d.deploySubmit))
	mux.HandleFunc("POST /client/vms/{id}/{action}", d.authed(d.vmActionSubmit))
	mux.HandleFunc("POST /client/faults/{id}/remove", d.authed(d.faultRemoveSubmit))
	for name := range d.views {
		p := "GET /client/" + name
		if name == "overview" {
			p = "GET /client/{$}"
		}
		mux.HandleFunc(p, d.authed(d.servePage(d.views[name])))
	}
	mux.HandleFunc("/client/", d.authed(d.notFound))
	return secureHeaders(mux)
}

// secureHeaders sets the headers every dashboard answer carries: a strict
// content security policy (own scripts and styles only, no framing).
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// authedFunc is a handler that runs for a logged-in session.
type authedFunc func(w http.ResponseWriter, r *http.Request, s *session)

// authed admits requests of a live session. Others go to the login page
// (pages), get 401 (event streams) or 403 (posts). Posts must also carry
// the session's CSRF token and, when the browser names one, our origin.
func (d *Dashboard) authed(h authedFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := d.sessionOf(r)
		if s == nil {
			switch {
			case r.Method != http.MethodGet:
				http.Error(w, "Not logged in.", http.StatusForbidden)
			case r.URL.Path == "/client/live":
				http.Error(w, "Not logged in.", http.StatusUnauthorized)
			default:
				http.Redirect(w, r, "/client/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			}
			return
		}
		if r.Method == http.MethodPost {
			if !sameOrigin(r) {
				http.Error(w, "Cross-origin form rejected.", http.StatusForbidden)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				http.Error(w, "Bad form.", http.StatusBadRequest)
				return
			}
			if !s.checkCSRF(r.PostForm.Get("csrf")) {
				http.Error(w, "The form's security token is missing or stale; reload the page and try again.", http.StatusForbidden)
				return
			}
		}
		if r.URL.Path != "/client/live" {
			s.touch(d.clock.Now())
		}
		h(w, r, s)
	}
}

// sessionOf returns the request's live session, or nil.
func (d *Dashboard) sessionOf(r *http.Request) *session {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil
	}
	s := d.sessions.get(ck.Value)
	if s == nil || s.expired(d.clock.Now()) {
		return nil
	}
	return s
}

// sameOrigin is false when the browser says the request came from another
// origin (SameSite=Strict cookies already keep cross-site posts out; this
// is a second lock).
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return origin == ""
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

// localPath returns p when it is a dashboard path on this site, else the
// overview: redirects never leave the dashboard.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/client/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") ||
		strings.HasPrefix(p, "/client/api") || strings.HasPrefix(p, "/client/live") {
		return "/client/"
	}
	if u, err := url.Parse(p); err != nil || u.Scheme != "" || u.Host != "" {
		return "/client/"
	}
	return p
}

// redirectBack answers a form post by going back to the page named in the
// form's "back" field.
func redirectBack(w http.ResponseWriter, r *http.Request, fallback string) {
	back := r.PostForm.Get("back")
	if back == "" {
		back = fallback
	}
	http.Redirect(w, r, localPath(back), http.StatusSeeOther)
}

// fetchHeader marks a form post sent by the page's script: it gets a JSON
// answer instead of a redirect, and the page stays as it is.
const fetchHeader = "X-Stratus-Fetch"

// answer tells the user how a form post went: as JSON to the page's script,
// or as a one-shot message on the page the browser is sent back to.
func (d *Dashboard) answer(w http.ResponseWriter, r *http.Request, s *session, text string, isErr bool, fallback string) {
	if r.Header.Get(fetchHeader) == "" {
		s.setFlash(text, isErr)
		redirectBack(w, r, fallback)
		return
	}
	status := http.StatusOK
	if isErr {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, map[string]any{"ok": !isErr, "message": text})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// failed tells the user what went wrong with a call, in words; a lost
// CloudStack session sends them to log in again.
func (d *Dashboard) failed(w http.ResponseWriter, r *http.Request, s *session, err error, fallback string) {
	if errors.Is(err, errSessionExpired) {
		d.endSession(w, r, s)
		if r.Header.Get(fetchHeader) != "" {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"ok": false, "login": true, "message": "Your session ended; log in again."})
			return
		}
		http.Redirect(w, r, "/client/login", http.StatusSeeOther)
		return
	}
	var ae *apiError
	if !errors.As(err, &ae) {
		d.log.Warn("request failed", "path", r.URL.Path, "user", s.user.Username, "err", err)
	}
	d.answer(w, r, s, errorText(err), true, fallback)
}

// errorText is the message shown for an error: the API's own text for API
// errors, a generic one otherwise (details go to the log, not the page).
func errorText(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		if ae.Text != "" {
			return ae.Text
		}
		return "The CloudStack API refused the request (error " + http.StatusText(ae.ErrorCode) + ")."
	}
	return "The request failed; see the server log."
}
