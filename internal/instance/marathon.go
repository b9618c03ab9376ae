package instance

import (
	"context"

	"github.com/stratus-cloud/stratus/internal/dashboard"
	"github.com/stratus-cloud/stratus/internal/datadir"
	"github.com/stratus-cloud/stratus/internal/marathon"
)

// buildMarathon adds the Marathon v2 API and the Mesos master's endpoints,
// a client of the Kubernetes API like the controllers, on the HTTP front.
// Its credentials are made at the first start and kept in the data dir.
func (w *wiring) buildMarathon() error {
	creds, err := marathon.LoadOrCreateCredentials(w.dir.File("marathon-credentials.json"))
	if err != nil {
		return err
	}
	kc, err := w.kubeClient("marathon")
	if err != nil {
		return err
	}
	ms, err := marathon.New(marathon.Options{Client: kc, Username: creds.Username, Password: creds.Password,
		URL: w.http.URL, Log: w.log.With("component", "marathon"), Metrics: w.reg})
	if err != nil {
		return err
	}
	w.second = append(w.second, ms)
	w.marathon = &dashboard.MarathonAPI{Handler: ms.Handler(), Username: creds.Username, Password: creds.Password}
	// The event streams end when the HTTP front begins to stop.
	w.http.OnShutdown(ms.CloseStreams)
	h := ms.Handler()
	// Mesos' own /version is left to the front, which answers Kubernetes
	// clients there; marathon.Server.ServeMesosVersion serves it at
	// /master/version.
	for _, p := range []string{"/v2/", "/ping", "/master/", "/state.json", "/files/"} {
		w.http.Handle(p, "marathon", h)
	}
	// Marathon's clients read its JSON metrics at /metrics.
	w.http.SetMetricsJSON(ms.MetricsJSON())
	w.stateFns = append(w.stateFns, func(ctx context.Context, s *datadir.State) error {
		s.Marathon = &datadir.MarathonState{URL: s.HTTPURL, Username: creds.Username, Password: creds.Password}
		return nil
	})
	return nil
}
