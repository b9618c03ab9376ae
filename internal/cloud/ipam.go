package cloud

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/stratus-cloud/stratus/internal/store"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func parseIP(s string) (uint32, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, fmt.Errorf("%q is not an IPv4 address", s)
	}
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), nil
}

func formatIP(n uint32) string {
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}).String()
}

func claimKey(network string, ip uint32) string {
	return claimPrefix + network + "/" + formatIP(ip)
}

// allocIP picks a free address of the network (want, when set, must be in
// range and free), and adds its claim to b. Caller holds wmu.
func (ix *index) allocIP(b *batch, n *Network, want, owner string) (string, *IPRange, error) {
	used := ix.claimed[n.ID]
	if want != "" {
		a, err := parseIP(want)
		if err != nil {
			return "", nil, Invalid("Invalid ip address %s", want)
		}
		for i := range n.Ranges {
			r := &n.Ranges[i]
			s, _ := parseIP(r.Start)
			e, _ := parseIP(r.End)
			if a >= s && a <= e {
				if _, taken := used[a]; taken || b.pending[claimKey(n.ID, a)] {
					return "", nil, Errorf(CodeInsufficientCap, CSInsufficientCapacity,
						"The IP address %s is already in use in network %s", want, n.Name)
				}
				ix.claim(b, n.ID, a, owner)
				return want, r, nil
			}
		}
		return "", nil, Invalid("IP address %s is not in the range of network %s", want, n.Name)
	}
	// Scan from where the last allocation in this network stopped, so
	// allocation stays cheap as the network fills up.
	hint := ix.nextIP[n.ID]
	for pass := 0; pass < 2; pass++ {
		for i := range n.Ranges {
			r := &n.Ranges[i]
			s, _ := parseIP(r.Start)
			e, _ := parseIP(r.End)
			from := s
			if pass == 0 {
				if hint > e {
					continue
				}
				from = max(s, hint)
			}
			for a := from; a <= e && a >= from; a++ {
				if _, taken := used[a]; !taken && !b.pending[claimKey(n.ID, a)] {
					ix.claim(b, n.ID, a, owner)
					ix.nextIP[n.ID] = a + 1
					return formatIP(a), r, nil
				}
			}
		}
	}
	return "", nil, Errorf(CodeInsufficientCap, CSInsufficientCapacity,
		"Insufficient address capacity: no free IP address in network %s", n.Name)
}

// claim adds an address claim to b; it becomes visible in the index when b
// commits. Claims in a pending batch are tracked so one batch never picks
// the same address twice.
func (ix *index) claim(b *batch, network string, ip uint32, owner string) {
	key := claimKey(network, ip)
	if b.pending == nil {
		b.pending = map[string]bool{}
	}
	b.pending[key] = true
	b.ops = append(b.ops, store.Create(key, []byte(strconv.Quote(owner))))
	b.then(func(rev int64) { ix.markClaimed(network, ip, rev, true) })
}

// release adds the deletion of an address claim to b.
func (ix *index) release(b *batch, network, ip string) {
	a, err := parseIP(ip)
	if err != nil {
		return
	}
	key := claimKey(network, a)
	b.ops = append(b.ops, store.Delete(key))
	b.then(func(rev int64) {
		ix.markClaimed(network, a, rev, false)
		ix.tombs[key] = rev
	})
}

// ipCount returns the addresses of a network and how many are in use.
func (ix *index) ipCount(n *Network) (total, used int64) {
	for _, r := range n.Ranges {
		s, _ := parseIP(r.Start)
		e, _ := parseIP(r.End)
		total += int64(e) - int64(s) + 1
	}
	return total, int64(len(ix.claimed[n.ID]))
}
