package csclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// ErrSessionExpired matches the error of a call made in a login session
// that the server no longer knows (its 401).
var ErrSessionExpired = errors.New("CloudStack session expired")

// session is a login session: the session key sent as a parameter with
// every call and the cookies the login set (JSESSIONID, sessionkey), as
// CloudStack's own UI sends them.
type session struct {
	key     string
	cookies []*http.Cookie
}

// request builds a session call: a form POST with the session key.
func (s *session) request(ctx context.Context, apiURL string, q url.Values) (*http.Request, error) {
	q.Set("sessionkey", s.key)
	req, err := postForm(ctx, apiURL, q)
	if err != nil {
		return nil, err
	}
	for _, ck := range s.cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	return req, nil
}

// LoginInfo is who logged in, from the login answer.
type LoginInfo struct {
	Username string `json:"username"`
	UserID   string `json:"userid"`
	Account  string `json:"account"`
	DomainID string `json:"domainid"`
	// Type is the account type: 0 user, 1 root admin, 2 domain admin.
	Type Int `json:"type"`
	// Timeout is the session's idle timeout in seconds.
	Timeout Int `json:"timeout"`
}

// Login opens a session for the user (password authentication, as the UI
// does) and returns a client that calls as that user until Logout.
func Login(ctx context.Context, apiURL string, hc *http.Client, username, password, domain string) (*Client, LoginInfo, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	c := &Client{url: apiURL, hc: hc}
	q := url.Values{"command": {"login"}, "response": {"json"}, "username": {username}, "password": {password}, "domain": {domain}}
	req, err := postForm(ctx, apiURL, q)
	if err != nil {
		return nil, LoginInfo{}, fmt.Errorf("cloudstack login: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, LoginInfo{}, fmt.Errorf("cloudstack login: %w", err)
	}
	defer resp.Body.Close()
	var lr struct {
		LoginInfo
		SessionKey string `json:"sessionkey"`
	}
	if err := c.decode("login", resp, &lr); err != nil {
		return nil, LoginInfo{}, err
	}
	s := &session{key: lr.SessionKey, cookies: resp.Cookies()}
	for _, ck := range s.cookies {
		if ck.Name == "sessionkey" && s.key == "" {
			s.key = ck.Value
		}
	}
	if s.key == "" {
		return nil, LoginInfo{}, errors.New("cloudstack login: the answer holds no session key")
	}
	c.session = s
	return c, lr.LoginInfo, nil
}

// Logout ends the client's login session.
func (c *Client) Logout(ctx context.Context) error {
	return c.Do(ctx, "logout", nil, nil)
}

// Raw calls command and returns the inner object of its answer undecoded.
func (c *Client) Raw(ctx context.Context, command string, params url.Values) (json.RawMessage, error) {
	var raw json.RawMessage
	err := c.Do(ctx, command, params, &raw)
	return raw, err
}
