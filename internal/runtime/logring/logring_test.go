package logring

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// stepClock moves on a second each time it is read.
type stepClock struct{ t time.Time }

func (c *stepClock) Now() time.Time                  { c.t = c.t.Add(time.Second); return c.t }
func (c *stepClock) Since(t time.Time) time.Duration { return c.t.Sub(t) }

func fixedClock() *stepClock { return &stepClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func TestWriteTo(t *testing.T) {
	tests := []struct {
		name  string
		write []string
		max   int
		opts  Options
		want  string
	}{
		{"all", []string{"a\nb\n", "c\n"}, 0, Options{TailLines: -1}, "a\nb\nc\n"},
		{"tail", []string{"a\nb\nc\n"}, 0, Options{TailLines: 2}, "b\nc\n"},
		{"tail zero", []string{"a\nb\n"}, 0, Options{TailLines: 0}, ""},
		{"tail more than kept", []string{"a\n"}, 0, Options{TailLines: 5}, "a\n"},
		{"partial joined", []string{"he", "llo\nwor", "ld\n"}, 0, Options{TailLines: -1}, "hello\nworld\n"},
		{"bounded drops oldest", []string{"aaaa\nbbbb\ncccc\n"}, 10, Options{TailLines: -1}, "bbbb\ncccc\n"},
		{"limit bytes", []string{"abc\ndef\n"}, 0, Options{TailLines: -1, LimitBytes: 5}, "abc\nd"},
		{"timestamps", []string{"x\n"}, 0, Options{TailLines: -1, Timestamps: true}, "2026-01-02T03:04:06Z x\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &Buffer{MaxBytes: tc.max, Clock: fixedClock()}
			for _, w := range tc.write {
				if _, err := b.Write([]byte(w)); err != nil {
					t.Fatal(err)
				}
			}
			var out bytes.Buffer
			if err := b.WriteTo(context.Background(), &out, tc.opts); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Fatalf("got %q, want %q", out.String(), tc.want)
			}
		})
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
	ch chan struct{}
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	select {
	case s.ch <- struct{}{}:
	default:
	}
	return n, err
}

func (s *syncBuf) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestFollowEndsOnClose(t *testing.T) {
	b := &Buffer{}
	b.Line("first")
	out := &syncBuf{ch: make(chan struct{}, 1)}
	done := make(chan error)
	go func() { done <- b.WriteTo(context.Background(), out, Options{Follow: true, TailLines: -1}) }()
	<-out.ch
	_, _ = b.Write([]byte("second\nthird"))
	<-out.ch
	_ = b.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "first\nsecond\nthird\n" {
		t.Fatalf("got %q", got)
	}
}

func TestFollowEndsOnContext(t *testing.T) {
	b := &Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	var out strings.Builder
	go func() { done <- b.WriteTo(ctx, &out, Options{Follow: true, TailLines: -1}) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func BenchmarkWrite(b *testing.B) {
	buf := &Buffer{}
	p := []byte("a log line of moderate length for the benchmark\n")
	b.ReportAllocs()
	for b.Loop() {
		_, _ = buf.Write(p)
	}
}
