package gce

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
	"github.com/stratus-cloud/stratus/internal/store"
)

// tokenRecord is what a bearer token stands for. It is stored under the
// SHA-256 of the token, so the store never holds a usable token.
type tokenRecord struct {
	APIKey    string    `json:"apiKey"`
	SecretKey string    `json:"secretKey"`
	Project   string    `json:"project"`
	Account   string    `json:"account"`
	AccountID string    `json:"accountId"`
	DomainID  string    `json:"domainId"`
	User      string    `json:"user"`
	Expires   time.Time `json:"expires,omitzero"`
}

func tokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// identity is who a key pair belongs to.
type identity struct {
	Project, Account, AccountID, DomainID, User string
}

// identify asks CloudStack whose key pair this is. A wrong pair answers
// errBadCredentials.
func (g *Gateway) identify(ctx context.Context, apiKey, secret string) (identity, error) {
	c := g.client(apiKey, secret)
	users, err := c.ListUsers(ctx, nil)
	if err != nil {
		if csclient.Code(err) == http.StatusUnauthorized {
			return identity{}, errBadCredentials
		}
		return identity{}, err
	}
	var u *csclient.User
	for i := range users {
		if users[i].APIKey == apiKey {
			u = &users[i]
			break
		}
	}
	if u == nil && len(users) == 1 {
		u = &users[0]
	}
	if u == nil && g.admin != nil {
		var r struct {
			User csclient.User `json:"user"`
		}
		if err := g.admin.Do(ctx, "getUser", csclient.Params("userapikey", apiKey), &r); err == nil && r.User.Account != "" {
			u = &r.User
		}
	}
	if u == nil {
		return identity{}, fmt.Errorf("gce: cannot tell which CloudStack account the key pair belongs to")
	}
	email := u.Email
	if email == "" {
		email = u.Username + "@" + gceName(u.Account) + ".cloudstack"
	}
	project, err := g.projectFor(ctx, u.Account, u.AccountID, u.DomainID, "")
	if err != nil {
		return identity{}, err
	}
	return identity{Project: project, Account: u.Account, AccountID: u.AccountID, DomainID: u.DomainID, User: email}, nil
}

// IssueToken checks a CloudStack key pair and returns a bearer token for
// it. The token is derived from the key pair, so it is the same on every
// call and across restarts (a token file written once keeps working), and
// it does not expire; only someone who holds the secret key can derive it.
func (g *Gateway) IssueToken(ctx context.Context, apiKey, secretKey string) (token, project string, err error) {
	id, err := g.identify(ctx, apiKey, secretKey)
	if err != nil {
		return "", "", err
	}
	mac := hmac.New(sha256.New, []byte(secretKey))
	mac.Write([]byte("stratus-gce-token:" + apiKey))
	token = "st1." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:24])
	rec := tokenRecord{APIKey: apiKey, SecretKey: secretKey, Project: id.Project, Account: id.Account,
		AccountID: id.AccountID, DomainID: id.DomainID, User: id.User}
	if _, err := g.tokens.Put(ctx, tokenKey(token), &rec); err != nil {
		return "", "", err
	}
	return token, id.Project, nil
}

// AdminToken is IssueToken for the gateway's own key pair
// (Options.CloudStack), for `stratus env gcloud`.
func (g *Gateway) AdminToken(ctx context.Context) (token, project string, err error) {
	if g.admin == nil {
		return "", "", errors.New("gce: no CloudStack key pair configured")
	}
	return g.IssueToken(ctx, g.opts.CloudStack.APIKey, g.opts.CloudStack.SecretKey)
}

// authenticate maps the request's bearer token to its record.
func (g *Gateway) authenticate(r *http.Request) (*tokenRecord, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, errMissingCredentials
	}
	scheme, tok, ok := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return nil, errBadCredentials
	}
	rec, _, err := g.tokens.Get(r.Context(), tokenKey(tok))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errBadCredentials
	}
	if err != nil {
		return nil, err
	}
	if !rec.Expires.IsZero() && g.now().After(rec.Expires) {
		return nil, errBadCredentials
	}
	return rec, nil
}

// oauthTokenTTL is how long a token from /oauth2/token lives.
const oauthTokenTTL = time.Hour

// serveOAuthToken is /oauth2/token: the client-credentials grant, where
// the client id and secret are a CloudStack API key and secret key (as in
// gstack). It answers a bearer token that expires in an hour.
func (g *Gateway) serveOAuthToken(w http.ResponseWriter, r *http.Request) {
	oauthErr := func(status int, code, desc string) {
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		oauthErr(http.StatusMethodNotAllowed, "invalid_request", "use POST")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		oauthErr(http.StatusBadRequest, "invalid_request", "malformed form body")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		oauthErr(http.StatusBadRequest, "unsupported_grant_type", "only client_credentials is supported")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" || secret == "" {
		oauthErr(http.StatusUnauthorized, "invalid_client", "client_id and client_secret (the CloudStack API key and secret key) are required")
		return
	}
	ident, err := g.identify(r.Context(), id, secret)
	if err != nil {
		if errors.Is(err, errBadCredentials) {
			oauthErr(http.StatusUnauthorized, "invalid_client", "the CloudStack key pair was not accepted")
			return
		}
		g.log.Warn("oauth2 token: identify failed", "err", err)
		oauthErr(http.StatusServiceUnavailable, "temporarily_unavailable", "CloudStack could not be asked")
		return
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		oauthErr(http.StatusInternalServerError, "server_error", "no randomness")
		return
	}
	tok := "st2." + base64.RawURLEncoding.EncodeToString(b)
	rec := tokenRecord{APIKey: id, SecretKey: secret, Project: ident.Project, Account: ident.Account,
		AccountID: ident.AccountID, DomainID: ident.DomainID, User: ident.User, Expires: g.now().Add(oauthTokenTTL)}
	if _, err := g.tokens.Put(r.Context(), tokenKey(tok), &rec); err != nil {
		g.log.Error("oauth2 token: store", "err", err)
		oauthErr(http.StatusInternalServerError, "server_error", "could not record the token")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(oauthTokenTTL.Seconds())})
}

// sweepTokens deletes expired tokens.
func (g *Gateway) sweepTokens(ctx context.Context) {
	items, _, err := g.tokens.List(ctx)
	if err != nil {
		g.log.Warn("sweep tokens", "err", err)
		return
	}
	now := g.now()
	for _, it := range items {
		if !it.Val.Expires.IsZero() && now.After(it.Val.Expires) {
			if _, err := g.st.Txn(ctx, store.DeleteAt(g.tokens.Key(it.Name), it.Rev)); err != nil && !errors.Is(err, store.ErrConflict) {
				g.log.Warn("sweep tokens", "err", err)
			}
		}
	}
}

// DefaultZone is the GCE name of the first enabled zone the gateway's own
// key pair sees, for CLOUDSDK_COMPUTE_ZONE.
func (g *Gateway) DefaultZone(ctx context.Context) (string, error) {
	if g.admin == nil {
		return "", errors.New("gce: no CloudStack key pair configured")
	}
	zs, err := g.admin.ListZones(ctx)
	if err != nil {
		return "", err
	}
	for _, z := range zs {
		if z.AllocationState == "" || z.AllocationState == "Enabled" {
			return zoneName(z.Name), nil
		}
	}
	return "", errors.New("gce: CloudStack has no enabled zone")
}
