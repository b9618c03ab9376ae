package dashboard

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// loadTimeout bounds one render's API calls.
const loadTimeout = 10 * time.Second

// servePage renders a full page: layout, static parts and live region.
func (d *Dashboard) servePage(v *view) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) {
		if msg, status := d.allowed(v, s); msg != "" {
			d.notice(w, s, v.Name, status, msg)
			return
		}
		rq := viewRequest{s: s, q: r.URL.Query(), host: hostName(r.Host)}
		pd := d.basePage(s, v.Name, v.Title)
		pd.LiveURL = "/client/live?" + liveQuery(v.Name, rq.q)
		ctx, cancel := context.WithTimeout(r.Context(), loadTimeout)
		defer cancel()
		if v.form != nil {
			form, err := v.form(ctx, rq)
			if errors.Is(err, errSessionExpired) {
				d.expired(w, r, s)
				return
			}
			if err != nil {
				pd.Err = d.loadError(v, s, err)
			}
			pd.Form = form
		}
		data, err := v.load(ctx, rq)
		if errors.Is(err, errSessionExpired) {
			d.expired(w, r, s)
			return
		}
		if err != nil {
			pd.Err = d.loadError(v, s, err)
		}
		pd.Data = data
		pd.Flash = s.takeFlash()
		body, err := execute(d.pages.m[v.Name], "layout", pd)
		if err != nil {
			d.log.Error("render page", "view", v.Name, "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		writeHTML(w, http.StatusOK, body)
	}
}

// allowed says why a session may not see a view ("" when it may).
func (d *Dashboard) allowed(v *view, s *session) (string, int) {
	if v.marathon {
		if d.marathon == nil {
			return "Marathon is not running in this stratus.", http.StatusNotFound
		}
		if !s.user.RootAdmin() {
			return "The Marathon views are shown to root administrators only.", http.StatusForbidden
		}
		return "", 0
	}
	if !v.kube {
		return "", 0
	}
	if d.kube == nil {
		return "Kubernetes is not running in this stratus.", http.StatusNotFound
	}
	if !s.user.RootAdmin() {
		return "The Kubernetes views are shown to root administrators only.", http.StatusForbidden
	}
	return "", 0
}

// basePage fills what every page has.
func (d *Dashboard) basePage(s *session, active, title string) pageData {
	pd := pageData{Title: title, View: active, User: s.user, CSRF: s.csrf}
	for _, v := range d.viewList {
		if v.hidden || (v.kube && (d.kube == nil || !s.user.RootAdmin())) || (v.marathon && (d.marathon == nil || !s.user.RootAdmin())) {
			continue
		}
		href := "/client/" + v.Name
		if v.Name == "overview" {
			href = "/client/"
		}
		pd.Nav = append(pd.Nav, navItem{Href: href, Label: v.Title, Active: v.Name == active})
	}
	return pd
}

// notice shows a page with a message only.
func (d *Dashboard) notice(w http.ResponseWriter, s *session, active string, status int, msg string) {
	pd := d.basePage(s, active, "Notice")
	pd.Data = msg
	body, err := execute(d.pages.m["notice"], "layout", pd)
	if err != nil {
		d.log.Error("render notice", "err", err)
		http.Error(w, msg, status)
		return
	}
	writeHTML(w, status, body)
}

func (d *Dashboard) notFound(w http.ResponseWriter, r *http.Request, s *session) {
	d.notice(w, s, "", http.StatusNotFound, "There is no such page.")
}

// expired ends a session whose CloudStack session is gone and sends the
// browser to log in again.
func (d *Dashboard) expired(w http.ResponseWriter, r *http.Request, s *session) {
	d.endSession(w, r, s)
	http.Redirect(w, r, "/client/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
}

// loadError is the message a page shows when its data could not be loaded.
func (d *Dashboard) loadError(v *view, s *session, err error) string {
	var ae *apiError
	if !errors.As(err, &ae) {
		d.log.Warn("load view", "view", v.Name, "user", s.user.Username, "err", err)
	}
	return errorText(err)
}

// liveQuery is the event stream's query: the view and the page's own
// parameters (paging, filters).
func liveQuery(name string, q url.Values) string {
	lq := url.Values{}
	for k, vs := range q {
		if k != "view" && len(vs) > 0 {
			lq.Set(k, vs[0])
		}
	}
	lq.Set("view", name)
	return lq.Encode()
}

// hostName is the host part of a Host header, or "localhost" when it is
// not a plain name or address.
func hostName(hostport string) string {
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		h = hostport
	}
	h = strings.Trim(h, "[]")
	if h == "" || strings.ContainsFunc(h, func(c rune) bool {
		return !(c == '.' || c == '-' || c == ':' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')
	}) {
		return "localhost"
	}
	return h
}
