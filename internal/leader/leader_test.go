package leader

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/testenv"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/stratus-cloud/stratus/internal/app"
)

// counter is a component that records whether it runs.
type counter struct {
	running atomic.Int32
	starts  atomic.Int32
}

func (c *counter) component() app.Component {
	return app.Func{
		N:       "controllers",
		StartFn: func(context.Context) error { c.running.Add(1); c.starts.Add(1); return nil },
		StopFn:  func(context.Context) error { c.running.Add(-1); return nil },
	}
}

func TestOneLeaderAndFailover(t *testing.T) {
	client := fake.NewClientset()
	fast := Options{Client: client, LeaseDuration: time.Second, RenewDeadline: 500 * time.Millisecond, RetryPeriod: 50 * time.Millisecond}
	var ca, cb counter
	oa, ob := fast, fast
	oa.Identity, ob.Identity = "server-a", "server-b"
	a, b := New(oa, ca.component()), New(ob, cb.component())
	ctx := context.Background()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "a to lead", a.Leading)
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "b to see a as leader", b.Ready)
	if b.Leading() || cb.starts.Load() != 0 {
		t.Fatal("both servers run the controllers")
	}
	if !a.Ready() {
		t.Fatal("leader not ready")
	}
	// a stops cleanly and releases the lease: b takes over.
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if ca.running.Load() != 0 {
		t.Fatal("a's controllers still run after Stop")
	}
	testenv.Eventually(t, 10*time.Second, "b to lead", b.Leading)
	if cb.running.Load() != 1 {
		t.Fatalf("b runs %d copies", cb.running.Load())
	}
	b.Stop(ctx)
}

func TestRestartTakesOwnLeaseBack(t *testing.T) {
	client := fake.NewClientset()
	o := Options{Client: client, Identity: "server-a", LeaseDuration: time.Minute, RenewDeadline: 30 * time.Second, RetryPeriod: 50 * time.Millisecond}
	var c counter
	first := New(o, c.component())
	ctx := context.Background()
	if err := first.Start(ctx); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "first to lead", first.Leading)
	// A crash leaves the lease held for a minute; the same identity takes
	// it back at once.
	second := New(o, c.component())
	if err := second.Start(ctx); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "second (same identity) to lead", second.Leading)
	second.Stop(ctx)
	first.Stop(ctx)
}
