// Package leader runs a component on one stratus server at a time. Several
// servers may share one store (etcd); controllers must not act twice, so
// each server campaigns for a coordination.k8s.io Lease through the
// Kubernetes API and only the holder runs the wrapped component, as
// kube-controller-manager does. A server that loses the lease stops the
// component and campaigns again.
package leader

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/stratus-cloud/stratus/internal/app"
)

// Options configure an Elected component.
type Options struct {
	Client kubernetes.Interface
	// Namespace and Name of the Lease (default kube-system/stratus-controller-manager).
	Namespace, Name string
	// Identity names this server. Keep it stable across restarts of the
	// same server, so a restart takes its own lease back at once instead of
	// waiting for it to expire.
	Identity string
	// LeaseDuration, RenewDeadline, RetryPeriod: client-go's election
	// timings (defaults 15 s, 10 s, 2 s).
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	Log                                       *slog.Logger
}

// Elected runs Inner only while this server holds the lease. It is an
// app.Component and app.Readier.
type Elected struct {
	o     Options
	inner app.Component

	mu      sync.Mutex
	le      *leaderelection.LeaderElector
	leading bool
	running bool
	cancel  context.CancelFunc
	done    chan struct{}
	// starts counts OnStartedLeading callbacks in flight (client-go runs
	// them on goroutines of their own); Stop waits for them. stopping
	// keeps new ones from counting in once Stop waits.
	starts   sync.WaitGroup
	stopping bool
}

var (
	_ app.Component = (*Elected)(nil)
	_ app.Readier   = (*Elected)(nil)
)

// New wraps inner.
func New(o Options, inner app.Component) *Elected {
	if o.Namespace == "" {
		o.Namespace = "kube-system"
	}
	if o.Name == "" {
		o.Name = "stratus-controller-manager"
	}
	if o.LeaseDuration == 0 {
		o.LeaseDuration = 15 * time.Second
	}
	if o.RenewDeadline == 0 {
		o.RenewDeadline = 10 * time.Second
	}
	if o.RetryPeriod == 0 {
		o.RetryPeriod = 2 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	o.Log = o.Log.With("component", "leader-election", "lease", o.Namespace+"/"+o.Name)
	return &Elected{o: o, inner: inner}
}

// Name implements app.Component.
func (e *Elected) Name() string { return e.inner.Name() }

// Start begins campaigning; it returns at once (or with the first error).
func (e *Elected) Start(ctx context.Context) error {
	if e.o.Client == nil || e.o.Identity == "" {
		return errors.New("leader: Client and Identity are required")
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metaOf(e.o.Namespace, e.o.Name),
		Client:     e.o.Client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: e.o.Identity},
	}
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	e.mu.Lock()
	e.cancel, e.done = cancel, done
	e.mu.Unlock()
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   e.o.LeaseDuration,
		RenewDeadline:   e.o.RenewDeadline,
		RetryPeriod:     e.o.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            e.o.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) {
				e.mu.Lock()
				if e.stopping {
					e.mu.Unlock()
					return
				}
				e.starts.Add(1)
				e.mu.Unlock()
				defer e.starts.Done()
				e.o.Log.Info("leading: starting", "identity", e.o.Identity, "runs", e.inner.Name())
				if err := e.inner.Start(lctx); err != nil {
					e.o.Log.Error("start after winning the lease", "err", err)
					return
				}
				e.mu.Lock()
				if lctx.Err() != nil {
					// The lease was lost (or Stop came) while starting, and
					// OnStoppedLeading has run or will find nothing running:
					// stop what just started.
					e.mu.Unlock()
					stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					_ = e.inner.Stop(stopCtx)
					return
				}
				e.leading, e.running = true, true
				e.mu.Unlock()
			},
			OnStoppedLeading: func() {
				e.stopInner()
			},
		},
	})
	if err != nil {
		cancel()
		return err
	}
	e.mu.Lock()
	e.le = le
	e.mu.Unlock()
	go func() {
		defer close(done)
		// Run returns when the lease is lost or ctx ends; campaign again
		// until Stop.
		for cctx.Err() == nil {
			le.Run(cctx)
		}
	}()
	return nil
}

func (e *Elected) stopInner() {
	e.mu.Lock()
	running := e.running
	e.leading, e.running = false, false
	e.mu.Unlock()
	if !running {
		return
	}
	e.o.Log.Info("no longer leading: stopping", "runs", e.inner.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.inner.Stop(ctx); err != nil {
		e.o.Log.Error("stop after losing the lease", "err", err)
	}
}

// Stop stops campaigning, releases the lease and stops the inner component.
func (e *Elected) Stop(ctx context.Context) error {
	e.mu.Lock()
	cancel, done := e.cancel, e.done
	e.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	e.mu.Lock()
	e.stopping = true
	e.mu.Unlock()
	e.starts.Wait()
	e.stopInner()
	return nil
}

// Leading reports whether this server holds the lease now.
func (e *Elected) Leading() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leading
}

// Ready is the inner component's readiness while leading. A standby
// server is ready once it knows another server leads (it serves the APIs;
// the other runs the controllers); before any leader is known it is not.
func (e *Elected) Ready() bool {
	e.mu.Lock()
	leading, le := e.leading, e.le
	e.mu.Unlock()
	if !leading {
		if le == nil {
			return false
		}
		holder := le.GetLeader()
		return holder != "" && holder != e.o.Identity
	}
	if r, ok := e.inner.(app.Readier); ok {
		return r.Ready()
	}
	return true
}
