package store

import "fmt"

// Validate reports, wrapped in ErrInvalid, why no backend would accept ops.
func Validate(ops []Op) error {
	if len(ops) == 0 {
		return fmt.Errorf("%w: no ops", ErrInvalid)
	}
	for i := range ops {
		op := &ops[i]
		switch {
		case op.Key == "":
			return fmt.Errorf("%w: empty key", ErrInvalid)
		case len(op.Key) > MaxKeySize:
			return fmt.Errorf("%w: key of %d bytes (limit %d)", ErrInvalid, len(op.Key), MaxKeySize)
		case len(op.Value) > MaxValueSize:
			return fmt.Errorf("%w: value of %d bytes for %q (limit %d)", ErrInvalid, len(op.Value), op.Key, MaxValueSize)
		}
		switch op.Kind {
		case OpPut, OpDelete, OpCheck:
		default:
			return fmt.Errorf("%w: unknown op kind %d", ErrInvalid, op.Kind)
		}
		switch op.If.Kind {
		case CondNone, CondAbsent, CondExists, CondRevision:
		default:
			return fmt.Errorf("%w: unknown condition kind %d", ErrInvalid, op.If.Kind)
		}
	}
	return nil
}

// Collapse returns the writes (puts and deletes) of ops with one write per
// key: the last one given for that key, placed where the key was first
// written, without its condition (conditions are checked separately, all
// against the state before the transaction). Every backend applies a
// transaction's writes this way, so a key written twice in one transaction
// means the same everywhere (etcd itself refuses duplicate keys). dst is
// reused when it has room.
func Collapse(dst []Op, ops []Op) []Op {
	dst = dst[:0]
	var index map[string]int // only for long transactions
	for i := range ops {
		op := ops[i]
		if op.Kind == OpCheck {
			continue
		}
		op.If = Cond{}
		j := -1
		switch {
		case index != nil:
			if k, ok := index[op.Key]; ok {
				j = k
			}
		case len(dst) < 16:
			for k := range dst {
				if dst[k].Key == op.Key {
					j = k
					break
				}
			}
		default:
			index = make(map[string]int, len(ops))
			for k := range dst {
				index[dst[k].Key] = k
			}
			if k, ok := index[op.Key]; ok {
				j = k
			}
		}
		if j >= 0 {
			dst[j] = op
			continue
		}
		if index != nil {
			index[op.Key] = len(dst)
		}
		dst = append(dst, op)
	}
	return dst
}
