package apiserver

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
)

// user is who a request authenticated as.
type user struct {
	Name   string
	Groups []string
}

type userKey struct{}

func userFrom(ctx context.Context) *user {
	u, _ := ctx.Value(userKey{}).(*user)
	return u
}

// authenticate checks the bearer token: the admin token is user admin in
// system:masters; the node token is a node agent. There is no
// authorization beyond that: an authenticated caller may do anything.
func (s *Server) authenticate(r *http.Request) *user {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return nil
	}
	tok := strings.TrimSpace(h[len(prefix):])
	switch {
	case subtle.ConstantTimeCompare([]byte(tok), []byte(s.bundle.AdminToken)) == 1:
		return &user{Name: "admin", Groups: []string{"system:masters", "system:authenticated"}}
	case subtle.ConstantTimeCompare([]byte(tok), []byte(s.bundle.NodeToken)) == 1:
		return &user{Name: "system:node", Groups: []string{"system:nodes", "system:authenticated"}}
	}
	return nil
}
