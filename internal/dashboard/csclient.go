package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/stratus-cloud/stratus/internal/inproc"
)

// apiError is an error answered by the CloudStack API: its errorcode (also
// the HTTP status) and errortext.
type apiError struct {
	Code int
	Text string
}

func (e *apiError) Error() string { return fmt.Sprintf("CloudStack error %d: %s", e.Code, e.Text) }

// errSessionExpired: the CloudStack session is gone (401 on a session call).
var errSessionExpired = errors.New("dashboard: CloudStack session expired")

// csSession is one logged-in CloudStack session: the session key sent as a
// parameter and the cookies the login set (JSESSIONID, sessionkey).
type csSession struct {
	key     string
	cookies []*http.Cookie
}

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

// cloudAPI calls the CloudStack API in-process.
type cloudAPI struct{ hc *http.Client }

func newCloudAPI(h http.Handler) *cloudAPI {
	return &cloudAPI{hc: inproc.Client(h)}
}

// apiURL is what the in-process requests name; only the path matters.
const apiURL = "http://stratus.internal/client/api"

// post sends a form POST with the given parameters and returns the response
// with its body read.
func (c *cloudAPI) post(ctx context.Context, s *csSession, params url.Values) (*http.Response, []byte, error) {
	params.Set("response", "json")
	if s != nil {
		params.Set("sessionkey", s.key)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, apiURL, strings.NewReader(params.Encode()))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if s != nil {
		for _, ck := range s.cookies {
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// unwrap returns the value of the one top-level "...response" key, or the
// API's error.
func unwrap(status int, body []byte) (json.RawMessage, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, fmt.Errorf("dashboard: CloudStack answered HTTP %d with a body that is not JSON", status)
	}
	var inner json.RawMessage
	for _, v := range top {
		inner = v
	}
	if status != http.StatusOK {
		var e struct {
			Code int    `json:"errorcode"`
			Text string `json:"errortext"`
		}
		_ = json.Unmarshal(inner, &e)
		if e.Code == 0 {
			e.Code = status
		}
		return nil, &apiError{Code: e.Code, Text: e.Text}
	}
	if inner == nil {
		return nil, errors.New("dashboard: CloudStack answered an empty response")
	}
	return inner, nil
}

// login opens a CloudStack session for the user.
func (c *cloudAPI) login(ctx context.Context, username, password, domain string) (*csSession, csUser, error) {
	p := url.Values{"command": {"login"}, "username": {username}, "password": {password}, "domain": {domain}}
	resp, body, err := c.post(ctx, nil, p)
	if err != nil {
		return nil, csUser{}, err
	}
	raw, err := unwrap(resp.StatusCode, body)
	if err != nil {
		return nil, csUser{}, err
	}
	var lr struct {
		Username   string          `json:"username"`
		UserID     string          `json:"userid"`
		Account    string          `json:"account"`
		DomainID   string          `json:"domainid"`
		Type       json.RawMessage `json:"type"`
		Timeout    int             `json:"timeout"`
		SessionKey string          `json:"sessionkey"`
	}
	if err := json.Unmarshal(raw, &lr); err != nil {
		return nil, csUser{}, fmt.Errorf("dashboard: decode login response: %w", err)
	}
	s := &csSession{key: lr.SessionKey, cookies: resp.Cookies()}
	for _, ck := range s.cookies {
		if ck.Name == "sessionkey" && s.key == "" {
			s.key = ck.Value
		}
	}
	if s.key == "" {
		return nil, csUser{}, errors.New("dashboard: CloudStack login gave no session key")
	}
	u := csUser{Username: lr.Username, UserID: lr.UserID, Account: lr.Account, DomainID: lr.DomainID, Timeout: lr.Timeout}
	u.Type = atoiLoose(lr.Type)
	return s, u, nil
}

// logout ends the CloudStack session.
func (c *cloudAPI) logout(ctx context.Context, s *csSession) error {
	_, err := c.call(ctx, s, "logout", nil)
	return err
}

// call runs one command as the session's user and returns the inner
// response object.
func (c *cloudAPI) call(ctx context.Context, s *csSession, command string, params url.Values) (json.RawMessage, error) {
	p := url.Values{}
	for k, v := range params {
		p[k] = v
	}
	p.Set("command", command)
	resp, body, err := c.post(ctx, s, p)
	if err != nil {
		return nil, err
	}
	raw, err := unwrap(resp.StatusCode, body)
	var ae *apiError
	if errors.As(err, &ae) && ae.Code == http.StatusUnauthorized {
		return nil, fmt.Errorf("%w: %s", errSessionExpired, ae.Text)
	}
	return raw, err
}

// callInto runs a command and decodes its inner response into out.
func (c *cloudAPI) callInto(ctx context.Context, s *csSession, command string, params url.Values, out any) error {
	raw, err := c.call(ctx, s, command, params)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("dashboard: decode %s response: %w", command, err)
	}
	return nil
}

// atoiLoose reads a JSON number or a string holding one ("1" or 1); 0
// otherwise.
func atoiLoose(raw json.RawMessage) int {
	s := strings.Trim(string(raw), `"`)
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}
