package compactor_test

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/compactor"
	"github.com/stratus-cloud/stratus/internal/store/memory"
)

func startCompactor(t *testing.T, st store.Store, every time.Duration) {
	t.Helper()
	c := compactor.New(compactor.Options{Store: st, Interval: every})
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
}

// waitCompacted polls until the store compacted past rev.
func waitCompacted(t *testing.T, st *memory.Engine, rev int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := st.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if s.CompactedRev > rev {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("compacted to %d, want past %d", s.CompactedRev, rev)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCompactsToThePreviousTick: each compaction removes the history up to
// the revision seen one interval before, so a watch from before it answers
// ErrCompacted and one from after it is served.
func TestCompactsToThePreviousTick(t *testing.T) {
	st := memory.New(memory.Options{})
	defer st.Close()
	ctx := context.Background()
	res, err := st.Txn(ctx, store.Put("/a", []byte("1")))
	if err != nil {
		t.Fatal(err)
	}
	first := res.Rev
	startCompactor(t, st, 10*time.Millisecond)
	for i := range 3 {
		if _, err := st.Txn(ctx, store.Put("/a", []byte(strconv.Itoa(i)))); err != nil {
			t.Fatal(err)
		}
	}
	waitCompacted(t, st, first)
	ch, err := st.Watch(ctx, "/", store.WatchOptions{Rev: first})
	if err != nil {
		t.Fatal(err)
	}
	if b := <-ch; b.Err != store.ErrCompacted {
		t.Fatalf("watch from a compacted revision: %+v, want ErrCompacted", b)
	}
}

func TestDisabled(t *testing.T) {
	st := memory.New(memory.Options{})
	defer st.Close()
	c := compactor.New(compactor.Options{Store: st, Interval: -1})
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// gatedLW lists and watches ConfigMaps through a real clientset, holding
// its first watch until the test lets it go.
type gatedLW struct {
	cs      kubernetes.Interface
	lists   atomic.Int32
	watches atomic.Int32
	asked   chan string   // the first watch's resourceVersion
	proceed chan struct{} // closed when the first watch may go on
}

func (l *gatedLW) List(opts metav1.ListOptions) (runtime.Object, error) {
	l.lists.Add(1)
	return l.cs.CoreV1().ConfigMaps("default").List(context.Background(), opts)
}

func (l *gatedLW) Watch(opts metav1.ListOptions) (watch.Interface, error) {
	if l.watches.Add(1) == 1 {
		l.asked <- opts.ResourceVersion
		<-l.proceed
	}
	return l.cs.CoreV1().ConfigMaps("default").Watch(context.Background(), opts)
}

// IsWatchListSemanticsUnSupported keeps the reflector on list-then-watch,
// the path whose 410 handling this test is about.
func (l *gatedLW) IsWatchListSemanticsUnSupported() bool { return true }

// TestWatchAcrossCompactionRelists: client-go's reflector lists, its watch
// from that list's resourceVersion reaches the server only after the
// compactor removed that history; the server answers 410 Gone ("too old
// resource version"), and the reflector lists again and ends with every
// object.
func TestWatchAcrossCompactionRelists(t *testing.T) {
	st := memory.New(memory.Options{})
	defer st.Close()
	srv := apiservertest.StartWith(t, apiservertest.Options{Store: st})
	cs, err := kubernetes.NewForConfig(apiservertest.RESTConfig(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mk := func(name string) {
		t.Helper()
		if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mk("before")
	startCompactor(t, st, 10*time.Millisecond)

	lw := &gatedLW{cs: cs, asked: make(chan string, 1), proceed: make(chan struct{})}
	got := cache.NewStore(cache.MetaNamespaceKeyFunc)
	r := cache.NewReflector(lw, &corev1.ConfigMap{}, got, 0)
	go r.Run(ctx.Done())

	var rv int64
	select {
	case s := <-lw.asked:
		if rv, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("watch resourceVersion %q: %v", s, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the reflector never watched")
	}
	for i := range 3 {
		mk(fmt.Sprintf("after-%d", i))
	}
	waitCompacted(t, st, rv)
	close(lw.proceed)

	deadline := time.Now().Add(10 * time.Second)
	for lw.lists.Load() < 2 || len(got.ListKeys()) != 4 {
		if time.Now().After(deadline) {
			t.Fatalf("lists %d, objects %v: want a relist and 4 objects", lw.lists.Load(), got.ListKeys())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
