package gce

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

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
func RunStandalone(ctx context.Context, cfg Config, st store.Store, log *slog.Logger, ready func(Serving)) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if log == nil {
		log = slog.Default()
	}
	l, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return err
	}
	base := cfg.PublicURL
	if base == "" {
		base = "http://" + l.Addr().String()
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.InsecureSkipVerify {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the operator asked for it
	}
	gw, err := New(Options{
		CloudStack: CloudStackConfig{URL: cfg.CloudStackURL(), APIKey: cfg.APIKey, SecretKey: cfg.SecretKey,
			HTTPClient: &http.Client{Transport: tr, Timeout: 60 * time.Second}},
		Store: st, BaseURL: base, Log: log,
	})
	if err != nil {
		l.Close()
		return err
	}
	tokCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	tok, project, err := gw.AdminToken(tokCtx)
	cancel()
	if err != nil {
		l.Close()
		return fmt.Errorf("check the CloudStack key pair at %s: %w", cfg.CloudStackURL(), err)
	}
	tokFile := filepath.Join(cfg.DataDir, "gcloud-token")
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		l.Close()
		return err
	}
	if err := os.WriteFile(tokFile, []byte(tok), 0o600); err != nil {
		l.Close()
		return err
	}
	if err := gw.Start(ctx); err != nil {
		l.Close()
		return err
	}
	timeouts := httpserver.DefaultTimeouts() // operations' wait is the GCE API's one long request
	srv := &http.Server{Handler: timeouts.Deadlines(gw.Handler(), httpserver.GCEWait), ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	timeouts.Apply(srv)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	log.Info("GCE gateway serving", "url", base, "cloudstack", cfg.CloudStackURL(), "project", project)
	if ready != nil {
		ready(Serving{URL: base, Token: tok, Project: project, TokenFile: tokFile})
	}
	select {
	case err := <-errc:
		_ = gw.Stop(context.Background())
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return errors.Join(err, gw.Stop(sctx))
}
