// Package backend turns a --store spec into a store.Store ("bolt",
// "memory", "etcd://h1:2379,h2:2379") and wraps a store with Prometheus
// metrics. It is the one place that knows every backend, so the CLI and
// tests wire stores the same way.
package backend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/bolt"
	"github.com/stratus-cloud/stratus/internal/store/etcd"
	"github.com/stratus-cloud/stratus/internal/store/memory"
)

// FileName is the bolt store's file inside the data dir.
const FileName = "stratus.db"

// Default is the spec used when none is given.
const Default = "bolt"

// Open opens the store named by spec:
//
//	bolt                          <dataDir>/stratus.db (the default; "" means bolt)
//	memory                        nothing on disk, gone at exit
//	etcd://h1:2379,h2:2379[/pfx]  an etcd cluster; keys under /pfx (default /stratus)
func Open(ctx context.Context, spec, dataDir string, log *slog.Logger) (store.Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "store")
	switch {
	case spec == "" || spec == "bolt":
		if dataDir == "" {
			return nil, errors.New("store bolt: no data dir")
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("store bolt: data dir: %w", err)
		}
		return bolt.Open(filepath.Join(dataDir, FileName), bolt.Options{Logger: log})
	case spec == "memory":
		log.Info("using the in-memory store: nothing is kept after exit")
		return memory.New(memory.Options{}), nil
	case strings.HasPrefix(spec, "etcd://"):
		opts, err := parseEtcd(spec)
		if err != nil {
			return nil, err
		}
		opts.Logger = log
		return etcd.New(ctx, opts)
	}
	return nil, fmt.Errorf("unknown store %q: want bolt, memory or etcd://host:port[,host:port...][/prefix]", spec)
}

func parseEtcd(spec string) (etcd.Options, error) {
	rest := strings.TrimPrefix(spec, "etcd://")
	hosts, prefix, _ := strings.Cut(rest, "/")
	if hosts == "" {
		return etcd.Options{}, fmt.Errorf("store %q: no etcd hosts", spec)
	}
	var opts etcd.Options
	for _, h := range strings.Split(hosts, ",") {
		host, port, err := net.SplitHostPort(h)
		if err != nil || host == "" || port == "" {
			return etcd.Options{}, fmt.Errorf("store %q: %q is not host:port", spec, h)
		}
		opts.Endpoints = append(opts.Endpoints, "http://"+h)
	}
	if prefix != "" {
		opts.Prefix = "/" + prefix
	}
	return opts, nil
}
