package cloud

import "sync"

// maxConsole is how much of a VM's console output is kept: the most
// recent 64 KiB, as EC2 and OpenStack keep.
const maxConsole = 64 << 10

// consoles holds what the VMs' guests wrote to their consoles. A guest is
// simulated outside the simulator (the cloud-init follower runs a joined
// VM's agent), so the text is written in by whoever plays the guest. It is
// kept in memory only: a restart, or another server sharing the store,
// starts with blank consoles, as a real console buffer would.
type consoles struct {
	mu sync.Mutex
	m  map[string][]byte // by VM id
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
	if s.cons.m == nil {
		s.cons.m = map[string][]byte{}
	}
	for vid := range s.cons.m {
		if live != nil && !live[vid] {
			delete(s.cons.m, vid)
		}
	}
	if !exists {
		return
	}
	b := append(s.cons.m[id], text...)
	if len(b) > maxConsole {
		b = append([]byte(nil), b[len(b)-maxConsole:]...)
	}
	s.cons.m[id] = b
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
