package cloud

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"sort"
	"strings"
)

// MoveNetworkACLItem puts a rule of an ACL list between two others
// (previousID "" or "NULL": first; else nextID "" or "NULL": last), as
// NetworkACLServiceImpl does: the moved rule takes the number after its
// new predecessor (or before its successor, at the top) and the rules
// after it are renumbered only where numbers would clash. hash, when
// given, is the MD5 of the list's rule ids in order, and must match the
// list as it is.
func (s *Sim) MoveNetworkACLItem(ctx context.Context, c Caller, id, previousID, nextID, hash, cmd string) (*NetworkACLItem, *Job, error) {
	if strings.EqualFold(previousID, "NULL") {
		previousID = ""
	}
	if strings.EqualFold(nextID, "NULL") {
		nextID = ""
	}
	var out *NetworkACLItem
	var job *Job
	err := s.write(func(ix *index) error {
		if previousID == "" && nextID == "" {
			return Invalid("Both previous and next ACL rule IDs cannot be blank.")
		}
		cur, ok := ix.aclItem(id)
		if !ok {
			return Invalid("Could not find a rule with ID[%s]", id)
		}
		l, err := ix.modifiableACL(c, cur.ACLID)
		if err != nil {
			return err
		}
		var items []*NetworkACLItem
		for _, it := range ix.aclItems.all() {
			if it.ACLID == l.ID {
				items = append(items, it)
			}
		}
		sort.SliceStable(items, func(i, j int) bool { return items[i].Number < items[j].Number })
		if hash != "" {
			var ids strings.Builder
			for _, it := range items {
				ids.WriteString(it.ID)
			}
			sum := md5.Sum([]byte(ids.String()))
			if !strings.EqualFold(hex.EncodeToString(sum[:]), hash) {
				return Invalid("It seems that the access control list in the database is not in the state that you used to apply the changes. Please, try again.")
			}
		}
		for _, other := range []string{previousID, nextID} {
			if other == "" {
				continue
			}
			o, ok := ix.aclItem(other)
			if !ok {
				return Invalid("Could not find a rule with ID[%s]", other)
			}
			if o.ACLID != cur.ACLID {
				return Invalid("Cannot use ACL rules from differenting ACLs. Rule being moved: %s, rule %s", id, other)
			}
		}
		order := make([]NetworkACLItem, 0, len(items))
		for _, it := range items {
			if it.ID != id {
				order = append(order, *it)
			}
		}
		// As CloudStack: no previous rule is the top, no next rule the
		// bottom, whatever the other one names.
		k := len(order)
		switch {
		case previousID == "":
			k = 0
		case nextID != "":
			for i, it := range order {
				if it.ID == previousID {
					k = i + 1
				}
			}
			if k >= len(order) || order[k].ID != nextID {
				return Invalid("The previous and next ACL rules are not next to each other")
			}
		}
		moved := *cur
		order = append(order[:k], append([]NetworkACLItem{moved}, order[k:]...)...)
		if k == 0 {
			if len(order) > 1 {
				order[0].Number = max(1, order[1].Number-1)
			}
		} else {
			order[k].Number = order[k-1].Number + 1
		}
		b := &batch{}
		for i := range order {
			if i > k && order[i].Number <= order[i-1].Number {
				order[i].Number = order[i-1].Number + 1
			}
			if i < k && order[i].ID != id {
				continue
			}
			if old, _ := ix.aclItem(order[i].ID); old.Number != order[i].Number {
				n := order[i]
				put(b, ix.aclItems, &n)
			}
		}
		res := order[k]
		job = s.finishedJob(b, c, l.Owner, cmd, KindNetworkACLItem, id, &res)
		out = &res
		return s.commit(ctx, b)
	})
	return out, job, err
}
