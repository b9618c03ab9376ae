// Package netslot gives every stratus on one machine its own share of
// loopback, so any number of them run side by side: a range of service
// cluster IPs, a range of pod IPs (one /24 per node) and an address for
// node ports and the host's node agent. The service proxy and the sim
// runtime bind those addresses, so two instances with the same ranges
// would take each other's ports.
//
// The share is a numbered slot. Slot 0 is the layout stratus always had
// (services 127.100.0.0/16, node ports on 127.0.0.1); the others are
// carved next to it:
//
//	slot   service CIDR      pod CIDR             node address
//	0      127.100.0.0/16    127.128.0.0/10       127.0.0.1
//	k≥1    127.(100+k).0.0/16 127.(188+4k).0.0/14 127.99.k.1
//
// A running stratus holds its slot with an advisory lock on a file in a
// machine-wide directory (the kernel drops it when the process dies), and
// Claim checks the service range's first address is free too, so an
// instance that holds no lock (an older build) is not run over.
package netslot

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Count is the number of slots: slot 0 and 16 more.
const Count = 17

// Ranges are the loopback addresses of one slot.
type Ranges struct {
	// Slot is the slot's number.
	Slot int `json:"slot"`
	// ServiceCIDR is where service cluster IPs come from.
	ServiceCIDR netip.Prefix `json:"serviceCIDR"`
	// PodCIDR is where the nodes' pod CIDRs (/24 each) come from.
	PodCIDR netip.Prefix `json:"podCIDR"`
	// NodeAddr is where node ports listen and the host's node agent serves.
	NodeAddr netip.Addr `json:"nodeAddress"`
}

// At returns the ranges of slot n.
func At(n int) (Ranges, error) {
	switch {
	case n == 0:
		return Ranges{Slot: 0, ServiceCIDR: netip.MustParsePrefix("127.100.0.0/16"),
			PodCIDR: netip.MustParsePrefix("127.128.0.0/10"), NodeAddr: netip.MustParseAddr("127.0.0.1")}, nil
	case n > 0 && n < Count:
		return Ranges{Slot: n,
			ServiceCIDR: netip.PrefixFrom(netip.AddrFrom4([4]byte{127, byte(100 + n), 0, 0}), 16),
			PodCIDR:     netip.PrefixFrom(netip.AddrFrom4([4]byte{127, byte(188 + 4*n), 0, 0}), 14),
			NodeAddr:    netip.AddrFrom4([4]byte{127, 99, byte(n), 1}),
		}, nil
	}
	return Ranges{}, fmt.Errorf("network slot %d: want 0 to %d", n, Count-1)
}

// ErrInUse is returned by Claim when the slot asked for is taken.
var ErrInUse = errors.New("network slot is in use by another stratus")

// Claim is a slot held by this process.
type Claim struct {
	Ranges
	lock *os.File
}

// DefaultDir is the machine-wide directory of slot locks.
func DefaultDir() string { return filepath.Join(os.TempDir(), "stratus-netslots") }

// Take claims slot want, or when want < 0 the lowest free slot. dir holds
// the lock files ("" is DefaultDir).
func Take(dir string, want int) (*Claim, error) {
	if dir == "" {
		dir = DefaultDir()
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, fmt.Errorf("network slots: %w", err)
	}
	// Other users' instances share the directory.
	_ = os.Chmod(dir, 0o1777)
	if want >= 0 {
		r, err := At(want)
		if err != nil {
			return nil, err
		}
		return take(dir, r)
	}
	for n := range Count {
		r, _ := At(n)
		c, err := take(dir, r)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, ErrInUse) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("network slots: all %d are in use by other stratus instances on this machine", Count)
}

func take(dir string, r Ranges) (*Claim, error) {
	name := filepath.Join(dir, strconv.Itoa(r.Slot)+".lock")
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			// Another user's lock file: that user's instance holds it or
			// held it; either way not ours to use.
			return nil, fmt.Errorf("%w: %d (lock %s belongs to another user)", ErrInUse, r.Slot, name)
		}
		return nil, fmt.Errorf("network slot %d: %w", r.Slot, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		pid, _ := os.ReadFile(name)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %d (pid %s)", ErrInUse, r.Slot, strings.TrimSpace(string(pid)))
		}
		return nil, fmt.Errorf("network slot %d: %w", r.Slot, err)
	}
	if err := probe(r); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Claim{Ranges: r, lock: f}, nil
}

// probe checks that nothing listens on the slot's first cluster IP (where
// the kubernetes service's port 443 goes): a stratus that takes no lock
// would be there.
func probe(r Ranges) error {
	addr := net.JoinHostPort(r.ServiceCIDR.Addr().Next().String(), "443")
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln.Close()
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%w: %d (%s is taken)", ErrInUse, r.Slot, addr)
	}
	// Not allowed to bind a low port: no answer either way.
	return nil
}

// Release gives the slot back.
func (c *Claim) Release() error {
	if c == nil || c.lock == nil {
		return nil
	}
	err := c.lock.Close()
	c.lock = nil
	return err
}
