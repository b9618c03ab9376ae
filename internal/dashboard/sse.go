package dashboard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// serveLive streams a view's live region as server-sent events: one
// "fragment" event with the region's HTML each time it changes, an
// "expired" event when the session ends. The region is rendered through the
// APIs as the session's user after each (coalesced) change, at most
// once per minRefresh, and sent only when it differs from the last one.
func (d *Dashboard) serveLive(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	v := d.views[q.Get("view")]
	if v == nil {
		http.Error(w, "No such view.", http.StatusNotFound)
		return
	}
	if msg, status := d.allowed(v, s); msg != "" {
		http.Error(w, msg, status)
		return
	}
	rc := http.NewResponseController(w)
	// A stream outlives any server write timeout; clearing it may not be
	// supported, and then the stream simply reconnects.
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	d.streams.Add(1)
	defer d.streams.Add(-1)
	rq := viewRequest{s: s, q: q, host: hostName(r.Host)}
	ctx := r.Context()
	stop := d.stopped()
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	var every <-chan time.Time
	if v.every > 0 {
		t := time.NewTicker(v.every)
		defer t.Stop()
		every = t.C
	}
	var last []byte
	for {
		// Take the wake-up channels before rendering, so a change during
		// the render is not missed.
		var cloudWake, kubeWake <-chan struct{}
		if v.cloud {
			cloudWake = d.cloudChg.wait()
		}
		if v.registry {
			kubeWake = d.kubeChg.wait()
		}
		if d.sessions.get(s.id) == nil || s.expired(d.clock.Now()) {
			_, _ = fmt.Fprint(w, "event: expired\ndata: \n\n")
			_ = rc.Flush()
			return
		}
		rendered := time.Now()
		frag, err := d.renderLive(ctx, v, rq)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, errSessionExpired) {
				d.sessions.remove(s.id)
				continue
			}
			d.log.Error("render live region", "view", v.Name, "err", err)
			return
		}
		if !bytes.Equal(frag, last) {
			if err := writeEvent(w, "fragment", frag); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			last = frag
		}
	wait:
		for {
			select {
			case <-ctx.Done():
				return
			case <-stop:
				return
			case <-cloudWake:
				break wait
			case <-kubeWake:
				break wait
			case <-every:
				break wait
			case <-beat.C:
				if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
					return
				}
				if err := rc.Flush(); err != nil {
					return
				}
			}
		}
		// Coalesce: at most one render per minRefresh.
		if wait := minRefresh - time.Since(rendered); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-stop:
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}

// renderLive loads a view's data and renders its live region.
func (d *Dashboard) renderLive(ctx context.Context, v *view, rq viewRequest) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	pd := d.basePage(rq.s, v.Name, v.Title)
	data, err := v.load(ctx, rq)
	if errors.Is(err, errSessionExpired) || (err != nil && ctx.Err() != nil) {
		return nil, err
	}
	if err != nil {
		pd.Err = d.loadError(v, rq.s, err)
	}
	pd.Data = data
	return execute(d.pages.m[v.Name], "live", pd)
}

// writeEvent writes one server-sent event; each line of data becomes a
// "data:" line, as the format requires.
func writeEvent(w http.ResponseWriter, name string, data []byte) error {
	var b bytes.Buffer
	b.WriteString("event: ")
	b.WriteString(name)
	b.WriteByte('\n')
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		b.WriteString("data: ")
		b.Write(bytes.TrimSuffix(line, []byte("\r")))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}
