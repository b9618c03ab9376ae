package instance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
	"github.com/stratus-cloud/stratus/internal/seed"
	"github.com/stratus-cloud/stratus/internal/snapshot"
)

// ApplyResult says what applying a seed file did.
type ApplyResult struct {
	seed.Result
	// ResetPoint says the state after it is what a reset goes back to.
	ResetPoint bool   `json:"resetPoint"`
	Took       string `json:"took"`
}

// Apply applies a seed file (internal/seed) through the public APIs. It
// is all or nothing: the whole state is kept first, and put back when a
// write fails, so a failed apply leaves nothing behind. With resetPoint,
// the state after it becomes what Reset goes back to.
func (in *Instance) Apply(ctx context.Context, f *seed.File, resetPoint bool) (ApplyResult, error) {
	in.admin.mu.Lock()
	defer in.admin.mu.Unlock()
	return in.apply(ctx, f, resetPoint)
}

func (in *Instance) apply(ctx context.Context, f *seed.File, resetPoint bool) (ApplyResult, error) {
	t0 := time.Now()
	c, err := in.seedClients(ctx)
	if err != nil {
		return ApplyResult{}, err
	}
	if err := seed.Validate(ctx, c, f); err != nil {
		return ApplyResult{}, err
	}
	before, err := snapshot.Take(ctx, in.store, keepKey)
	if err != nil {
		return ApplyResult{}, err
	}
	res, err := seed.Apply(ctx, c, f)
	if err != nil {
		if _, rerr := in.restore(context.WithoutCancel(ctx), before); rerr != nil {
			return ApplyResult{}, fmt.Errorf("%w (and undoing what was applied failed: %v)", err, rerr)
		}
		return ApplyResult{}, fmt.Errorf("%w (nothing was applied)", err)
	}
	if resetPoint {
		if err := in.saveSeed(ctx); err != nil {
			return ApplyResult{}, fmt.Errorf("keep the seeded state for reset: %w", err)
		}
	}
	return ApplyResult{Result: res, ResetPoint: resetPoint, Took: time.Since(t0).String()}, nil
}

// seedClients are the instance's own APIs, as a seed file is applied
// through them: CloudStack and the GCE gateway on the HTTP front with the
// root admin's keys, the Kubernetes API over its loopback transport. Fixed
// API keys, which no public API sets, go to the simulator directly.
func (in *Instance) seedClients(ctx context.Context) (seed.Clients, error) {
	var c seed.Clients
	hc := &http.Client{Timeout: 2 * time.Minute}
	c.HTTPURL, c.HTTP = in.http.URL(), hc
	if sm := in.w.sim; sm != nil {
		key, secret, err := sm.AdminKeys(ctx)
		if err != nil {
			return c, err
		}
		api := in.http.URL() + "/client/api"
		c.CloudStack = csclient.New(api, key, secret, hc)
		c.NewCloudStack = func(k, s string) *csclient.Client { return csclient.New(api, k, s, hc) }
		c.SetUserKeys = func(ctx context.Context, userID, k, s string) error {
			_, err := sm.SetUserKeys(ctx, sm.Admin(), userID, k, s)
			return err
		}
	}
	if in.w.kube != nil {
		c.Kube = in.w.kube.LoopbackConfig()
	}
	return c, nil
}

// maxSeedFile bounds a seed file sent to the admin API.
const maxSeedFile = 16 << 20

// serveApply is POST /stratus/v1/apply: the body is a seed file;
// ?name= names it in errors, ?resetPoint=true makes the result the reset
// point. A file that does not parse or validate answers 422.
func (in *Instance) serveApply(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSeedFile))
	if err != nil {
		adminReply(w, 0, nil, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "seed"
	}
	f, err := seed.Parse(name, body)
	if err != nil {
		adminReply(w, 0, nil, fmt.Errorf("%w: %w", errInvalidSeed, err))
		return
	}
	res, err := in.Apply(r.Context(), f, r.URL.Query().Get("resetPoint") == "true")
	var se *seed.Error
	if errors.As(err, &se) {
		err = fmt.Errorf("%w: %w", errInvalidSeed, err)
	}
	adminReply(w, http.StatusOK, res, err)
}
