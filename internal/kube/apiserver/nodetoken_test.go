package apiserver

import (
	"context"
	"testing"
	"time"

	bootstraputil "k8s.io/cluster-bootstrap/token/util"

	"github.com/stratus-cloud/stratus/internal/store/memory"
)

// A join token given to a server becomes the cluster's, for every server
// sharing the store: a bootstrap token's form the join token, any other
// the legacy node token; the CA stays the one first made.
func TestGivenNodeToken(t *testing.T) {
	mem := memory.New(memory.Options{})
	defer mem.Close()
	ctx := context.Background()
	tests := []struct {
		name, given, want, wantJoin string
	}{
		{"first start generates", "", "", ""},
		{"a given token replaces it", "join-me", "join-me", ""},
		{"a server without one uses the stored one", "", "join-me", ""},
		{"the same token again changes nothing", "join-me", "join-me", ""},
		{"another token replaces it", "rotated", "rotated", ""},
		{"a bootstrap token is the join token", "abcdef.0123456789abcdef", "rotated", "abcdef.0123456789abcdef"},
		{"and stays", "", "rotated", "abcdef.0123456789abcdef"},
	}
	var ca []byte
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := loadBundle(ctx, mem, time.Now(), tc.given)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != "" && b.NodeToken != tc.want {
				t.Fatalf("node token %q, want %q", b.NodeToken, tc.want)
			}
			if tc.wantJoin != "" && b.JoinToken != tc.wantJoin {
				t.Fatalf("join token %q, want %q", b.JoinToken, tc.wantJoin)
			}
			if !bootstraputil.IsValidBootstrapToken(b.JoinToken) {
				t.Fatalf("join token %q is not a bootstrap token", b.JoinToken)
			}
			if b.NodeToken == "" || b.AdminToken == "" {
				t.Fatal("empty token")
			}
			if ca == nil {
				ca = b.CACertPEM
			} else if string(ca) != string(b.CACertPEM) {
				t.Fatal("the CA changed")
			}
		})
	}
}
