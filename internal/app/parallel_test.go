package app

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestParallelStartsTogetherAndUnwindsOnFailure(t *testing.T) {
	tests := []struct {
		name        string
		fail        string
		wantErr     bool
		wantStopped []string
	}{
		{name: "all start"},
		{name: "one fails", fail: "b", wantErr: true, wantStopped: []string{"a", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var stopped []string
			gate := make(chan struct{})
			var arrived sync.WaitGroup
			arrived.Add(3)
			part := func(name string) Component {
				return Func{N: name,
					StartFn: func(ctx context.Context) error {
						arrived.Done()
						<-gate // every part must be starting at once
						if name == tt.fail {
							return errors.New("boom")
						}
						return nil
					},
					StopFn: func(ctx context.Context) error {
						mu.Lock()
						stopped = append(stopped, name)
						mu.Unlock()
						return nil
					},
				}
			}
			p := &Parallel{N: "p", Parts: []Component{part("a"), part("b"), part("c")}}
			go func() { arrived.Wait(); close(gate) }()
			done := make(chan error)
			go func() { done <- p.Start(context.Background()) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("parts did not start in parallel")
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("Start: %v", err)
			}
			slices.Sort(stopped)
			if !slices.Equal(stopped, tt.wantStopped) {
				t.Fatalf("stopped %v, want %v", stopped, tt.wantStopped)
			}
			if tt.wantErr {
				if got := p.NotReady(); len(got) != 3 {
					t.Fatalf("not ready after failure: %v", got)
				}
				return
			}
			if !p.Ready() {
				t.Fatalf("not ready: %v", p.NotReady())
			}
			if err := p.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(stopped) != 3 {
				t.Fatalf("stopped %v", stopped)
			}
		})
	}
}

func TestGroupReadyNamesParallelMembers(t *testing.T) {
	notYet := Func{N: "slow", ReadyFn: func() bool { return false }}
	var g Group
	g.Add(&Parallel{N: "p", Parts: []Component{Func{N: "fast"}, notYet}})
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer g.Stop(context.Background())
	ok, missing := g.Ready()
	if ok || !slices.Equal(missing, []string{"slow"}) {
		t.Fatalf("Ready = %v %v", ok, missing)
	}
}
