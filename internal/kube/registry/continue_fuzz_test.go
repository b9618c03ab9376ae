package registry

import (
	"strings"
	"testing"
)

// FuzzDecodeContinue: any continue value a client sends is refused with an
// error or decodes to a key inside the list's prefix that encodes back to
// the same position.
func FuzzDecodeContinue(f *testing.F) {
	f.Add(encodeContinue(42, "default/p10"))
	f.Add(encodeContinue(-1, "kube-system/x"))
	f.Add("eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MSwic3RhcnQiOiIvLi4vYSJ9")
	f.Add("")
	f.Add("!!")
	f.Fuzz(func(t *testing.T, s string) {
		rel, rev, err := decodeContinue(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "continue key is not valid") {
				t.Fatalf("error %q", err)
			}
			return
		}
		if rev < 0 || strings.HasPrefix(rel, "/") || strings.Contains(rel, "/..") {
			t.Fatalf("accepted %q: rel %q rev %d", s, rel, rev)
		}
		back, rev2, err := decodeContinue(encodeContinue(max(rev, 1), rel))
		if err != nil || back != rel || (rev > 0 && rev2 != rev) {
			t.Fatalf("re-encoding %q (rev %d): %q %d %v", rel, rev, back, rev2, err)
		}
	})
}
