package gce

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-cloud/stratus/internal/app"
	"github.com/stratus-cloud/stratus/internal/httpserver"
	"github.com/stratus-cloud/stratus/internal/store"
)

// Serving is what a standalone gateway tells its caller once it listens.
type Serving struct {
	// URL is the gateway's base URL (http://127.0.0.1:8081).
	URL string
	// Token is the bearer token of the configured key pair, also written
	// to TokenFile; Project is its project.
	Token, Project, TokenFile string
}

// RunStandalone serves the gateway from cfg until ctx ends, in front of
// the CloudStack the config names, over HTTP. st is its store (the caller
// opens it in cfg.DataDir). ready, if set, is called once it listens.
// It runs as every stratus process does: the gateway and an HTTP front
// (with /healthz, /readyz and /metrics beside the API) in an app.Group.
func RunStandalone(ctx context.Context, cfg Config, st store.Store, log *slog.Logger, ready func(Serving)) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if log == nil {
		log = slog.Default()
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.InsecureSkipVerify {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the operator asked for it
	}
	reg := prometheus.NewRegistry()
	g := &app.Group{Log: log}
	front := httpserver.New(httpserver.Options{Addr: cfg.Addr(), Log: log, Registry: reg, Parts: g.Statuses})
	gw, err := New(Options{
		CloudStack: CloudStackConfig{URL: cfg.CloudStackURL(), APIKey: cfg.APIKey, SecretKey: cfg.SecretKey,
			HTTPClient: &http.Client{Transport: tr, Timeout: 60 * time.Second}},
		// Without a public URL, selfLinks follow each request's Host.
		Store: st, BaseURL: cfg.PublicURL, Log: log, Metrics: reg,
	})
	if err != nil {
		return err
	}
	tokCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	tok, project, err := gw.AdminToken(tokCtx)
	cancel()
	if err != nil {
		return fmt.Errorf("check the CloudStack key pair at %s: %w", cfg.CloudStackURL(), err)
	}
	tokFile := filepath.Join(cfg.DataDir, "gcloud-token")
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(tokFile, []byte(tok), 0o600); err != nil {
		return err
	}
	front.Handle("/", "gce", gw.Handler())
	g.Add(gw, front)
	return g.Run(ctx, func() {
		url := cfg.PublicURL
		if url == "" {
			url = front.URL()
		}
		log.Info("GCE gateway serving", "url", url, "cloudstack", cfg.CloudStackURL(), "project", project)
		if ready != nil {
			ready(Serving{URL: url, Token: tok, Project: project, TokenFile: tokFile})
		}
	})
}
