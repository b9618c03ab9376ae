// Package logring keeps a container's output in memory as timestamped lines,
// bounded in bytes (the oldest lines go first), and writes it back the way
// `kubectl logs` asks: all or the last N lines, with or without timestamps,
// following new output until the container exits.
package logring

import (
	"bytes"
	"context"
	"io"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// DefaultMaxBytes bounds a buffer whose MaxBytes is zero.
const DefaultMaxBytes = 1 << 20

type line struct {
	t    time.Time
	text []byte // without the newline
}

// Buffer is one container's output. The zero value is ready to use.
type Buffer struct {
	// MaxBytes bounds the text kept; 0 means DefaultMaxBytes.
	MaxBytes int
	// Clock gives line times; nil means the wall clock.
	Clock clock.PassiveClock

	mu      sync.Mutex
	lines   []line // ring of retained lines; lines[head] is the oldest
	head    int
	n       int    // retained lines
	size    int    // retained bytes
	seq     uint64 // lines ever appended; the oldest retained is seq-n
	partial []byte
	closed  bool
	changed chan struct{} // closed (and replaced) whenever lines are appended or the buffer closes
}

func (b *Buffer) now() time.Time {
	if b.Clock != nil {
		return b.Clock.Now()
	}
	return time.Now()
}

// Write appends p, split into lines at '\n'; a trailing partial line waits
// for its end (or for Close).
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, io.ErrClosedPipe
	}
	n := len(p)
	t := b.now()
	added := false
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			b.partial = append(b.partial, p...)
			break
		}
		text := p[:i]
		if len(b.partial) > 0 {
			text = append(b.partial, text...)
			b.partial = nil
		} else {
			text = bytes.Clone(text)
		}
		b.appendLocked(line{t: t, text: text})
		added = true
		p = p[i+1:]
	}
	if added {
		b.signalLocked()
	}
	return n, nil
}

// Line appends one whole line (s has no newline).
func (b *Buffer) Line(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.appendLocked(line{t: b.now(), text: []byte(s)})
	b.signalLocked()
}

// Close flushes a partial last line and ends every follower once it has
// written what is there.
func (b *Buffer) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	if len(b.partial) > 0 {
		b.appendLocked(line{t: b.now(), text: b.partial})
		b.partial = nil
	}
	b.closed = true
	b.signalLocked()
	return nil
}

func (b *Buffer) max() int {
	if b.MaxBytes > 0 {
		return b.MaxBytes
	}
	return DefaultMaxBytes
}

func (b *Buffer) appendLocked(l line) {
	if b.n == len(b.lines) {
		// grow the ring, oldest first; from one line, since most
		// containers (every sim container) print one or a few, and a
		// ring of eight cost 384 bytes a container
		nl := make([]line, max(1, 2*len(b.lines)))
		for i := 0; i < b.n; i++ {
			nl[i] = b.lines[(b.head+i)%len(b.lines)]
		}
		b.lines, b.head = nl, 0
	}
	b.lines[(b.head+b.n)%len(b.lines)] = l
	b.n++
	b.seq++
	b.size += len(l.text) + 1
	for b.size > b.max() && b.n > 1 {
		old := &b.lines[b.head]
		b.size -= len(old.text) + 1
		*old = line{}
		b.head = (b.head + 1) % len(b.lines)
		b.n--
	}
}

func (b *Buffer) signalLocked() {
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
}

// Options select what WriteTo writes.
type Options struct {
	Follow     bool
	TailLines  int64 // < 0: all
	Timestamps bool
	SinceTime  time.Time
	LimitBytes int64 // <= 0: no limit
}

// WriteTo writes the lines opts selects to w. With Follow it keeps writing
// new lines until the buffer is closed or ctx ends (then it returns nil).
// If w is an http.Flusher-like value with Flush(), it is flushed after each
// batch.
func (b *Buffer) WriteTo(ctx context.Context, w io.Writer, opts Options) error {
	b.mu.Lock()
	cursor := b.seq - uint64(b.n)
	if opts.TailLines >= 0 && uint64(opts.TailLines) < uint64(b.n) {
		cursor = b.seq - uint64(opts.TailLines)
	}
	b.mu.Unlock()
	var written int64
	var out []byte
	flusher, _ := w.(interface{ Flush() })
	for {
		b.mu.Lock()
		oldest := b.seq - uint64(b.n)
		if cursor < oldest {
			cursor = oldest
		}
		out = out[:0]
		for ; cursor < b.seq; cursor++ {
			l := &b.lines[(b.head+int(cursor-oldest))%len(b.lines)]
			if !opts.SinceTime.IsZero() && l.t.Before(opts.SinceTime) {
				continue
			}
			if opts.Timestamps {
				out = l.t.UTC().AppendFormat(out, time.RFC3339Nano)
				out = append(out, ' ')
			}
			out = append(out, l.text...)
			out = append(out, '\n')
		}
		closed := b.closed
		var wait chan struct{}
		if !closed && opts.Follow {
			if b.changed == nil {
				b.changed = make(chan struct{})
			}
			wait = b.changed
		}
		b.mu.Unlock()
		if len(out) > 0 {
			chunk := out
			if opts.LimitBytes > 0 && written+int64(len(chunk)) > opts.LimitBytes {
				chunk = chunk[:opts.LimitBytes-written]
			}
			n, err := w.Write(chunk)
			written += int64(n)
			if err != nil {
				return err
			}
			if flusher != nil {
				flusher.Flush()
			}
			if opts.LimitBytes > 0 && written >= opts.LimitBytes {
				return nil
			}
		}
		if wait == nil {
			return nil
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil
		}
	}
}
