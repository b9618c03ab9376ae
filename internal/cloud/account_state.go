package cloud

import (
	"context"
)

// Account and user states an admin sets: enabled, disabled and locked.
// Neither a disabled nor a locked account's users may call the API or log
// in; disabling an account (not locking it) also stops its running VMs,
// as the real server does. Admins may not change their own account or
// user, nor the system admin's.

// Account and user states.
const (
	StateEnabled  = "enabled"
	StateDisabled = "disabled"
	StateLocked   = "locked"
)

// checkStateChange refuses state changes an admin may not make.
func (ix *index) checkAccountStateChange(c Caller, a *Account) error {
	switch {
	case !c.IsAdmin():
		return Denied("Account %s does not have permission to change the state of accounts", c.Account.Name)
	case a.ID == c.Account.ID:
		return Invalid("Unable to change the state of the caller's own account %s", a.Name)
	case ix.meta.AdminUserID != "" && a.ID == ix.callerOf(ix.meta.AdminUserID).Account.ID:
		return Denied("Account id : %s is a system account, disable is not allowed", a.ID)
	}
	return nil
}

// resolveAccount finds an account by id, or by name in a domain.
func (ix *index) resolveAccount(c Caller, id, name, domainID string) (*Account, error) {
	if id == "" {
		a := ix.accountByName(name, domainID)
		if a == nil || !ix.canAccess(c, Owner{AccountID: a.ID, DomainID: a.DomainID}) {
			return nil, Invalid("Unable to find account by accountId: null OR by name: %s in domain %s", name, domainID)
		}
		return a, nil
	}
	a, ok := ix.accounts.get(id)
	if !ok || !ix.canAccess(c, Owner{AccountID: a.ID, DomainID: a.DomainID}) {
		return nil, Invalid("Unable to find account by accountId: %s OR by name: %s in domain %s", id, name, domainID)
	}
	return a, nil
}

// SetAccountState enables or locks an account (enableAccount, lockAccount).
func (s *Sim) SetAccountState(ctx context.Context, c Caller, id, name, domainID, state string) (*Account, error) {
	var out *Account
	err := s.write(func(ix *index) error {
		a, err := ix.resolveAccount(c, id, name, domainID)
		if err != nil {
			return err
		}
		if err := ix.checkAccountStateChange(c, a); err != nil {
			return err
		}
		b := &batch{}
		n := *a
		n.State = state
		put(b, ix.accounts, &n)
		typ := "ACCOUNT.ENABLE"
		if state == StateLocked {
			typ = "ACCOUNT.DISABLE"
		}
		ix.event(b, s, Owner{AccountID: a.ID, DomainID: a.DomainID}, c, typ, "Account "+a.Name+" is now "+state, a.ID, KindAccount)
		out = &n
		return s.commit(ctx, b)
	})
	return out, err
}

// DisableAccount disables an account in an async job, stopping its
// running VMs; with lock it only locks it (lockAccount's effect).
func (s *Sim) DisableAccount(ctx context.Context, c Caller, id, name, domainID string, lock bool, cmd string) (*Job, error) {
	var acc *Account
	var err error
	s.read(func(ix *index) {
		if acc, err = ix.resolveAccount(c, id, name, domainID); err == nil {
			err = ix.checkAccountStateChange(c, acc)
		}
	})
	if err != nil {
		return nil, err
	}
	state := StateDisabled
	if lock {
		state = StateLocked
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindAccount, InstanceID: acc.ID}, func(ctx context.Context, jc *jobCtx) error {
		var running []string
		err := s.write(func(ix *index) error {
			a, ok := ix.accounts.get(acc.ID)
			if !ok {
				return notFound(KindAccount, acc.ID)
			}
			b := &batch{}
			n := *a
			n.State = state
			put(b, ix.accounts, &n)
			ix.event(b, s, Owner{AccountID: a.ID, DomainID: a.DomainID}, jc.caller(ix), "ACCOUNT.DISABLE", "Account "+a.Name+" is now "+state, a.ID, KindAccount)
			if !lock {
				for _, vm := range ix.vms.byGroup(a.ID) {
					if vm.State == VMRunning {
						running = append(running, vm.ID)
					}
				}
			}
			return s.commit(ctx, b)
		})
		if err != nil {
			return err
		}
		for _, vmID := range running {
			if err := s.stopVM(ctx, jc, vmID, true); err != nil {
				return err
			}
		}
		return s.write(func(ix *index) error {
			a, ok := ix.accounts.get(acc.ID)
			if !ok {
				return notFound(KindAccount, acc.ID)
			}
			b := &batch{}
			jc.complete(b, KindAccount, a)
			return s.commit(ctx, b)
		})
	})
}

// checkUserStateChange refuses state changes an admin may not make.
func (ix *index) checkUserStateChange(c Caller, u *User) error {
	switch {
	case !c.IsAdmin():
		return Denied("Account %s does not have permission to change the state of users", c.Account.Name)
	case u.ID == c.User.ID:
		return Invalid("Unable to change the state of the caller's own user %s", u.Username)
	case u.ID == ix.meta.AdminUserID:
		return Invalid("user id : %s is system account, update is not allowed", u.ID)
	}
	return nil
}

// SetUserState enables or locks a user (enableUser, lockUser).
func (s *Sim) SetUserState(ctx context.Context, c Caller, id, state string) (*User, error) {
	var out *User
	err := s.write(func(ix *index) error {
		b := &batch{}
		var err error
		if out, err = s.setUserState(ix, b, c, id, state); err != nil {
			return err
		}
		return s.commit(ctx, b)
	})
	return out, err
}

// DisableUser disables a user in an async job whose result is the user.
func (s *Sim) DisableUser(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	var err error
	s.read(func(ix *index) { _, err = s.setUserState(ix, &batch{}, c, id, StateDisabled) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindUser, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			b := &batch{}
			u, err := s.setUserState(ix, b, jc.caller(ix), id, StateDisabled)
			if err != nil {
				return err
			}
			// the job's result is kept: no password hash or secret key in it
			shown := *u
			shown.PasswordHash, shown.SecretKey = "", ""
			jc.complete(b, KindUser, &shown)
			return s.commit(ctx, b)
		})
	})
}

// setUserState adds a user's new state to b.
func (s *Sim) setUserState(ix *index, b *batch, c Caller, id, state string) (*User, error) {
	u, ok := ix.users.get(id)
	if !ok || !ix.canAccess(c, Owner{AccountID: u.AccountID, DomainID: u.DomainID}) {
		return nil, Invalid("Unable to find active user by id %s", id)
	}
	if err := ix.checkUserStateChange(c, u); err != nil {
		return nil, err
	}
	n := *u
	n.State = state
	put(b, ix.users, &n)
	typ := "USER.ENABLE"
	switch state {
	case StateDisabled:
		typ = "USER.DISABLE"
	case StateLocked:
		typ = "USER.LOCK"
	}
	ix.event(b, s, Owner{AccountID: u.AccountID, DomainID: u.DomainID}, c, typ, "User "+u.Username+" is now "+state, u.ID, KindUser)
	return &n, nil
}
