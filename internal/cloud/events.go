package cloud

// event adds an INFO event record to b.
func (ix *index) event(b *batch, s *Sim, o Owner, c Caller, typ, desc, resourceID string, kind Kind) {
	ix.eventAt(b, s, "INFO", o, c, typ, desc, resourceID, kind)
}

// eventError adds an ERROR event record to b: an action that failed
// (CloudStack logs those at level ERROR, still in state Completed).
func (ix *index) eventError(b *batch, s *Sim, o Owner, c Caller, typ, desc, resourceID string, kind Kind) {
	ix.eventAt(b, s, "ERROR", o, c, typ, desc, resourceID, kind)
}

func (ix *index) eventAt(b *batch, s *Sim, level string, o Owner, c Caller, typ, desc, resourceID string, kind Kind) {
	if o.AccountID == "" && c.Account != nil {
		o = c.Owner()
	}
	if o.AccountID == "" {
		if u, ok := ix.users.get(ix.meta.AdminUserID); ok {
			o = Owner{AccountID: u.AccountID, DomainID: u.DomainID}
		}
	}
	e := &Event{ID: newID(), Seq: ix.nextSeq(), Type: typ, Level: level, State: "Completed", Description: desc,
		ResourceID: resourceID, Kind: kind, Created: s.clock.Now().UTC(), Owner: o}
	if c.User != nil {
		e.UserID = c.User.ID
	}
	put(b, ix.events, e)
}

// caller resolves who submitted the job, for event attribution.
func (jc *jobCtx) caller(ix *index) Caller {
	if jc == nil {
		return Caller{}
	}
	return ix.callerOf(jc.job.UserID)
}

// callerOf builds the Caller of a user id (zero Caller if unknown).
func (ix *index) callerOf(userID string) Caller {
	u, ok := ix.users.get(userID)
	if !ok {
		return Caller{}
	}
	a, _ := ix.accounts.get(u.AccountID)
	d, _ := ix.domains.get(u.DomainID)
	return Caller{User: u, Account: a, Domain: d}
}
