package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/image"
	"k8s.io/utils/clock"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

// Kubelet's image pull back-off: 10 s, doubling, at most 5 min.
const (
	pullBackoffInitial = 10 * time.Second
	pullBackoffMax     = 300 * time.Second
)

// ensureImage makes the container's image present: used as it is when the
// engine has it, pulled otherwise (kubelet's IfNotPresent). Failures are
// *StartError with kubelet's waiting reasons.
func (r *Runtime) ensureImage(ctx context.Context, spec runtime.ContainerSpec) error {
	named, err := reference.ParseNormalizedNamed(spec.Image)
	if err != nil {
		return &StartError{Reason: "InvalidImageName", Message: fmt.Sprintf("Failed to apply default image tag %q: %v", spec.Image, err), Err: err}
	}
	ref := reference.FamiliarString(reference.TagNameOnly(named))
	if _, err := r.cli.ImageInspect(ctx, ref); err == nil {
		return nil
	} else if !cerrdefs.IsNotFound(err) {
		return &StartError{Reason: "ErrImagePull", Message: err.Error(), Err: err}
	}
	key := podKey(spec) + "_" + ref
	if r.pulls.inBackoff(key) {
		return &StartError{Reason: "ImagePullBackOff", Message: fmt.Sprintf("Back-off pulling image %q", spec.Image)}
	}
	r.log.Info("pulling image", "image", ref)
	t0 := time.Now()
	err = r.pull(ctx, ref)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.pulls.failed(key)
		r.log.Warn("image pull failed", "image", ref, "err", err)
		return &StartError{Reason: "ErrImagePull", Message: fmt.Sprintf("failed to pull image %q: %v", spec.Image, err), Err: err}
	}
	r.pulls.succeeded(key)
	r.log.Info("image pulled", "image", ref, "took", time.Since(t0).Round(time.Millisecond))
	return nil
}

func (r *Runtime) pull(ctx context.Context, ref string) error {
	ctx, cancel := context.WithTimeout(ctx, r.opts.PullTimeout)
	defer cancel()
	rc, err := r.cli.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		return err
	}
	defer rc.Close()
	return decodeProgress(rc, func(string) {})
}

// decodeProgress reads an engine progress stream (pull, import) to its end,
// passing each status line to status, and returns the error it reports.
func decodeProgress(rc io.Reader, status func(string)) error {
	dec := json.NewDecoder(rc)
	for {
		var m progressMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		switch {
		case m.ErrorDetail != nil && m.ErrorDetail.Message != "":
			return errors.New(m.ErrorDetail.Message)
		case m.Error != "":
			return errors.New(m.Error)
		}
		if m.Status != "" {
			status(m.Status)
		}
	}
}

// progressMessage is the part of the engine's progress messages read here.
type progressMessage struct {
	Status      string `json:"status"`
	Error       string `json:"error"`
	ErrorDetail *struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
}

// pullBackoff remembers failed pulls per pod and image, as kubelet's image
// manager does, so a failing pull is not retried before its back-off ends.
type pullBackoff struct {
	clock clock.PassiveClock
	mu    sync.Mutex
	m     map[string]backoffEntry
}

type backoffEntry struct {
	delay time.Duration
	until time.Time
}

func newPullBackoff(c clock.PassiveClock) *pullBackoff {
	return &pullBackoff{clock: c, m: map[string]backoffEntry{}}
}

func (b *pullBackoff) inBackoff(key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.m[key]
	return ok && b.clock.Now().Before(e.until)
}

func (b *pullBackoff) failed(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	e := b.m[key]
	switch {
	case e.delay == 0 || now.Sub(e.until) > 2*pullBackoffMax:
		e.delay = pullBackoffInitial // first failure, or one long after the last
	default:
		e.delay = min(2*e.delay, pullBackoffMax)
	}
	e.until = now.Add(e.delay)
	b.m[key] = e
	// Forget entries long expired so the map does not grow for ever.
	for k, old := range b.m {
		if now.Sub(old.until) > 2*pullBackoffMax {
			delete(b.m, k)
		}
	}
}

func (b *pullBackoff) succeeded(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, key)
}
