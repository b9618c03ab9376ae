package gce

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	compute "google.golang.org/api/compute/v1"

	"k8s.io/utils/ptr"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// newAccount creates a user account (in domainID, "" for ROOT) and returns its keys.
func newAccount(t *testing.T, admin *csclient.Client, name, domainID string) (key, secret string) {
	t.Helper()
	ctx := context.Background()
	var acc struct {
		Account struct {
			User []struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"account"`
	}
	p := csclient.Params("username", name, "account", name, "email", "c@example.com", "password", "pw", "firstname", "C", "lastname", "X", "accounttype", "0")
	if domainID != "" {
		p.Set("domainid", domainID)
	}
	if err := admin.Do(ctx, "createAccount", p, &acc); err != nil || len(acc.Account.User) == 0 {
		t.Fatalf("createAccount %s: %+v %v", name, acc, err)
	}
	var keys struct {
		UserKeys struct {
			APIKey    string `json:"apikey"`
			SecretKey string `json:"secretkey"`
		} `json:"userkeys"`
	}
	if err := admin.Do(ctx, "registerUserKeys", csclient.Params("id", acc.Account.User[0].ID), &keys); err != nil {
		t.Fatal(err)
	}
	return keys.UserKeys.APIKey, keys.UserKeys.SecretKey
}

// TestProjectNamesAreOneToOne: accounts whose names map to one GCE name
// ("carol.x", "carol_x", and "carol.x" in another domain) get projects of
// their own, each sees only its own (through Google's Go client), and the
// names stay the same when the gateway restarts.
func TestProjectNamesAreOneToOne(t *testing.T) {
	e := newRealEnv(t)
	ctx := context.Background()
	accts := collidingAccounts(t, e)
	// Each writes its project metadata; each sees only its own.
	for _, a := range accts {
		svc := e.service(t, a.token)
		op, err := svc.Projects.SetCommonInstanceMetadata(a.project, &compute.Metadata{Items: []*compute.MetadataItems{{Key: "owner", Value: ptr.To(a.project)}}}).Do()
		if err != nil {
			t.Fatalf("%s: setCommonInstanceMetadata: %v", a.project, err)
		}
		waitOp(t, svc, a.project, op)
	}
	for i, a := range accts {
		svc := e.service(t, a.token)
		p, err := svc.Projects.Get(a.project).Do()
		if err != nil {
			t.Fatal(err)
		}
		if p.CommonInstanceMetadata == nil || len(p.CommonInstanceMetadata.Items) != 1 || *p.CommonInstanceMetadata.Items[0].Value != a.project {
			t.Errorf("%s sees metadata %+v", a.project, p.CommonInstanceMetadata)
		}
		other := accts[(i+1)%len(accts)]
		_, err = svc.Projects.Get(other.project).Do()
		wantAPIError(t, err, 403, "forbidden")
		if _, err := svc.GlobalOperations.List(other.project).Do(); err == nil {
			t.Errorf("%s lists %s's operations", a.project, other.project)
		}
	}
	// Stable: a gateway started again on the same store gives the same names.
	gw2, err := New(Options{CloudStack: e.gw.opts.CloudStack, Store: e.gw.st, Log: testenv.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := gw2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw2.Stop(ctx) })
	for _, a := range accts {
		rec, err := gw2.authenticate(bearer(a.token))
		if err != nil || rec.Project != a.project {
			t.Errorf("after a restart %s's token names project %v (%v)", a.project, rec, err)
		}
	}
}

// projectAccount is an account of the gateway's and its project.
type projectAccount struct{ name, domain, token, project string }

// collidingAccounts creates three accounts whose names give one GCE name:
// "carol.x" and "carol_x" in ROOT, "carol.x" in another domain; each gets
// a token and must get a project of its own.
func collidingAccounts(t *testing.T, e *testEnv) []*projectAccount {
	t.Helper()
	ctx := context.Background()
	admin := csclient.New(e.cs.URL, e.cs.APIKey, e.cs.SecretKey, nil)
	var dom struct {
		Domain struct {
			ID string `json:"id"`
		} `json:"domain"`
	}
	if err := admin.Do(ctx, "createDomain", csclient.Params("name", "other"), &dom); err != nil {
		t.Fatal(err)
	}
	accts := []*projectAccount{{name: "carol.x"}, {name: "carol_x"}, {name: "carol.x", domain: dom.Domain.ID}}
	seen := map[string]bool{}
	for _, a := range accts {
		key, secret := newAccount(t, admin, a.name, a.domain)
		var err error
		if a.token, a.project, err = e.gw.IssueToken(ctx, key, secret); err != nil {
			t.Fatal(err)
		}
		if seen[a.project] || !strings.HasPrefix(a.project, "carol-x") || len(a.project) > 63 {
			t.Fatalf("account %s gets project %q (taken: %v)", a.name, a.project, seen)
		}
		seen[a.project] = true
	}
	if accts[0].project != "carol-x" {
		t.Errorf("the first account gets %q, want the plain name carol-x", accts[0].project)
	}
	return accts
}

// TestProjectNamesThroughGcloud: two accounts with colliding names, each
// with its own gcloud, see only their own project.
func TestProjectNamesThroughGcloud(t *testing.T) {
	e := newRealEnv(t)
	accts := collidingAccounts(t, e)[:2]
	for i, a := range accts {
		as := *e
		as.token, as.project = a.token, a.project
		g := newGcloud(t, &as, "sandbox-simulator-basic-a")
		g.ok("compute", "project-info", "add-metadata", "--metadata=owner="+a.project)
		if out := g.ok("compute", "project-info", "describe", "--format=value(name,commonInstanceMetadata.items)"); !strings.Contains(out, a.project) ||
			!strings.Contains(out, "'value': '"+a.project+"'") {
			t.Errorf("%s describes its project as %q", a.project, out)
		}
		other := accts[1-i].project
		if out, _, err := g.run("compute", "project-info", "describe", "--project", other); err == nil {
			t.Errorf("%s reads project %s: %s", a.project, other, out)
		}
	}
}

// bearer is a request carrying token.
func bearer(token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/compute/v1/projects", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

// TestMigrateProjects: tokens stored before project names were claimed
// keep their project, except the second account of a shared name, which
// moves to a project of its own.
func TestMigrateProjects(t *testing.T) {
	e := newRealEnv(t)
	ctx := context.Background()
	for i, id := range []string{"aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"} {
		rec := tokenRecord{Project: "carol-x", Account: []string{"carol.x", "carol_x"}[i], AccountID: id}
		if _, err := e.gw.tokens.Put(ctx, "legacy"+id, &rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.gw.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.gw.Stop(ctx) })
	got := map[string]bool{}
	for _, id := range []string{"aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"} {
		rec, _, err := e.gw.tokens.Get(ctx, "legacy"+id)
		if err != nil {
			t.Fatal(err)
		}
		got[rec.Project] = true
	}
	if len(got) != 2 || !got["carol-x"] {
		t.Fatalf("projects after migration: %v", got)
	}
}
