package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stratus-cloud/stratus/internal/store/memory"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// startInternal starts a server on a memory store, with a small watch cache.
func startInternal(t *testing.T, mo memory.Options, capacity int, idle time.Duration) *Server {
	t.Helper()
	mem := memory.New(mo)
	t.Cleanup(func() { mem.Close() })
	s, err := New(Options{Store: mem, DataDir: t.TempDir(), Addr: "127.0.0.1:0", Log: testenv.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	s.watchCaches.capacity, s.watchCaches.idle = capacity, idle
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Stop(ctx)
	})
	return s
}

// gatedWriter is a ResponseWriter whose writes block while the gate is
// shut: a client that stops reading.
type gatedWriter struct {
	header http.Header
	mu     sync.Mutex
	cond   *sync.Cond
	shut   bool
	buf    bytes.Buffer
	code   int
}

func newGatedWriter() *gatedWriter {
	g := &gatedWriter{header: http.Header{}}
	g.cond = sync.NewCond(&g.mu)
	return g
}

func (g *gatedWriter) Header() http.Header { return g.header }
func (g *gatedWriter) WriteHeader(code int) {
	g.mu.Lock()
	g.code = code
	g.cond.Broadcast()
	g.mu.Unlock()
}
func (g *gatedWriter) Flush() {}
func (g *gatedWriter) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.shut {
		g.cond.Wait()
	}
	g.buf.Write(p)
	g.cond.Broadcast()
	return len(p), nil
}

// waitHeader waits for the response header: the stream is established.
func (g *gatedWriter) waitHeader() {
	g.mu.Lock()
	for g.code == 0 {
		g.cond.Wait()
	}
	g.mu.Unlock()
}

func (g *gatedWriter) setShut(shut bool) {
	g.mu.Lock()
	g.shut = shut
	g.cond.Broadcast()
	g.mu.Unlock()
}

// waitFor waits until the complete lines written so far (at least one)
// satisfy ok; a line still being written does not count.
func (g *gatedWriter) waitFor(t *testing.T, ok func([]string) bool) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		g.mu.Lock()
		written := g.buf.String()
		g.mu.Unlock()
		if end := strings.LastIndexByte(written, '\n'); end >= 0 {
			if lines := strings.Split(written[:end], "\n"); ok(lines) {
				return lines
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream never got there; %d bytes, ending %.200q", len(written), written[max(0, len(written)-200):])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func createPod(t *testing.T, s *Server, name string) string {
	t.Helper()
	body := fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":%q},"spec":{"containers":[{"name":"c","image":"nginx"}]}}`, name)
	req := httptest.NewRequest(http.MethodPost, "/api/v1/namespaces/default/pods", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.AdminToken())
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create %s: %d %s", name, rec.Code, rec.Body.String())
	}
	var p corev1.Pod
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	return p.ResourceVersion
}

type lineEvent struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

func parseLines(t *testing.T, lines []string) (types, names []string) {
	t.Helper()
	for _, l := range lines {
		if l == "" {
			continue
		}
		var ev lineEvent
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		var m struct {
			metav1.TypeMeta
			Metadata metav1.ObjectMeta `json:"metadata"`
			Message  string            `json:"message"`
		}
		_ = json.Unmarshal(ev.Object, &m)
		types = append(types, ev.Type)
		names = append(names, m.Metadata.Name+m.Message)
	}
	return types, names
}

// TestWatchFallsBehindCache: a stream that stops reading while more than
// the cache holds happens reads the store to catch up, and gets every event
// once, in order; when the store no longer has them either, it gets 410.
// Never a gap.
func TestWatchFallsBehindCache(t *testing.T) {
	for _, tc := range []struct {
		name         string
		historyLimit int
		// mayBeGone: 410 is expected, but on a loaded machine the cache's
		// own store watcher may fall out of the short history first; the
		// stream then reads the store from early on, and its store watcher
		// may have taken every event before they were trimmed.
		mayBeGone bool
	}{
		{name: "store-still-has-them", historyLimit: 0},
		// The store keeps about 40 events: far fewer than the stream
		// misses, usually enough for the cache's own store watcher.
		{name: "store-lost-them", historyLimit: 40, mayBeGone: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startInternal(t, memory.Options{HistoryLimit: tc.historyLimit}, 4, time.Minute)
			rv := createPod(t, s, "first")
			g := newGatedWriter()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/api/v1/namespaces/default/pods?watch=true&resourceVersion="+rv, nil)
			req.Header.Set("Authorization", "Bearer "+s.AdminToken())
			done := make(chan struct{})
			go func() {
				defer close(done)
				s.Handler().ServeHTTP(g, req)
			}()
			g.waitHeader()
			createPod(t, s, "p-000")
			g.waitFor(t, func(l []string) bool { return strings.Contains(strings.Join(l, ""), "p-000") })
			g.setShut(true)
			const n = 200
			var last string
			for i := 1; i < n; i++ {
				last = createPod(t, s, fmt.Sprintf("p-%03d", i))
			}
			// Only once the cache has all of them has its ring surely
			// moved past the stream (until then they may still be on
			// their way, and the stream would not fall behind).
			waitCacheRev(t, s, "pods", last)
			g.setShut(false)
			lines := g.waitFor(t, func(l []string) bool {
				last := l[len(l)-1]
				return strings.Contains(last, `"ERROR"`) || strings.Contains(last, fmt.Sprintf("p-%03d", n-1))
			})
			if last := lines[len(lines)-1]; strings.Contains(last, `"ERROR"`) {
				if !tc.mayBeGone || !strings.Contains(last, `"code":410`) || !strings.Contains(last, "too old resource version") {
					t.Fatalf("last line %q", last)
				}
				select {
				case <-done:
				case <-time.After(5 * time.Second):
					t.Fatal("the stream did not end after 410")
				}
				return
			}
			types, names := parseLines(t, lines)
			var want []string
			for i := range n {
				want = append(want, fmt.Sprintf("p-%03d", i))
			}
			if strings.Join(names, ",") != strings.Join(want, ",") {
				t.Fatalf("got %v", names)
			}
			for _, typ := range types {
				if typ != "ADDED" {
					t.Fatalf("types %v", types)
				}
			}
			// Caught up, the stream is served by the cache again.
			createPod(t, s, "last")
			g.waitFor(t, func(l []string) bool { return strings.Contains(l[len(l)-1], `"last"`) })
		})
	}
}

// waitCacheRev waits until the resource's cache has reached revision rev,
// or is gone: with a short store history its own store watcher may fall
// out of it on a loaded machine (even before this is called), and then
// every stream on it reads the store, which is as far behind as the test
// needs. The stream under test holds the cache, so no other one replaces
// it.
func waitCacheRev(t *testing.T, s *Server, resource, rev string) {
	t.Helper()
	res := s.reg.Lookup("", "v1", resource)
	want, err := strconv.ParseInt(rev, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.watchCaches.mu.Lock()
		c := s.watchCaches.m[res]
		s.watchCaches.mu.Unlock()
		if c == nil {
			return // stopped
		}
		c.mu.RLock()
		got, stopped := c.rev, c.stopped
		c.mu.RUnlock()
		if got >= want || stopped {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the %s cache never reached revision %s", resource, rev)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestWatchCacheLifecycle: a cache starts with the first stream, outlives
// the last one by its idle time, and stops with the server; streams end
// when the server stops.
func TestWatchCacheLifecycle(t *testing.T) {
	s := startInternal(t, memory.Options{}, 0, 200*time.Millisecond)
	// The pods cache only: the server's own informers (RBAC's) keep
	// caches of their kinds.
	caches := func() int {
		s.watchCaches.mu.Lock()
		defer s.watchCaches.mu.Unlock()
		n := 0
		for r := range s.watchCaches.m {
			if r.Name == "pods" {
				n++
			}
		}
		return n
	}
	watch := func(ctx context.Context) (*gatedWriter, chan struct{}) {
		g := newGatedWriter()
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/api/v1/pods?watch=true", nil)
		req.Header.Set("Authorization", "Bearer "+s.AdminToken())
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.Handler().ServeHTTP(g, req)
		}()
		g.waitHeader()
		return g, done
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, done := watch(ctx)
	if caches() != 1 {
		t.Fatalf("%d caches with one stream", caches())
	}
	cancel()
	<-done
	deadline := time.Now().Add(5 * time.Second)
	for caches() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("idle cache never stopped")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A new stream starts a new cache; Stop ends it and the stream.
	g, done := watch(context.Background())
	createPod(t, s, "seen")
	g.waitFor(t, func(l []string) bool { return strings.Contains(strings.Join(l, ""), `"seen"`) })
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	if err := s.Stop(ctx2); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("stream outlived Stop")
	}
	if caches() != 0 {
		t.Fatalf("%d caches after Stop", caches())
	}
}

// TestWatchCacheRing: the ring keeps whole revisions and about its
// capacity, and refuses reads from before it.
func TestWatchCacheRing(t *testing.T) {
	s := startInternal(t, memory.Options{}, 4, time.Minute)
	res := s.reg.Lookup("", "v1", "pods")
	c := s.acquireWatchCache(res)
	if c == nil {
		t.Fatal("no cache")
	}
	defer c.release()
	c.mu.RLock()
	start := c.oldest
	c.mu.RUnlock()
	var revs []string
	for i := range 12 {
		revs = append(revs, createPod(t, s, fmt.Sprintf("r-%02d", i)))
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.RLock()
		got := c.rev
		c.mu.RUnlock()
		if fmt.Sprint(got) == revs[len(revs)-1] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("cache never caught up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, ok := c.read(start+1, nil); ok {
		t.Fatal("read from before the ring succeeded")
	}
	c.mu.RLock()
	n, oldest := len(c.events), c.oldest
	c.mu.RUnlock()
	if n < 4 || n > 5 {
		t.Fatalf("ring holds %d events", n)
	}
	r, ok := c.read(oldest+1, nil)
	if !ok || len(r.events) != n || fmt.Sprint(r.upTo) != revs[len(revs)-1] {
		t.Fatalf("read from the ring's start: ok %v, %d events, up to %d", ok, len(r.events), r.upTo)
	}
	select {
	case <-r.wake:
		t.Fatal("wake channel closed with nothing new")
	default:
	}
	r, ok = c.read(r.upTo+1, nil)
	if !ok || len(r.events) != 0 {
		t.Fatalf("read at the end: %v %d", ok, len(r.events))
	}
}
