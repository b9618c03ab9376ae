package stratustest_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/testenv"

	"github.com/apache/cloudstack-go/v2/cloudstack"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/stratus-cloud/stratus/stratustest"
)

func configMapNames(t *testing.T, kc kubernetes.Interface) []string {
	t.Helper()
	l, err := kc.CoreV1().ConfigMaps("").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, cm := range l.Items {
		names = append(names, cm.Namespace+"/"+cm.Name)
	}
	sort.Strings(names)
	return names
}

// TestReset: a reset takes every API back to the seeded state at once; a
// raw watch gets 410 Expired, and a client-go informer running across it
// relists and sees the seeded state.
func TestReset(t *testing.T) {
	s := stratustest.Start(t)
	ctx := context.Background()
	kc := kubernetes.NewForConfigOrDie(s.KubeConfig)
	seeded := configMapNames(t, kc)

	f := informers.NewSharedInformerFactory(kc, 0)
	inf := f.Core().V1().ConfigMaps().Informer()
	var mu sync.Mutex
	deletes := 0
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: func(any) { mu.Lock(); deletes++; mu.Unlock() }})
	stop := make(chan struct{})
	defer close(stop)
	f.Start(stop)
	cache.WaitForCacheSync(stop, inf.HasSynced)

	for i := range 20 {
		if _, err := kc.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("made-", i)}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cs := cloudstack.NewClient(s.CloudStack.URL, s.CloudStack.APIKey, s.CloudStack.SecretKey, false)
	if _, err := cs.SSH.CreateSSHKeyPair(cs.SSH.NewCreateSSHKeyPairParams("made")); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "the informer to see the new config maps", func() bool { return len(inf.GetStore().ListKeys()) == len(seeded)+20 })
	l, err := kc.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := kc.CoreV1().ConfigMaps("").Watch(ctx, metav1.ListOptions{ResourceVersion: l.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	t0 := time.Now()
	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	took := time.Since(t0)
	t.Logf("reset took %v", took)
	if took > 50*time.Millisecond {
		t.Errorf("reset took %v, want ≤ 50 ms", took)
	}

	// Every API answers from the seeded state at once.
	if got := configMapNames(t, kc); fmt.Sprint(got) != fmt.Sprint(seeded) {
		t.Fatalf("config maps after reset: %v, want the seeded %v", got, seeded)
	}
	kps, err := cs.SSH.ListSSHKeyPairs(cs.SSH.NewListSSHKeyPairsParams())
	if err != nil || kps.Count != 0 {
		t.Fatalf("key pairs after reset: %v %+v", err, kps)
	}
	// The watch ends with 410 Expired, as the real API says it.
	select {
	case ev, ok := <-w.ResultChan():
		if !ok || ev.Type != watch.Error {
			t.Fatalf("watch across a reset: %v %v, want an ERROR event", ev.Type, ok)
		}
		st, _ := ev.Object.(*metav1.Status)
		if st == nil || st.Code != http.StatusGone || st.Reason != metav1.StatusReasonExpired {
			t.Fatalf("watch error across a reset: %+v, want 410 Expired", ev.Object)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event on a watch across a reset")
	}
	// The informer relisted: its store is the seeded state, and its
	// handler was told each object the reset removed.
	testenv.Eventually(t, 30*time.Second, "the informer to relist", func() bool {
		keys := inf.GetStore().ListKeys()
		sort.Strings(keys)
		mu.Lock()
		defer mu.Unlock()
		return fmt.Sprint(keys) == fmt.Sprint(seeded) && deletes == 20
	})
}

// TestSnapshotTenThousand saves and restores 10,000 objects: each within
// 200 ms, and every object identical after.
func TestSnapshotTenThousand(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 500
	}
	s := stratustest.Start(t)
	ctx := context.Background()
	kc := kubernetes.NewForConfigOrDie(s.KubeConfig)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("cm-", i), Labels: map[string]string{"i": fmt.Sprint(i)}},
					Data: map[string]string{"value": fmt.Sprint(i * i)}}
				if _, err := kc.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	snapshotOf := func() map[string]string {
		l, err := kc.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, cm := range l.Items {
			m[cm.Namespace+"/"+cm.Name] = fmt.Sprint(cm.UID, cm.Labels, cm.Data, cm.CreationTimestamp.Unix())
		}
		return m
	}
	before := snapshotOf()

	t0 := time.Now()
	if err := s.SaveSnapshot(ctx, "ten-thousand"); err != nil {
		t.Fatal(err)
	}
	save := time.Since(t0)
	// Change the state: delete some, change some, add some.
	for i := 0; i < 100; i++ {
		if err := kc.CoreV1().ConfigMaps("default").Delete(ctx, fmt.Sprint("cm-", i), metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := kc.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("extra-", i)}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	t0 = time.Now()
	if err := s.RestoreSnapshot(ctx, "ten-thousand"); err != nil {
		t.Fatal(err)
	}
	restore := time.Since(t0)
	t.Logf("%d objects: save %v, restore %v", len(before), save, restore)
	after := snapshotOf()
	if len(after) != len(before) {
		t.Fatalf("after restore: %d config maps, want %d", len(after), len(before))
	}
	for k, v := range before {
		if after[k] != v {
			t.Fatalf("%s after restore: %q, want %q", k, after[k], v)
		}
	}
	if !testing.Short() && (save > 200*time.Millisecond || restore > 200*time.Millisecond) {
		t.Errorf("save %v, restore %v: want each ≤ 200 ms", save, restore)
	}
}
