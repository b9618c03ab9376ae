package registry

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestObjCachePrevious: the object a write replaced stays found by its
// revision for a while; the newest stays found; nothing else is.
func TestObjCachePrevious(t *testing.T) {
	c := objCache{m: map[string]cacheEntry{}}
	objs := map[int64]runtime.Object{}
	put := func(key string, rev int64) {
		o := &corev1.Pod{}
		objs[rev] = o
		c.put(key, rev, o)
	}
	put("a", 1)
	put("a", 2)
	put("b", 3)
	put("a", 4)
	tests := []struct {
		key  string
		rev  int64
		want bool
	}{
		{"a", 4, true}, {"a", 2, true}, {"b", 3, true},
		{"a", 1, true},
		{"a", 3, false}, {"a", 5, false}, {"c", 1, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s@%d", tt.key, tt.rev), func(t *testing.T) {
			got := c.get(tt.key, tt.rev)
			if (got != nil) != tt.want || (got != nil && got != objs[tt.rev]) {
				t.Errorf("get(%s, %d) = %v, want found %v", tt.key, tt.rev, got, tt.want)
			}
		})
	}
	// two generations later the first replaced objects are gone
	c.prevSince = c.prevSince.Add(-prevGeneration)
	put("z", 100)
	put("z", 101)
	c.prevSince = c.prevSince.Add(-prevGeneration)
	put("z", 102)
	if c.get("a", 2) != nil {
		t.Error("a replaced object outlived two generations")
	}
	if c.get("a", 4) == nil {
		t.Error("the newest object is gone")
	}
	if c.get("z", 101) == nil {
		t.Error("an object replaced in the last generation is gone")
	}
}
