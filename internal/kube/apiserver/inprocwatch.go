package apiserver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/stratus-cloud/stratus/internal/kube/registry"
)

// ListerWatcher returns a client-go ListerWatcher of one resource (every
// namespace) that reads this server in the process, for an informer of the
// same process. Its lists and watch events carry the server's own decoded
// objects, which the server's caches hold anyway: through the loopback
// client each event was encoded to protobuf, framed, decoded again and held
// a second time (at 10,000 pods about 5 KB a pod and a tenth of the CPU of
// a scale). The objects are shared, so they must never be modified (an
// informer's contract already; a transform that changes objects must copy
// them first). Lists and watches behave as through the API (resource
// versions, selectors, watch-lists, bookmarks, 410 Gone), as the admin,
// without authorization or request metrics.
func (s *Server) ListerWatcher(group, version, resource string) (*cache.ListWatch, error) {
	res := s.reg.Lookup(group, version, resource)
	if res == nil {
		return nil, fmt.Errorf("apiserver: no resource %q in %s/%s", resource, group, version)
	}
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return s.listObjects(ctx, res, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			return s.watchObjects(ctx, res, opts)
		},
	}, nil
}

// listObjects is serveList's answer as an object.
func (s *Server) listObjects(ctx context.Context, res *registry.Resource, opts metav1.ListOptions) (runtime.Object, error) {
	opts.Limit = max(opts.Limit, 0)
	pred, err := predicateOf(res, opts)
	if err != nil {
		return nil, err
	}
	exact, err := s.checkListRV(ctx, opts)
	if err != nil {
		return nil, err
	}
	lr, err := s.storage.ListAt(ctx, res, "", pred, opts.Limit, opts.Continue, exact)
	if err != nil {
		return nil, err
	}
	list := res.NewList()
	if err := meta.SetList(list, lr.Items); err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	lm, _ := meta.ListAccessor(list)
	lm.SetResourceVersion(strconv.FormatInt(lr.Rev, 10))
	lm.SetContinue(lr.Continue)
	lm.SetRemainingItemCount(lr.RemainingItemCount)
	list.GetObjectKind().SetGroupVersionKind(res.GVK().GroupVersion().WithKind(res.ListKind))
	return list, nil
}

// watchObjects is serveWatch's stream as a watch.Interface.
func (s *Server) watchObjects(ctx context.Context, res *registry.Resource, opts metav1.ListOptions) (watch.Interface, error) {
	pred, err := predicateOf(res, opts)
	if err != nil {
		return nil, err
	}
	timeout := time.Duration(1800+rand.IntN(1800)) * time.Second
	if opts.TimeoutSeconds != nil && *opts.TimeoutSeconds > 0 {
		timeout = time.Duration(*opts.TimeoutSeconds) * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	stop := context.AfterFunc(s.base, cancel)
	start, err := s.startWatch(ctx, res, "", opts, pred)
	if err != nil {
		stop()
		cancel()
		return nil, err
	}
	ch := make(chan watch.Event, objectWatchBuffer)
	go func() {
		defer close(ch)
		defer cancel()
		defer stop()
		s.runWatch(ctx, res, "", pred, start, &objectSink{ctx: ctx, ch: ch, res: res})
	}()
	return &objectWatch{ch: ch, cancel: cancel}, nil
}

// objectWatchBuffer is how many events an in-process watch may have sent
// ahead of its reader.
const objectWatchBuffer = 256

// objectWatch is an in-process watch; Stop ends its stream.
type objectWatch struct {
	ch     chan watch.Event
	cancel context.CancelFunc
}

func (w *objectWatch) Stop()                          { w.cancel() }
func (w *objectWatch) ResultChan() <-chan watch.Event { return w.ch }

// objectSink hands a watch's events, as the shared objects, to an
// in-process reader.
type objectSink struct {
	ctx context.Context
	ch  chan<- watch.Event
	res *registry.Resource
}

var _ watchSink = (*objectSink)(nil)

func (o *objectSink) put(typ watch.EventType, obj runtime.Object) error {
	select {
	case o.ch <- watch.Event{Type: typ, Object: obj}:
		return nil
	case <-o.ctx.Done():
		return o.ctx.Err()
	}
}

func (o *objectSink) send(ev *watchEvent, typ int) error {
	return o.put(watch.EventType(evTypeNames[typ]), ev.obj)
}

func (o *objectSink) event(typ string, obj runtime.Object, _ bool) error {
	return o.put(watch.EventType(typ), obj)
}

func (o *objectSink) bookmark(rev int64, end bool) error {
	return o.put(watch.Bookmark, bookmarkObject(o.res, rev, end))
}

func (o *objectSink) errorEvent(err error) { _ = o.put(watch.Error, watchErrorStatus(err)) }

func (o *objectSink) flush() {}
