package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/stratus-cloud/stratus/internal/inproc"
)

// FaultAPI is stratus's fault API (GET and DELETE /stratus/v1/faults),
// which the dashboard reads as a client: in-process, with the admin
// token, for root admins only.
type FaultAPI struct {
	Handler http.Handler
	Token   string
}

// apiFault is one fault as the fault API lists it (the fields shown).
type apiFault struct {
	ID              string   `json:"id"`
	Kind            string   `json:"kind"`
	Verb            string   `json:"verb"`
	Resource        string   `json:"resource"`
	Namespace       string   `json:"namespace"`
	Name            string   `json:"name"`
	UserAgent       string   `json:"userAgent"`
	Method          string   `json:"method"`
	Path            string   `json:"path"`
	Project         string   `json:"project"`
	Status          int      `json:"status"`
	RetryAfter      int      `json:"retryAfter"`
	Latency         string   `json:"latency"`
	DisconnectAfter string   `json:"disconnectAfter"`
	Count           int      `json:"count"`
	Probability     float64  `json:"probability"`
	Duration        string   `json:"duration"`
	Created         string   `json:"created"`
	Hits            int      `json:"hits"`
	Command         string   `json:"command"`
	Value           string   `json:"value"`
	Host            string   `json:"host"`
	VM              string   `json:"vm"`
	Zone            string   `json:"zone"`
	ExitCode        int      `json:"exitCode"`
	Account         string   `json:"account"`
	Selector        string   `json:"selector"`
	Conditions      []string `json:"conditions"`
	Nodes           []string `json:"nodes"`
	Remaining       int      `json:"remaining"`
}

// Match says what the fault hits.
func (f apiFault) Match() string {
	var p []string
	for _, kv := range [][2]string{{"verb", f.Verb}, {"resource", f.Resource}, {"namespace", f.Namespace}, {"name", f.Name},
		{"method", f.Method}, {"path", f.Path}, {"project", f.Project}, {"user agent", f.UserAgent}, {"command", f.Command},
		{"host", f.Host}, {"vm", f.VM}, {"zone", f.Zone}, {"account", f.Account}, {"selector", f.Selector},
		{"nodes", strings.Join(f.Nodes, " ")}} {
		if kv[1] != "" && kv[1] != "*" {
			p = append(p, kv[0]+" "+kv[1])
		}
	}
	if len(p) == 0 {
		return "everything"
	}
	return strings.Join(p, ", ")
}

// Effect says what the fault does.
func (f apiFault) Effect() string {
	var p []string
	if f.Status != 0 {
		p = append(p, fmt.Sprintf("%d %s", f.Status, http.StatusText(f.Status)))
	}
	if f.RetryAfter != 0 {
		p = append(p, fmt.Sprintf("Retry-After %ds", f.RetryAfter))
	}
	if f.Latency != "" && f.Latency != "0s" {
		p = append(p, "latency "+f.Latency)
	}
	if f.DisconnectAfter != "" && f.DisconnectAfter != "0s" {
		p = append(p, "watch cut after "+f.DisconnectAfter)
	}
	if f.Value != "" {
		p = append(p, f.Value)
	}
	switch f.Kind {
	case "pod-crash":
		p = append(p, fmt.Sprintf("exit code %d (CrashLoopBackOff)", f.ExitCode))
	case "pod-image-pull":
		p = append(p, "ErrImagePull")
	case "node-down":
		p = append(p, "stopped, Ready Unknown")
	case "node-gone":
		p = append(p, "stopped, Node deleted")
	case "node-pressure":
		p = append(p, strings.Join(f.Conditions, ", ")+" True")
	case "host-down":
		p = append(p, "host Down")
	}
	return strings.Join(p, "; ")
}

// Limits says how the fault is limited.
func (f apiFault) Limits() string {
	var p []string
	if f.Count != 0 {
		p = append(p, fmt.Sprintf("%d hits", f.Count))
	}
	if f.Probability != 0 && f.Probability != 1 {
		p = append(p, fmt.Sprintf("p %g", f.Probability))
	}
	if f.Duration != "" && f.Duration != "0s" {
		p = append(p, "for "+f.Duration)
		if t, err := time.Parse(time.RFC3339Nano, f.Created); err == nil {
			if d, err := time.ParseDuration(f.Duration); err == nil {
				p[len(p)-1] += " (until " + t.Add(d).Format("15:04:05") + ")"
			}
		}
	}
	if len(p) == 0 {
		return "none"
	}
	return strings.Join(p, ", ")
}

// Left says how many more hits it has.
func (f apiFault) Left() string {
	if f.Remaining > 0 {
		return fmt.Sprint(f.Remaining)
	}
	return "unlimited"
}

// call asks the fault API, over HTTP in-process with the admin token.
func (a *FaultAPI) call(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, "http://stratus.internal"+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.Token)
	resp, err := inproc.Client(a.Handler).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return &faultAPIError{code: resp.StatusCode, text: e.Error}
		}
		return &faultAPIError{code: resp.StatusCode, text: http.StatusText(resp.StatusCode)}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(body, out)
}

type faultAPIError struct {
	code int
	text string
}

func (e *faultAPIError) Error() string { return fmt.Sprintf("fault API: %d: %s", e.code, e.text) }

func (a *FaultAPI) list(ctx context.Context) ([]apiFault, error) {
	var l struct {
		Faults []apiFault `json:"faults"`
	}
	err := a.call(ctx, http.MethodGet, "/stratus/v1/faults", &l)
	return l.Faults, err
}

// faultID is what a fault id looks like (a kind, then hex; the
// simulator's are UUIDs).
var faultID = regexp.MustCompile(`^[a-z0-9-]{1,80}$`)

// faultRemoveSubmit removes a fault (root admins only).
func (d *Dashboard) faultRemoveSubmit(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	switch {
	case d.faultAPI == nil || !s.user.RootAdmin():
		d.answer(w, r, s, "Faults are removed by administrators only.", true, "/client/faults")
		return
	case !faultID.MatchString(id):
		d.answer(w, r, s, "Unknown fault.", true, "/client/faults")
		return
	}
	if err := d.faultAPI.call(r.Context(), http.MethodDelete, "/stratus/v1/faults/"+url.PathEscape(id), nil); err != nil {
		d.log.Info("fault removal refused", "user", s.user.Username, "fault", id, "err", err)
		text := "The fault could not be removed; see the server log."
		if fe, ok := err.(*faultAPIError); ok {
			text = "The fault could not be removed: " + fe.text
		}
		d.answer(w, r, s, text, true, "/client/faults")
		return
	}
	d.log.Info("fault removed", "user", s.user.Username, "fault", id)
	d.answer(w, r, s, "Fault "+id+" removed.", false, "/client/faults")
}
