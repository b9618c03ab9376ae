package cloud

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/stratus-cloud/stratus/internal/store"
)

// maxConsole is how much of a VM's console output is kept: the most
// recent 64 KiB, as EC2 and OpenStack keep.
const maxConsole = 64 << 10

// consolePrefix is where the consoles are kept in the store, one key per
// VM holding its text as a JSON string. It lies outside keyRoot: a
// console is the guest's output, not the simulator's state, so writing it
// wakes no follower of that state (the cloud-init follower writes
// consoles and follows the state).
const consolePrefix = "/stratus/consoles/"

// consoleFlushDelay is how long console text waits before it is written
// to the store, in one transaction with whatever else was written
// meanwhile: a burst of joins costs a write per delay, not per line.
const consoleFlushDelay = 100 * time.Millisecond

// consoleOpsPerTxn bounds the keys of one flush transaction (etcd refuses
// transactions of more than 128 operations by default).
const consoleOpsPerTxn = 100

// consoles holds what the VMs' guests wrote to their consoles. A guest is
// simulated outside the simulator (the cloud-init follower runs a joined
// VM's agent), so the text is written in by whoever plays the guest. The
// text is kept in the store (consolePrefix) shortly after it is written,
// so a restart finds it, as a VM's console log survives a management
// server restart; another server sharing the store reads it when it
// starts.
type consoles struct {
	mu sync.Mutex
	m  map[string][]byte // by VM id
	// dirty are the VMs whose text changed (or was forgotten) since the
	// last flush
	dirty map[string]bool
	kick  chan struct{} // a flush is due (buffered: 1)
}

// WriteConsole appends text to the console of VM id, keeping the last
// 64 KiB. It is the guest's side: no caller, no access check. A VM that
// does not exist keeps nothing.
func (s *Sim) WriteConsole(id, text string) {
	var exists bool
	var live map[string]bool
	s.read(func(ix *index) {
		_, exists = ix.vms.get(id)
		s.cons.mu.Lock()
		n := len(s.cons.m)
		s.cons.mu.Unlock()
		if n > 2*ix.vms.len()+16 { // forget the consoles of expunged VMs now and then
			live = make(map[string]bool, ix.vms.len())
			for vid := range ix.vms.m {
				live[vid] = true
			}
		}
	})
	s.cons.mu.Lock()
	defer s.cons.mu.Unlock()
	s.cons.init()
	for vid := range s.cons.m {
		if live != nil && !live[vid] {
			delete(s.cons.m, vid)
			s.cons.dirty[vid] = true
		}
	}
	if exists {
		b := append(s.cons.m[id], text...)
		if len(b) > maxConsole {
			b = append([]byte(nil), b[len(b)-maxConsole:]...)
		}
		s.cons.m[id] = b
		s.cons.dirty[id] = true
	}
	if len(s.cons.dirty) > 0 {
		select {
		case s.cons.kick <- struct{}{}:
		default:
		}
	}
}

// init makes the maps and the channel; caller holds mu.
func (c *consoles) init() {
	if c.m == nil {
		c.m, c.dirty, c.kick = map[string][]byte{}, map[string]bool{}, make(chan struct{}, 1)
	}
}

// ConsoleOutput returns what VM id's guest wrote to its console, for a
// caller who may see the VM.
func (s *Sim) ConsoleOutput(c Caller, id string) (string, error) {
	if err := s.checkVM(c, id, nil); err != nil {
		return "", err
	}
	s.cons.mu.Lock()
	defer s.cons.mu.Unlock()
	return string(s.cons.m[id]), nil
}

// loadConsoles reads the consoles a previous run kept, for the VMs that
// still exist; the others' keys are deleted at the next flush.
func (s *Sim) loadConsoles(ctx context.Context) error {
	res, err := s.st.List(ctx, consolePrefix, store.ListOptions{})
	if err != nil {
		return err
	}
	s.read(func(ix *index) {
		s.cons.mu.Lock()
		defer s.cons.mu.Unlock()
		s.cons.init()
		for _, kv := range res.KVs {
			id := strings.TrimPrefix(kv.Key, consolePrefix)
			var text string
			if _, ok := ix.vms.get(id); !ok || json.Unmarshal(kv.Value, &text) != nil {
				s.cons.dirty[id] = true
				continue
			}
			s.cons.m[id] = []byte(text)
		}
	})
	return nil
}

// consoleLoop writes the consoles that changed to the store,
// consoleFlushDelay after the first change, until the simulator stops,
// when it writes what is left.
func (s *Sim) consoleLoop() {
	defer s.jobs.Done()
	s.cons.mu.Lock()
	s.cons.init()
	kick := s.cons.kick
	s.cons.mu.Unlock()
	final := func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 5*time.Second)
		defer cancel()
		s.flushConsoles(ctx)
	}
	for {
		select {
		case <-s.ctx.Done():
			final()
			return
		case <-kick:
		}
		select {
		case <-s.ctx.Done():
			final()
			return
		case <-time.After(consoleFlushDelay):
		}
		s.flushConsoles(s.ctx)
	}
}

// flushConsoles writes the changed consoles to the store, and deletes the
// keys of the forgotten ones. What fails to be written is tried again at
// the next flush.
func (s *Sim) flushConsoles(ctx context.Context) {
	s.cons.mu.Lock()
	var ops []store.Op
	var ids []string
	for id := range s.cons.dirty {
		if b, ok := s.cons.m[id]; ok {
			v, _ := json.Marshal(string(b))
			ops = append(ops, store.Put(consolePrefix+id, v))
		} else {
			ops = append(ops, store.Delete(consolePrefix+id))
		}
		ids = append(ids, id)
	}
	clear(s.cons.dirty)
	s.cons.mu.Unlock()
	for i := 0; i < len(ops); i += consoleOpsPerTxn {
		j := min(i+consoleOpsPerTxn, len(ops))
		if _, err := s.st.Txn(ctx, ops[i:j]...); err != nil {
			s.log.Warn("cannot keep the VMs' console output", "vms", j-i, "err", err)
			s.cons.mu.Lock()
			for _, id := range ids[i:] {
				s.cons.dirty[id] = true
			}
			s.cons.mu.Unlock()
			return
		}
	}
}
