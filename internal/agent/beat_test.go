package agent

import (
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/stratus-cloud/stratus/internal/runtime/sim"
)

// TestBeatDelay: a pool's heartbeats fall on multiples of a fortieth of the
// renew interval, never earlier than asked and at most that much later; a
// single node's are not moved.
func TestBeatDelay(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		nodes int
		now   time.Time
		d     time.Duration
		want  time.Duration
	}{
		{"single node", 1, base.Add(10 * time.Millisecond), 9 * time.Second, 9 * time.Second},
		{"pool, on a boundary", 2, base, 9 * time.Second, 9 * time.Second},
		{"pool, rounded up", 2, base.Add(10 * time.Millisecond), 9 * time.Second, 9*time.Second + 240*time.Millisecond},
		{"pool, just past a boundary", 2, base.Add(251 * time.Millisecond), 0, 249 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := make([]nodeConfig, tt.nodes)
			for i := range nodes {
				nodes[i].name = string(rune('a' + i))
			}
			e := newEngine(engineConfig{rt: sim.New(sim.Options{}), clock: clocktesting.NewFakeClock(tt.now), nodes: nodes, name: "test"})
			if got := e.beatDelay(tt.d); got != tt.want {
				t.Errorf("beatDelay(%v) at %v = %v, want %v", tt.d, tt.now.Format("15:04:05.000"), got, tt.want)
			}
		})
	}
}
