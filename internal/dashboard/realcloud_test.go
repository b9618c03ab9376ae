package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloud"
	"github.com/stratus-cloud/stratus/internal/cloudstack"
	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// newRealCloud starts the simulator over st with the built-in data center
// (or dc) and returns its CloudStack API handler and change feed: the
// dashboard then runs against the real API, as in stratus up.
func newRealCloud(t testing.TB, st store.Store, dc *cloud.Datacenter) testCloud {
	t.Helper()
	if dc == nil {
		var err error
		if dc, err = cloud.LoadDatacenter(""); err != nil {
			t.Fatal(err)
		}
	}
	log := testenv.Logger()
	ctx := context.Background()
	sim, err := cloud.New(ctx, cloud.Options{Store: st, Datacenter: dc, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = sim.Stop(ctx)
	})
	return realCloud{cloudstack.NewHandler(cloudstack.Options{Cloud: sim, Log: log}), sim}
}

// realCloud is the CloudStack API over a simulator.
type realCloud struct {
	http.Handler
	*cloud.Sim
}

// adminAPI logs in to the API as the built-in admin, for test set-up.
func adminAPI(t testing.TB, cs http.Handler) *csSession {
	t.Helper()
	s, _, err := newCloudAPI(cs).login(context.Background(), "admin", "password", "/")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// createUser makes a plain user account through the API.
func createUser(t testing.TB, cs http.Handler, name, password string) {
	t.Helper()
	s := adminAPI(t, cs)
	_, err := s.Raw(context.Background(), "createAccount", url.Values{
		"username": {name}, "password": {password}, "email": {name + "@example.com"},
		"firstname": {name}, "lastname": {"Test"}, "accounttype": {"0"},
	})
	if err != nil {
		t.Fatal(err)
	}
}
