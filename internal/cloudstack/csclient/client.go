// Package csclient is stratus's one client of the Apache CloudStack API,
// used by the GCE gateway, the cloud controller, cloud-init's follower and
// the dashboard: signed requests (HMAC-SHA1, signature version 3) or a
// login session as the two ways to authenticate, over any http.Client,
// with a context on every call, decoding of the response envelope
// (`<command>response`) and of CloudStack's error body, and a cancellable
// wait for async jobs.
//
// It is deliberately small: its users need a few dozen commands and want
// cancellation (a blocked operations.wait ends when its client goes away),
// which the official Go SDK does not offer. It decodes only the fields the
// gateway reads, and tolerates numbers sent as strings and the reverse, so
// it works against any CloudStack.
package csclient

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"k8s.io/utils/clock"
)

// maxBody caps a CloudStack response the client reads.
const maxBody = 64 << 20

// Client calls one CloudStack endpoint with one key pair. It is safe for
// concurrent use and cheap to make (one per key pair).
type Client struct {
	url    string
	key    string
	secret string
	hc     *http.Client
	clock  clock.PassiveClock
	// session, when set, authenticates instead of the key pair (Login).
	session *session
}

// New returns a client of the API at apiURL (for example
// http://127.0.0.1:8080/client/api) signing with the key pair. A nil hc
// means http.DefaultClient.
func New(apiURL, apiKey, secretKey string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{url: apiURL, key: apiKey, secret: secretKey, hc: hc, clock: clock.RealClock{}}
}

// APIKey returns the client's API key.
func (c *Client) APIKey() string { return c.key }

// Error is an error answer from CloudStack.
type Error struct {
	Command string
	// HTTPStatus is the HTTP status, which CloudStack sets to ErrorCode.
	HTTPStatus int
	// ErrorCode is CloudStack's errorcode (431 parameter error, 530
	// internal, 531 permission, 533 capacity, …).
	ErrorCode int
	// CSErrorCode is the cserrorcode (4350 InvalidParameterValue, …).
	CSErrorCode int
	Text        string
	// session: the call was made in a login session (a 401 then means the
	// session expired).
	session bool
}

// Is makes a session call's 401 match ErrSessionExpired.
func (e *Error) Is(target error) bool {
	return target == ErrSessionExpired && e.session && e.HTTPStatus == http.StatusUnauthorized
}

func (e *Error) Error() string {
	return fmt.Sprintf("cloudstack %s: error %d (%d): %s", e.Command, e.ErrorCode, e.CSErrorCode, e.Text)
}

// IsNotFound reports whether err is CloudStack's answer for an id that
// does not exist.
func IsNotFound(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return e.ErrorCode == 431 && (strings.Contains(e.Text, "entity does not exist") ||
		strings.Contains(strings.ToLower(e.Text), "unable to find") ||
		strings.Contains(strings.ToLower(e.Text), "not found"))
}

// Code returns CloudStack's errorcode of err, or 0.
func Code(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.ErrorCode
	}
	return 0
}

// posted reports whether a command goes as a form POST: everything that
// changes state, as cloudstack-go v2.19 does; reads go as GET.
func posted(command string) bool {
	return !strings.HasPrefix(command, "list") && command != "queryAsyncJobResult" && !strings.HasPrefix(command, "get")
}

// Do calls command with params and decodes the inner object of the
// response (the value of `<command>response`) into out, which may be nil.
func (c *Client) Do(ctx context.Context, command string, params url.Values, out any) error {
	q := make(url.Values, len(params)+6)
	for k, v := range params {
		q[k] = v
	}
	q.Set("command", command)
	q.Set("response", "json")
	var req *http.Request
	var err error
	if c.session != nil {
		req, err = c.session.request(ctx, c.url, q)
	} else {
		req, err = c.signed(ctx, command, q)
	}
	if err != nil {
		return fmt.Errorf("cloudstack %s: %w", command, err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("cloudstack %s: %w", command, err)
	}
	defer resp.Body.Close()
	return c.decode(command, resp, out)
}

// signed builds the request of a key-pair client: signature version 3, a
// form POST for what changes state (as cloudstack-go v2.19 does), a GET
// for reads.
func (c *Client) signed(ctx context.Context, command string, q url.Values) (*http.Request, error) {
	q.Set("apiKey", c.key)
	q.Set("signatureversion", "3")
	q.Set("expires", c.clock.Now().UTC().Add(15*time.Minute).Format(time.RFC3339))
	enc := encode(q)
	sig := sign(c.secret, enc)
	if posted(command) {
		q.Set("signature", sig)
		return postForm(ctx, c.url, q)
	}
	return http.NewRequestWithContext(ctx, http.MethodGet, c.url+"?"+enc+"&signature="+url.QueryEscape(sig), nil)
}

// postForm builds a form POST of q to apiURL.
func postForm(ctx context.Context, apiURL string, q url.Values) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, apiURL, strings.NewReader(q.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

// decode reads a response: the inner object of a success into out (which
// may be nil), or the *Error of a failure.
func (c *Client) decode(command string, resp *http.Response, out any) error {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("cloudstack %s: read: %w", command, err)
	}
	if d, ok := out.(answerDecoder); ok && resp.StatusCode == http.StatusOK {
		if done, err := d.decodeAnswer(command, body); done {
			if err != nil {
				return fmt.Errorf("cloudstack %s: %w", command, err)
			}
			return nil
		}
	}
	inner, err := unwrap(body)
	if err != nil {
		if resp.StatusCode != http.StatusOK {
			return &Error{Command: command, HTTPStatus: resp.StatusCode, ErrorCode: resp.StatusCode, Text: strings.TrimSpace(string(truncate(body, 200)))}
		}
		return fmt.Errorf("cloudstack %s: %w", command, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &Error{Command: command, HTTPStatus: resp.StatusCode, session: c.session != nil}
		var eb struct {
			ErrorCode   Int    `json:"errorcode"`
			CSErrorCode Int    `json:"cserrorcode"`
			ErrorText   string `json:"errortext"`
		}
		_ = json.Unmarshal(inner, &eb)
		e.ErrorCode, e.CSErrorCode, e.Text = int(eb.ErrorCode), int(eb.CSErrorCode), eb.ErrorText
		if e.ErrorCode == 0 {
			e.ErrorCode = resp.StatusCode
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(inner, out); err != nil {
		return fmt.Errorf("cloudstack %s: decode: %w", command, err)
	}
	return nil
}

// answerDecoder is an out value that decodes a whole successful answer
// itself (listPage); it reports false when it does not recognise it, and
// the answer is decoded as any other.
type answerDecoder interface {
	decodeAnswer(command string, body []byte) (bool, error)
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// unwrap returns the value of the one top-level `…response` key.
func unwrap(body []byte) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("not a CloudStack JSON response: %w", err)
	}
	for k, v := range m {
		if strings.HasSuffix(k, "response") {
			return v, nil
		}
	}
	return nil, errors.New("no response object in CloudStack answer")
}

// encode is CloudStack's canonical query: keys sorted, values
// query-escaped with %20 for space and * left as is.
func encode(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(k)
			b.WriteByte('=')
			e := url.QueryEscape(v)
			e = strings.ReplaceAll(e, "+", "%20")
			e = strings.ReplaceAll(e, "%2A", "*")
			b.WriteString(e)
		}
	}
	return b.String()
}

// sign is base64(HMAC-SHA1(secret, lower(encoded query))).
func sign(secret, enc string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(strings.ToLower(enc)))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Int is a JSON integer that CloudStack may also send as a string.
type Int int64

// UnmarshalJSON accepts 12, "12" and "" (zero).
func (n *Int) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	f := json.Number(s)
	if i, err := f.Int64(); err == nil {
		*n = Int(i)
		return nil
	}
	if fl, err := f.Float64(); err == nil {
		*n = Int(fl)
		return nil
	}
	// Words such as "Unlimited" decode as -1.
	*n = -1
	return nil
}

// Bool is a JSON boolean that CloudStack may also send as a string.
type Bool bool

// UnmarshalJSON accepts true, "true" and the like.
func (v *Bool) UnmarshalJSON(b []byte) error {
	*v = Bool(strings.EqualFold(strings.Trim(string(b), `"`), "true"))
	return nil
}

// SameSecret reports whether the client signs with secret.
func (c *Client) SameSecret(secret string) bool { return hmac.Equal([]byte(c.secret), []byte(secret)) }
