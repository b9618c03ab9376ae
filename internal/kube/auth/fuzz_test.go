package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	testingclock "k8s.io/utils/clock/testing"
)

// fakeObjects holds a few objects by "resource/ns/name".
type fakeObjects map[string]any

func (f fakeObjects) get(res, ns, name string) (any, error) {
	if o, ok := f[res+"/"+ns+"/"+name]; ok {
		return o, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: res}, name)
}

func (f fakeObjects) Secret(_ context.Context, ns, name string) (*corev1.Secret, error) {
	o, err := f.get("secrets", ns, name)
	if err != nil {
		return nil, err
	}
	return o.(*corev1.Secret), nil
}

func (f fakeObjects) ServiceAccount(_ context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	o, err := f.get("serviceaccounts", ns, name)
	if err != nil {
		return nil, err
	}
	return o.(*corev1.ServiceAccount), nil
}

func (f fakeObjects) Pod(_ context.Context, ns, name string) (*corev1.Pod, error) {
	o, err := f.get("pods", ns, name)
	if err != nil {
		return nil, err
	}
	return o.(*corev1.Pod), nil
}

func fuzzAuthenticator(tb testing.TB) (*Authenticator, string, string) {
	const join = "abcdef.0123456789abcdef"
	sec, err := NewBootstrapSecret(join, "test")
	if err != nil {
		tb.Fatal(err)
	}
	sa := &corev1.ServiceAccount{}
	sa.Name, sa.Namespace, sa.UID = "x", "default", "uid-1"
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tokens, err := NewTokens(key)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	satok, _, err := tokens.Issue(Bound{Namespace: "default", Name: "x", UID: "uid-1", Expiration: time.Hour}, now)
	if err != nil {
		tb.Fatal(err)
	}
	a := &Authenticator{AdminToken: "admin-token", Tokens: tokens, Clock: testingclock.NewFakePassiveClock(now),
		Objects: fakeObjects{"secrets/kube-system/bootstrap-token-abcdef": sec, "serviceaccounts/default/x": sa}}
	return a, join, satok
}

func TestTokens(t *testing.T) {
	a, join, satok := fuzzAuthenticator(t)
	ctx := context.Background()
	tests := []struct {
		tok, user string
	}{
		{join, "system:bootstrap:abcdef"},
		{"abcdef.0123456789abcdee", ""},
		{"abcdeg.0123456789abcdef", ""},
		{satok, "system:serviceaccount:default:x"},
		{satok[:len(satok)-2] + "AA", ""},
		{"admin-token", "admin"},
		{"", ""},
	}
	for _, tc := range tests {
		u, err := a.Token(ctx, tc.tok)
		switch {
		case tc.user == "" && err == nil:
			t.Errorf("token %q accepted as %q", tc.tok, u.Name)
		case tc.user != "" && (err != nil || u.Name != tc.user):
			t.Errorf("token %q: user %v err %v, want %q", tc.tok, u, err, tc.user)
		}
	}
	// A bound token expires, and needs one of the API server's audiences.
	a.Clock = testingclock.NewFakePassiveClock(time.Unix(1_800_000_000+3601, 0))
	if _, err := a.Token(ctx, satok); err == nil {
		t.Error("expired token accepted")
	}
	a.Clock = testingclock.NewFakePassiveClock(time.Unix(1_800_000_000, 0))
	other, _, _ := a.Tokens.Issue(Bound{Namespace: "default", Name: "x", UID: "uid-1", Audiences: []string{"vault"}, Expiration: time.Hour}, a.Clock.Now())
	if _, err := a.Token(ctx, other); err == nil {
		t.Error("token for another audience accepted")
	}
}

// FuzzTokenAuthentication: no token but the exact join token is the
// bootstrap identity, no token but the issued one a ServiceAccount, and
// nothing panics (bootstrap token parsing, JWT parsing).
func FuzzTokenAuthentication(f *testing.F) {
	a, join, satok := fuzzAuthenticator(f)
	for _, s := range []string{join, satok, "abcdef.0123456789abcdeF", "abcdef.", ".x", "a.b.c", "eyJ.eyJ.x", satok[:40]} {
		f.Add(s)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, tok string) {
		u, err := a.Token(ctx, tok)
		if err != nil {
			return
		}
		switch {
		case strings.HasPrefix(u.Name, "system:bootstrap:"):
			if tok != join {
				t.Fatalf("token %q authenticated as %s", tok, u.Name)
			}
		case strings.HasPrefix(u.Name, "system:serviceaccount:"):
			if tok != satok {
				t.Fatalf("token %q authenticated as %s", tok, u.Name)
			}
		case u.Name == "admin":
		default:
			t.Fatalf("token %q authenticated as %s", tok, u.Name)
		}
	})
}
