package backend

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/etcd/etcdtest"
	"github.com/stratus-cloud/stratus/internal/store/memory"
	"github.com/stratus-cloud/stratus/internal/store/storetest"
)

var shared etcdtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Stop()
	os.Exit(code)
}

func TestOpenBadSpecs(t *testing.T) {
	ctx := context.Background()
	for spec, want := range map[string]string{
		"mongodb":              "unknown store",
		"etcd://":              "no etcd hosts",
		"etcd://host":          "not host:port",
		"etcd://h:1,,h:2":      "not host:port",
		"etcd://:2379":         "not host:port",
		"Bolt":                 "unknown store",
		"memory://":            "unknown store",
		"http://127.0.0.1:1/x": "unknown store",
	} {
		s, err := Open(ctx, spec, t.TempDir(), nil)
		if err == nil {
			_ = s.Close()
			t.Errorf("Open(%q) succeeded", spec)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q) = %v, want it to say %q", spec, err, want)
		}
	}
	if _, err := Open(ctx, "bolt", "", nil); err == nil {
		t.Error("bolt without a data dir opened")
	}
}

func TestParseEtcd(t *testing.T) {
	o, err := parseEtcd("etcd://h1:2379,10.0.0.2:2380/tenant")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.Endpoints, " ") != "http://h1:2379 http://10.0.0.2:2380" || o.Prefix != "/tenant" {
		t.Fatalf("%+v", o)
	}
}

func TestOpenBolt(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "new", "data")
	for _, spec := range []string{"bolt", ""} {
		s, err := Open(ctx, spec, dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Txn(ctx, store.Put("/k/"+spec, nil)); err != nil {
			t.Fatal(err)
		}
		_ = s.Close()
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}
	// A data dir that is a file.
	file := filepath.Join(t.TempDir(), "f")
	_ = os.WriteFile(file, nil, 0o600)
	if _, err := Open(ctx, "bolt", file, nil); err == nil {
		t.Fatal("opened a data dir that is a file")
	}
}

func TestOpenMemory(t *testing.T) {
	s, err := Open(context.Background(), "memory", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Txn(context.Background(), store.Put("/a", nil)); err != nil {
		t.Fatal(err)
	}
}

func TestOpenEtcd(t *testing.T) {
	srv := shared.Get(t)
	spec := "etcd://" + strings.TrimPrefix(srv.Endpoints[0], "http://") + "/backendtest"
	s, err := Open(context.Background(), spec, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.Txn(context.Background(), store.Put("/a", []byte("x")))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := s.Get(context.Background(), "/a")
	if err != nil || kv.ModRev != r.Rev {
		t.Fatalf("%+v, %v", kv, err)
	}
}

func TestInstrumentConformance(t *testing.T) {
	reg := prometheus.NewRegistry()
	storetest.Run(t, func(t *testing.T) store.Store {
		return Instrument(memory.New(memory.Options{ProgressInterval: 50e6}), reg)
	})
}

func TestInstrumentMetrics(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	s := Instrument(memory.New(memory.Options{}), reg)
	defer s.Close()
	// A second wrapper shares the collectors instead of failing.
	s2 := Instrument(memory.New(memory.Options{}), reg)
	defer s2.Close()
	for range 3 {
		if _, err := s.Txn(ctx, store.Put("/a", nil)); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = s.Get(ctx, "/a")
	_, _ = s2.Get(ctx, "/a")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	var revision float64
	for _, mf := range mfs {
		switch mf.GetName() {
		case "stratus_store_revision":
			revision = mf.GetMetric()[0].GetGauge().GetValue()
		case "stratus_store_operation_duration_seconds":
			for _, m := range mf.GetMetric() {
				counts[m.GetLabel()[0].GetValue()] = m.GetHistogram().GetSampleCount()
			}
		}
	}
	if revision != 3 {
		t.Errorf("stratus_store_revision = %v, want 3", revision)
	}
	if len(counts) != 7 || counts["txn"] != 3 || counts["get"] != 2 || counts["list"] != 0 {
		t.Errorf("operation counts = %v", counts)
	}
}

func TestInstrumentAllocs(t *testing.T) {
	ctx := context.Background()
	raw := memory.New(memory.Options{})
	defer raw.Close()
	if _, err := raw.Txn(ctx, store.Put("/a", []byte("x"))); err != nil {
		t.Fatal(err)
	}
	s := Instrument(raw, prometheus.NewRegistry())
	base := testing.AllocsPerRun(200, func() { _, _ = raw.Get(ctx, "/a") })
	got := testing.AllocsPerRun(200, func() { _, _ = s.Get(ctx, "/a") })
	if got > base {
		t.Fatalf("instrumented Get allocates %v per call, raw %v", got, base)
	}
}
