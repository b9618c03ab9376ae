package instance

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/stratus-cloud/stratus/internal/cloud"
	"github.com/stratus-cloud/stratus/internal/snapshot"
	"github.com/stratus-cloud/stratus/internal/store"
)

// The admin API (/stratus/v1/) resets the instance and keeps snapshots of
// its whole state. It takes the bearer token in the data dir's
// "admin-token" file (mode 0600, new at each start): whoever can read the
// data dir is the instance's administrator.
const adminPrefix = "/stratus/v1/"

// admin is the state behind the admin API.
type admin struct {
	token     string
	tokenFile string
	snaps     snapshot.Dir
	seed      snapshot.Dir
	// mu makes resets, saves and restores one at a time.
	mu sync.Mutex
}

// seedName is the snapshot a fresh data dir takes once first up; a reset
// restores it.
const seedName = "seed"

func newAdmin(dataDir string) (*admin, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	a := &admin{token: hex.EncodeToString(b), tokenFile: dataDir + "/admin-token",
		snaps: snapshot.Dir{Path: dataDir + "/snapshots"}, seed: snapshot.Dir{Path: dataDir + "/seed"}}
	if err := os.WriteFile(a.tokenFile, []byte(a.token+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("admin token: %w", err)
	}
	return a, nil
}

// keepKey: keys a restore leaves alone. The network slot stays the one
// this instance holds; the faults are cleared (and the key written) apart.
func keepKey(key string) bool { return key == netSlotKey || key == faultsKey }

// Reset puts every API back to the state of a fresh data dir (the seed
// snapshot taken when it first came up), without a restart.
func (in *Instance) Reset(ctx context.Context) (RestoreResult, error) {
	in.admin.mu.Lock()
	defer in.admin.mu.Unlock()
	s, err := in.admin.seed.Load(seedName)
	if errors.Is(err, snapshot.ErrNotFound) {
		return RestoreResult{}, errors.New("this data dir has no seed snapshot (it was created by a stratus without reset); start from a fresh data dir")
	}
	if err != nil {
		return RestoreResult{}, err
	}
	in.clearFaults(ctx) // the simulator's go with the store's state
	return in.restore(ctx, s)
}

// SaveSnapshot saves the whole state under name.
func (in *Instance) SaveSnapshot(ctx context.Context, name string) (SaveResult, error) {
	in.admin.mu.Lock()
	defer in.admin.mu.Unlock()
	t0 := time.Now()
	s, err := snapshot.Take(ctx, in.store, keepKey)
	if err != nil {
		return SaveResult{}, err
	}
	if err := in.admin.snaps.Save(name, s); err != nil {
		return SaveResult{}, err
	}
	return SaveResult{Name: name, Objects: len(s.KVs), Revision: s.Rev, Took: time.Since(t0).String()}, nil
}

// RestoreSnapshot puts the whole state back to the snapshot called name.
func (in *Instance) RestoreSnapshot(ctx context.Context, name string) (RestoreResult, error) {
	in.admin.mu.Lock()
	defer in.admin.mu.Unlock()
	s, err := in.admin.snaps.Load(name)
	if err != nil {
		return RestoreResult{}, err
	}
	in.clearFaults(ctx)
	return in.restore(ctx, s)
}

// Snapshots lists the saved snapshots.
func (in *Instance) Snapshots() ([]snapshot.Info, error) { return in.admin.snaps.List() }

// RemoveSnapshot deletes a saved snapshot.
func (in *Instance) RemoveSnapshot(name string) error { return in.admin.snaps.Remove(name) }

// SaveResult says what a save kept.
type SaveResult struct {
	Name     string `json:"name"`
	Objects  int    `json:"objects"`
	Revision int64  `json:"revision"`
	Took     string `json:"took"`
}

// RestoreResult says what a reset or restore did.
type RestoreResult struct {
	Objects  int    `json:"objects"`
	Revision int64  `json:"revision"`
	Took     string `json:"took"`
}

// restore ends the Kubernetes API's watches with 410 (as the real API
// after an etcd restore: clients relist), writes s into the store in one
// transaction, compacts the history before it (so no watcher can resume
// across the change) and waits until the cloud simulator has applied it, so every
// API answers from the restored state when this returns.
func (in *Instance) restore(ctx context.Context, s *snapshot.Snapshot) (RestoreResult, error) {
	t0 := time.Now()
	if in.w.kube != nil {
		in.w.kube.ExpireWatches()
	}
	// The restore's writes are conditional on what it read; a part that
	// writes meanwhile (a node's heartbeat, a controller) makes it read
	// again and retry.
	var rev int64
	var cloudTouched bool
	var err error
	for attempt := 1; ; attempt++ {
		rev, cloudTouched, err = snapshot.RestoreTouching(ctx, in.store, s, keepKey, cloud.KeyPrefix)
		if err == nil || !errors.Is(err, store.ErrConflict) || attempt == 10 {
			break
		}
	}
	if err != nil {
		return RestoreResult{}, err
	}
	if err := in.store.Compact(ctx, rev); err != nil {
		return RestoreResult{}, fmt.Errorf("compact after restore: %w", err)
	}
	if in.w.sim != nil {
		// Not Sync alone: a restore leaves unchanged keys alone, the
		// simulator's last-write marker among them, whose revision may then
		// predate the restore's.
		sync := in.w.sim.Sync
		if cloudTouched {
			sync = func(ctx context.Context) error { return in.w.sim.SyncRev(ctx, rev) }
		}
		if err := sync(ctx); err != nil {
			return RestoreResult{}, fmt.Errorf("cloud after restore: %w", err)
		}
	}
	return RestoreResult{Objects: len(s.KVs), Revision: rev, Took: time.Since(t0).String()}, nil
}

// saveSeed keeps the state of a fresh data dir, for Reset. It first
// lets the controllers publish the cluster's root CA in every namespace
// (at most a couple of seconds): what a reset goes back to must hold it,
// or a reset would take it away until the publisher put it back.
func (in *Instance) saveSeed(ctx context.Context) error {
	if in.w.kube != nil {
		in.waitRootCA(ctx, 2*time.Second)
	}
	s, err := snapshot.Take(ctx, in.store, keepKey)
	if err != nil {
		return err
	}
	return in.admin.seed.Save(seedName, s)
}

// adminHandler serves /stratus/v1/.
func (in *Instance) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+adminPrefix+"reset", func(w http.ResponseWriter, r *http.Request) {
		res, err := in.Reset(r.Context())
		adminReply(w, http.StatusOK, res, err)
	})
	mux.HandleFunc("GET "+adminPrefix+"snapshots", func(w http.ResponseWriter, r *http.Request) {
		l, err := in.Snapshots()
		adminReply(w, http.StatusOK, map[string]any{"snapshots": nonNil(l)}, err)
	})
	mux.HandleFunc("PUT "+adminPrefix+"snapshots/{name}", func(w http.ResponseWriter, r *http.Request) {
		res, err := in.SaveSnapshot(r.Context(), r.PathValue("name"))
		adminReply(w, http.StatusCreated, res, err)
	})
	mux.HandleFunc("POST "+adminPrefix+"snapshots/{name}/restore", func(w http.ResponseWriter, r *http.Request) {
		res, err := in.RestoreSnapshot(r.Context(), r.PathValue("name"))
		adminReply(w, http.StatusOK, res, err)
	})
	mux.HandleFunc("DELETE "+adminPrefix+"snapshots/{name}", func(w http.ResponseWriter, r *http.Request) {
		err := in.RemoveSnapshot(r.PathValue("name"))
		adminReply(w, http.StatusNoContent, nil, err)
	})
	pprofRoutes(mux)
	mux.HandleFunc("POST "+adminPrefix+"apply", in.serveApply)
	in.serveFaults(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(in.admin.token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="stratus-admin"`)
			adminReply(w, 0, nil, errUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

var (
	errBadRequest  = errors.New("bad request")
	errInvalidSeed = errors.New("invalid seed file")
)

var errUnauthorized = errors.New("the admin API needs 'Authorization: Bearer <token>' with the token in the data dir's admin-token file")

func nonNil(l []snapshot.Info) []snapshot.Info {
	if l == nil {
		return []snapshot.Info{}
	}
	return l
}

// adminReply writes v with status ok, or err as {"error": …} with the
// status it calls for.
func adminReply(w http.ResponseWriter, ok int, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		code := http.StatusInternalServerError
		switch {
		case errors.Is(err, errUnauthorized):
			code = http.StatusUnauthorized
		case errors.Is(err, snapshot.ErrNotFound), errors.Is(err, errNoFault):
			code = http.StatusNotFound
		case errors.Is(err, errInvalidSeed):
			code = http.StatusUnprocessableEntity
		case errors.Is(err, snapshot.ErrBadName), errors.Is(err, errBadRequest), errors.Is(err, errBadFault):
			code = http.StatusBadRequest
		}
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	if ok == http.StatusNoContent {
		w.WriteHeader(ok)
		return
	}
	w.WriteHeader(ok)
	_ = json.NewEncoder(w).Encode(v)
}

// waitRootCA waits until every namespace has the kube-root-ca.crt
// ConfigMap, or for at most limit.
func (in *Instance) waitRootCA(ctx context.Context, limit time.Duration) {
	kc, err := kubernetes.NewForConfig(in.w.kube.LoopbackConfig())
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		ns, err1 := kc.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		cms, err2 := kc.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=kube-root-ca.crt"})
		if err1 == nil && err2 == nil && len(cms.Items) >= len(ns.Items) {
			return
		}
		select {
		case <-ctx.Done():
			in.w.log.Debug("the root CA is not in every namespace yet; the seed is taken without it")
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}
