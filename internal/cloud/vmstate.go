package cloud

import "fmt"

// VMState is a state of CloudStack's VM life cycle.
type VMState string

// VM states, as the API shows them.
const (
	VMStopped   VMState = "Stopped"
	VMStarting  VMState = "Starting"
	VMRunning   VMState = "Running"
	VMStopping  VMState = "Stopping"
	VMMigrating VMState = "Migrating"
	VMDestroyed VMState = "Destroyed"
	VMExpunging VMState = "Expunging"
	VMError     VMState = "Error"
)

// vmTransitions is the life cycle: from each state, the states a VM may move to.
var vmTransitions = map[VMState][]VMState{
	VMStopped:   {VMStarting, VMDestroyed, VMError},
	VMStarting:  {VMRunning, VMStopped, VMError},
	VMRunning:   {VMStopping, VMMigrating, VMRunning /* reboot */, VMStopped /* host down */, VMStarting /* HA restart */},
	VMStopping:  {VMStopped, VMRunning},
	VMMigrating: {VMRunning, VMStopped},
	VMDestroyed: {VMStopped /* recover */, VMExpunging},
	VMExpunging: {},
	VMError:     {VMDestroyed, VMExpunging},
}

// CanMove reports whether the life cycle allows moving from s to next.
func (s VMState) CanMove(next VMState) bool {
	for _, n := range vmTransitions[s] {
		if n == next {
			return true
		}
	}
	return false
}

// Valid reports whether s is a known state.
func (s VMState) Valid() bool { _, ok := vmTransitions[s]; return ok }

// move returns next if the transition is allowed, else CloudStack's
// invalid-state error for the operation.
func (s VMState) move(next VMState, op string) (VMState, error) {
	if !s.CanMove(next) {
		return s, Invalid("Unable to %s the VM as it is in %s state", op, s)
	}
	return next, nil
}

// holdsCapacity reports whether a VM in state s occupies host capacity.
func (s VMState) holdsCapacity() bool {
	switch s {
	case VMStarting, VMRunning, VMStopping, VMMigrating:
		return true
	}
	return false
}

func (s VMState) String() string { return string(s) }

var _ fmt.Stringer = VMStopped
