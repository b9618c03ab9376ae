package gce

import (
	"regexp"
	"strings"
	"testing"
)

// The label checks are written out by hand; these are the expressions
// GCE documents, which they must agree with.
var (
	labelKeyRE   = regexp.MustCompile(`^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$`)
	labelValueRE = regexp.MustCompile(`^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$`)
)

var labelSamples = []string{
	"", "a", "A", "env", "env-1", "env_1", "1env", "-x", "_x", "ümlaut", "Ümlaut", "日本",
	"a b", "a.b", "a\xffb", "\xff", "x٣", strings.Repeat("a", 63), strings.Repeat("a", 64),
	strings.Repeat("é", 63), strings.Repeat("é", 64), "ǅ", "ʰ",
}

func TestLabelSyntaxMatchesDocumentedExpressions(t *testing.T) {
	for _, s := range labelSamples {
		if got, want := isLabelKey(s), labelKeyRE.MatchString(s); got != want {
			t.Errorf("isLabelKey(%q) = %v, want %v", s, got, want)
		}
		if got, want := isLabelValue(s), labelValueRE.MatchString(s); got != want {
			t.Errorf("isLabelValue(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzLabelSyntax(f *testing.F) {
	for _, s := range labelSamples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isLabelKey(s), labelKeyRE.MatchString(s); got != want {
			t.Errorf("isLabelKey(%q) = %v, want %v", s, got, want)
		}
		if got, want := isLabelValue(s), labelValueRE.MatchString(s); got != want {
			t.Errorf("isLabelValue(%q) = %v, want %v", s, got, want)
		}
	})
}
