package dashboard

import (
	"context"
	"net/http"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
	"github.com/stratus-cloud/stratus/internal/inproc"
)

// The dashboard calls the CloudStack API in-process, as each logged-in
// user, through stratus's one CloudStack client (a login session per
// dashboard session).

// csSession is one logged-in CloudStack session.
type csSession = csclient.Client

// apiError is an error answered by the CloudStack API.
type apiError = csclient.Error

// errSessionExpired matches a call whose CloudStack session is gone.
var errSessionExpired = csclient.ErrSessionExpired

// csUser is who logged in, from the login response.
type csUser struct {
	Username string
	UserID   string
	Account  string
	DomainID string
	// Type is the account type: 0 user, 1 root admin, 2 domain admin.
	Type int
	// Timeout is the session's idle timeout in seconds.
	Timeout int
}

// RootAdmin reports whether the user is a root administrator.
func (u csUser) RootAdmin() bool { return u.Type == 1 }

// Role names the account type for people.
func (u csUser) Role() string {
	switch u.Type {
	case 1:
		return "root admin"
	case 2:
		return "domain admin"
	}
	return "user"
}

// cloudAPI opens sessions on the CloudStack handler, in-process.
type cloudAPI struct{ hc *http.Client }

func newCloudAPI(h http.Handler) *cloudAPI {
	return &cloudAPI{hc: inproc.Client(h)}
}

// apiURL is what the in-process requests name; only the path matters.
const apiURL = "http://stratus.internal/client/api"

// login opens a CloudStack session for the user.
func (c *cloudAPI) login(ctx context.Context, username, password, domain string) (*csSession, csUser, error) {
	s, li, err := csclient.Login(ctx, apiURL, c.hc, username, password, domain)
	if err != nil {
		return nil, csUser{}, err
	}
	return s, csUser{Username: li.Username, UserID: li.UserID, Account: li.Account, DomainID: li.DomainID,
		Type: int(li.Type), Timeout: int(li.Timeout)}, nil
}
