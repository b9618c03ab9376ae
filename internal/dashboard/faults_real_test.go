package dashboard

import (
	"context"
	"net/url"
	"strings"
	"testing"
)

// TestFaultsViewRealCloudStack: a fault made with configureSimulator shows
// on the admin's faults page; a user is told it is for administrators and
// stays logged in.
func TestFaultsViewRealCloudStack(t *testing.T) {
	st := newStore(t)
	cs := newRealCloud(t, st, nil)
	createUser(t, cs, "carol", "carol-pw")
	s := adminAPI(t, cs)
	if _, err := s.Raw(context.Background(), "configureSimulator", url.Values{"name": {"StopCommand"}, "value": {"result:fail"}, "count": {"2"}}); err != nil {
		t.Fatal(err)
	}
	site := newSite(t, cs, nil)

	admin := site.browser(t)
	admin.login("admin", "password")
	if _, body := admin.get("/client/faults"); !strings.Contains(body, "StopCommand") || !strings.Contains(body, "result:fail") {
		t.Fatalf("admin's faults page lacks the configured fault:\n%s", body)
	}

	carol := site.browser(t)
	carol.login("carol", "carol-pw")
	if _, body := carol.get("/client/faults"); !strings.Contains(body, "administrators only") {
		t.Fatalf("user's faults page:\n%s", body)
	}
	if _, body := carol.get("/client/vms"); strings.Contains(body, `name="password"`) {
		t.Fatal("visiting the faults page logged the user out")
	}
}
