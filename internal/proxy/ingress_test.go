package proxy

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
)

// TestIngressMatching: hosts match exactly or by a one-label wildcard;
// Prefix paths match by whole elements, Exact paths whole.
func TestIngressMatching(t *testing.T) {
	for _, tc := range []struct {
		rule, host string
		want       bool
	}{
		{"", "any.example.com", true},
		{"foo.example.com", "foo.example.com", true},
		{"foo.example.com", "bar.example.com", false},
		{"*.example.com", "foo.example.com", true},
		{"*.example.com", "a.foo.example.com", false},
		{"*.example.com", "example.com", false},
		{"*.example.com", ".example.com", false},
	} {
		if got := HostMatches(tc.rule, tc.host); got != tc.want {
			t.Errorf("HostMatches(%q, %q) = %v", tc.rule, tc.host, got)
		}
	}
	for _, tc := range []struct {
		typ        networkingv1.PathType
		rule, path string
		want       bool
	}{
		{networkingv1.PathTypePrefix, "/", "/anything", true},
		{networkingv1.PathTypePrefix, "/foo", "/foo", true},
		{networkingv1.PathTypePrefix, "/foo", "/foo/", true},
		{networkingv1.PathTypePrefix, "/foo/", "/foo", true},
		{networkingv1.PathTypePrefix, "/foo", "/foo/bar", true},
		{networkingv1.PathTypePrefix, "/foo", "/foobar", false},
		{networkingv1.PathTypeImplementationSpecific, "/foo", "/foo/bar", true},
		{networkingv1.PathTypeExact, "/foo", "/foo", true},
		{networkingv1.PathTypeExact, "/foo", "/foo/", false},
	} {
		if got := PathMatches(tc.typ, tc.rule, tc.path); got != tc.want {
			t.Errorf("PathMatches(%s, %q, %q) = %v", tc.typ, tc.rule, tc.path, got)
		}
	}
}
