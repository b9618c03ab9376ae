package apiserver

import (
	"context"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/store/memory"
)

// A join token given to a server becomes the cluster's, for every server
// sharing the store; the CA stays the one first made.
func TestGivenNodeToken(t *testing.T) {
	mem := memory.New(memory.Options{})
	defer mem.Close()
	ctx := context.Background()
	tests := []struct {
		name, given, want string
	}{
		{"first start generates", "", ""},
		{"a given token replaces it", "join-me", "join-me"},
		{"a server without one uses the stored one", "", "join-me"},
		{"the same token again changes nothing", "join-me", "join-me"},
		{"another token replaces it", "rotated", "rotated"},
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
