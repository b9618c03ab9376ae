package cloudstack_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/apache/cloudstack-go/v2/cloudstack"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
)

// lockedBuffer is a log sink the server's goroutines may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestUnimplementedCommand: a real CloudStack command stratus does not
// simulate answers as CloudStack answers an unknown command (401 under key
// auth, as real clients see it), and stratus names it in a warning and in
// stratus_cloudstack_unimplemented_commands_total; a name that is no
// CloudStack command is counted as "other".
func TestUnimplementedCommand(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs lockedBuffer
	srv := cstest.Start(t, cstest.Options{Metrics: reg, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	cs := cloudstack.NewAsyncClient(srv.URL, srv.APIKey, srv.SecretKey, false)
	_, err := cs.LoadBalancer.ListGlobalLoadBalancerRules(cs.LoadBalancer.NewListGlobalLoadBalancerRulesParams())
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "unable to verify user credentials and/or request signature") {
		t.Fatalf("unimplemented command: %v", err)
	}
	var out map[string]any
	if err := cs.Custom.(*cloudstack.CustomService).CustomRequest("noSuchCommand", &cloudstack.CustomServiceParams{}, &out); err == nil {
		t.Fatal("unknown command answered")
	}
	c, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"listGlobalLoadBalancerRules": 1, "other": 1}
	seen := map[string]float64{}
	for _, mf := range c {
		if mf.GetName() != "stratus_cloudstack_unimplemented_commands_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			seen[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	for k, v := range want {
		if seen[k] != v {
			t.Errorf("unimplemented %s counted %v, want %v (all: %v)", k, seen[k], v, seen)
		}
	}
	if len(seen) != 2 {
		t.Errorf("series %v, want only listGlobalLoadBalancerRules and other", seen)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "command=listGlobalLoadBalancerRules") {
		t.Errorf("no warning naming the command in:\n%s", logs.String())
	}
}
