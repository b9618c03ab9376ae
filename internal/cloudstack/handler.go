package cloudstack

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// Options configure a Handler.
type Options struct {
	// Cloud is the simulator the API fronts (required).
	Cloud *cloud.Sim
	// Log is the API's logger (default slog.Default()).
	Log *slog.Logger
	// Metrics, when set, gets the API's request metrics.
	Metrics prometheus.Registerer
	// SessionTimeout is how long an idle login session lasts (default 30 min).
	SessionTimeout time.Duration
	// Throttle tunes login throttling (see throttle.go).
	Throttle ThrottleOptions
}

// Handler serves /client/api.
type Handler struct {
	sim      *cloud.Sim
	log      *slog.Logger
	cmds     map[string]*command
	order    []*command
	sessions *sessions
	bufs     bufPool
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// reference maps CloudStack 4.22's command names (lower case) to their
	// spelling; unimplemented counts requests for those stratus lacks.
	reference     map[string]string
	unimplemented *prometheus.CounterVec
	throttle      *throttle
	// loginThrottled counts logins refused by the throttle.
	loginThrottled prometheus.Counter
}

// NewHandler returns the CloudStack API handler over opts.Cloud.
func NewHandler(opts Options) *Handler {
	h := &Handler{sim: opts.Cloud, log: opts.Log, cmds: map[string]*command{}}
	if h.log == nil {
		h.log = slog.Default()
	}
	timeout := opts.SessionTimeout
	if timeout <= 0 {
		timeout = 30 * time.Minute
	}
	h.sessions = newSessions(timeout)
	h.throttle = newThrottle(opts.Throttle)
	h.loginThrottled = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "stratus_cloudstack_logins_throttled_total", Help: "CloudStack logins refused because of earlier failures (per user or source address).",
	})
	for _, c := range commands() {
		h.cmds[strings.ToLower(c.Name)] = c
		h.order = append(h.order, c)
	}
	h.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "stratus_cloudstack_requests_total", Help: "CloudStack API requests by command and HTTP status.",
	}, []string{"command", "code"})
	h.reference = referenceNames()
	h.unimplemented = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "stratus_cloudstack_unimplemented_commands_total",
		Help: "Requests for CloudStack API commands stratus does not simulate, by command (other: not a CloudStack 4.22 command).",
	}, []string{"command"})
	h.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "stratus_cloudstack_request_duration_seconds", Help: "CloudStack API request latency by command.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
	}, []string{"command"})
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	if opts.Metrics != nil {
		for _, c := range []prometheus.Collector{h.requests, h.latency, h.unimplemented, h.loginThrottled,
			gauge("stratus_cloudstack_jobs", "Async jobs kept (pending and completed, until job.expire).", func() float64 { return float64(h.sim.Counts().Jobs) }),
			gauge("stratus_cloudstack_events", "Events kept (until event.purge.delay).", func() float64 { return float64(h.sim.Counts().Events) }),
			gauge("stratus_cloudstack_vms", "VM records, destroyed ones included (until expunged).", func() float64 { return float64(h.sim.Counts().VMs) }),
			gauge("stratus_cloudstack_removed_vms", "Ids of expunged VMs remembered (until event.purge.delay).", func() float64 { return float64(h.sim.Counts().RemovedVMs) }),
			gauge("stratus_cloudstack_sessions", "Login sessions live.", func() float64 { return float64(h.sessions.count()) }),
		} {
			if err := opts.Metrics.Register(c); err != nil {
				var are prometheus.AlreadyRegisteredError
				if !errors.As(err, &are) {
					h.log.Warn("cannot register metrics", "err", err)
				}
			}
		}
	}
	return h
}

// request is one API call being served.
type request struct {
	ctx    context.Context
	h      *Handler
	cmd    *command
	p      Params
	c      cloud.Caller
	json   bool
	w      http.ResponseWriter
	r      *http.Request
	byKey  bool
	status int
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t0 := time.Now()
	rq := &request{ctx: r.Context(), h: h, w: w, r: r}
	cmdLabel := "unknown"
	defer func() {
		h.requests.WithLabelValues(cmdLabel, strconv.Itoa(rq.status)).Inc()
		h.latency.WithLabelValues(cmdLabel).Observe(time.Since(t0).Seconds())
	}()
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		rq.fail("errorresponse", cloud.Errorf(405, cloud.CSServerAPI, "Method %s is not allowed", r.Method))
		return
	}
	p, err := parseParams(r)
	if err != nil {
		rq.json = strings.EqualFold(r.URL.Query().Get("response"), "json")
		rq.fail("errorresponse", cloud.Errorf(cloud.CodeMalformed, cloud.CSServerAPI, "Malformed request: %v", err))
		return
	}
	rq.p = p
	rq.json = strings.EqualFold(p.Get("response"), "json")
	name := p.Get("command")
	cmd := h.cmds[strings.ToLower(name)]
	respName := responseName(name)
	if cmd != nil {
		cmdLabel = cmd.Name
		if cmd.Envelope != "" {
			respName = cmd.Envelope
		}
	}
	if name == "" {
		respName = "errorresponse"
	}

	// With several servers on one store, another one may have just
	// changed what this request reads (or the key it is signed with).
	sctx, cancel := context.WithTimeout(rq.ctx, syncTimeout)
	err = h.sim.Sync(sctx)
	cancel()
	if err != nil {
		rq.fail(respName, cloud.Errorf(cloud.CodeInternal, cloud.CSCloudRuntime, "Unable to read the current state: %v", err))
		return
	}
	if cmd == nil && name != "" {
		h.noteUnimplemented(rq, name)
	}
	if cmd != nil && cmd.Name == "login" {
		h.login(rq)
		return
	}
	if err := h.authenticate(rq, cmd); err != nil {
		rq.fail(respName, err)
		return
	}
	switch {
	case name == "":
		rq.fail("errorresponse", cloud.Errorf(400, cloud.CSServerAPI, "no command specified"))
		return
	case cmd == nil || !cmd.allowed(rq.c):
		if rq.byKey {
			rq.fail(respName, errUnverified)
		} else {
			rq.fail("errorresponse", cloud.Errorf(cloud.CodeUnsupported, cloud.CSServerAPI, "The user is not allowed to request the API command or the API command does not exist"))
		}
		return
	}
	rq.cmd = cmd
	if err := cmd.check(rq); err != nil {
		rq.fail(respName, err)
		return
	}
	body, err := cmd.Run(rq)
	if err != nil {
		rq.fail(respName, rq.apiError(err))
		return
	}
	rq.status = http.StatusOK
	h.bufs.writeAnswer(w, rq.json, respName, http.StatusOK, body)
	h.log.Debug("api call", "command", cmd.Name, "account", rq.c.Account.Name, "took", time.Since(t0))
}

// syncTimeout bounds how long a request waits for the state to catch up
// with the store before it fails with 530.
const syncTimeout = 10 * time.Second

// errUnverified is the 401 of a failed signature or unknown key.
var errUnverified = &cloud.Error{Code: cloud.CodeUnauthorized, Text: "unable to verify user credentials and/or request signature"}

// fail writes an error answer: HTTP status = errorcode.
func (rq *request) fail(name string, err error) {
	e := cloud.AsError(err)
	rq.status = e.Code
	rq.w.Header().Set("X-Description", sanitizeHeader(e.Text))
	rq.h.bufs.writeAnswer(rq.w, rq.json, name, e.Code, errorBody{UUIDList: []string{}, ErrorCode: e.Code, CSErrorCode: e.CSCode, ErrorText: e.Text})
	lvl := slog.LevelDebug
	if e.Code >= 530 && e.Code != cloud.CodeInsufficientCap && e.Code != cloud.CodeResourceLimit {
		lvl = slog.LevelWarn
	}
	cmd := "unknown"
	if rq.cmd != nil {
		cmd = rq.cmd.Name
	}
	rq.h.log.Log(rq.ctx, lvl, "api error", "command", cmd, "code", e.Code, "text", e.Text)
}

func sanitizeHeader(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// apiError turns a cloud error into the API's: an unknown id becomes
// CloudStack's "entity does not exist" text for the parameter that named it.
func (rq *request) apiError(err error) error {
	var nf *cloud.NotFoundError
	if errors.As(err, &nf) {
		for _, prm := range rq.cmd.Params {
			v := rq.p.Get(prm.Name)
			if v != "" && (v == nf.ID || strings.Contains(","+v+",", ","+nf.ID+",")) {
				return rq.invalidValue(prm.Name, nf.ID)
			}
		}
		return rq.invalidValue("id", nf.ID)
	}
	return err
}

// invalidValue is ParamProcessWorker's text for a bad or unknown value.
func (rq *request) invalidValue(name, value string) error {
	return invalidValue(rq.cmd.Name, name, value)
}

// authenticate resolves the caller from a session or an API key signature.
func (h *Handler) authenticate(rq *request, cmd *command) error {
	p := rq.p
	if key, ok := p.getFold("sessionkey"); ok || (!hasKey(p) && rq.sessionCookie() != "") {
		s, ok := h.sessions.check(key, rq.sessionCookie(), rq.sessionKeyCookie())
		if !ok {
			return &cloud.Error{Code: cloud.CodeUnauthorized, Text: "unable to verify user credentials"}
		}
		c, ok := h.sim.CallerByUserID(s.userID)
		if !ok {
			return &cloud.Error{Code: cloud.CodeUnauthorized, Text: "unable to verify user credentials"}
		}
		rq.c = c
		return nil
	}
	apiKey, ok := p.getFold("apikey")
	if !ok || apiKey == "" {
		return errUnverified
	}
	rq.byKey = true
	c, secret, ok := h.sim.CallerByAPIKey(apiKey)
	if !ok || !verifySignature(p, secret) || !checkExpires(p, h.sim.Now()) {
		return errUnverified
	}
	rq.c = c
	return nil
}

func hasKey(p Params) bool { _, ok := p.getFold("apikey"); return ok }

func (rq *request) sessionCookie() string {
	if c, err := rq.r.Cookie("JSESSIONID"); err == nil {
		return c.Value
	}
	return ""
}

func (rq *request) sessionKeyCookie() string {
	if c, err := rq.r.Cookie("sessionkey"); err == nil {
		return c.Value
	}
	return ""
}
