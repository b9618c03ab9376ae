package cloud

import (
	"context"
	"strings"
)

// CallerByAPIKey returns the caller owning an API key and its secret key.
func (s *Sim) CallerByAPIKey(apiKey string) (Caller, string, bool) {
	var c Caller
	var secret string
	s.read(func(ix *index) {
		id, ok := ix.apiKeys[apiKey]
		if !ok {
			return
		}
		c = ix.callerOf(id)
		if c.User != nil {
			secret = c.User.SecretKey
		}
	})
	ok := c.User != nil && c.Account != nil && c.User.State == "enabled" && c.Account.State == "enabled"
	return c, secret, ok
}

// CallerByUserID returns the caller of a user id (for sessions).
func (s *Sim) CallerByUserID(id string) (Caller, bool) {
	var c Caller
	s.read(func(ix *index) { c = ix.callerOf(id) })
	return c, c.User != nil && c.Account != nil && c.User.State == StateEnabled && c.Account.State == StateEnabled
}

// Login checks a username and password in a domain given by path ("/",
// "/sub/") or id. The error text is CloudStack's.
func (s *Sim) Login(username, password, domainPath, domainID string) (Caller, error) {
	var u *User
	var dom *Domain
	s.read(func(ix *index) {
		if dom = ix.loginDomain(domainPath, domainID); dom == nil {
			return
		}
		for _, x := range ix.users.all() {
			if x.DomainID == dom.ID && x.Username == username {
				u = x
			}
		}
	})
	fail := func() (Caller, error) { return Caller{}, s.LoginRefused(username, domainPath, domainID) }
	// The hash is checked for unknown and disabled users too (against a
	// hash no password matches), so the answer takes as long for a name
	// that does not exist as for a wrong password: timing tells no names.
	hash := noUserHash
	if u != nil {
		hash = u.PasswordHash
	}
	if ok := checkPassword(hash, password); !ok || u == nil || u.State != "enabled" {
		return fail()
	}
	c, ok := s.CallerByUserID(u.ID)
	if !ok {
		return fail()
	}
	return c, nil
}

// LoginRefused is CloudStack's answer to a failed login (wrong password,
// unknown or disabled user, or too many failures: all look the same).
func (s *Sim) LoginRefused(username, domainPath, domainID string) error {
	d := domainID
	s.read(func(ix *index) {
		if dom := ix.loginDomain(domainPath, domainID); dom != nil {
			d = dom.ID
		}
	})
	if d == "" {
		d = domainPath
	}
	return Errorf(CodeUnauthorized, 0, "Failed to authenticate user %s in domain %s; please provide valid credentials", username, d)
}

// loginDomain finds the domain a login names by id or path.
func (ix *index) loginDomain(domainPath, domainID string) *Domain {
	if domainID != "" {
		d, _ := ix.domains.get(domainID)
		return d
	}
	want := "ROOT" + strings.TrimSuffix("/"+strings.Trim(domainPath, "/"), "/")
	var dom *Domain
	for _, d := range ix.domains.all() {
		if strings.EqualFold(d.Path, want) {
			dom = d
		}
	}
	return dom
}

// noUserHash is a well-formed password hash (see hashPassword) that no
// password matches in practice: its digest is random bytes.
const noUserHash = "pbkdf2$c3RyYXR1cy1ubyB1c2VyIQ$5Vv2mQ8Zk1b0cY3pX7tN4rL6sJ9aD2fH8gK1eW3qU0o"

// AdminKeys returns the root admin's API key and secret key, generated
// when the data center was first seeded.
func (s *Sim) AdminKeys(ctx context.Context) (string, string, error) {
	var u *User
	s.read(func(ix *index) { u, _ = ix.users.get(ix.meta.AdminUserID) })
	if u == nil {
		return "", "", Errorf(CodeInternal, CSCloudRuntime, "the admin user is missing; has the simulator started?")
	}
	return u.APIKey, u.SecretKey, nil
}

// Admin returns the root admin as a Caller (for in-process clients).
func (s *Sim) Admin() Caller {
	var c Caller
	s.read(func(ix *index) { c = ix.callerOf(ix.meta.AdminUserID) })
	return c
}

// CreateAccountRequest is createAccount's parameters.
type CreateAccountRequest struct {
	Username, Password, Email, FirstName, LastName string
	Account, DomainID, Timezone                    string
	Type                                           AccountType
}

// CreateAccount creates an account with its first user and default
// security group.
func (s *Sim) CreateAccount(ctx context.Context, c Caller, r CreateAccountRequest) (*Account, *User, error) {
	if !c.IsAdmin() {
		return nil, nil, Denied("Account %s does not have permission to create accounts", c.Account.Name)
	}
	if r.Type < AccountUser || r.Type > AccountDomainAdmin {
		return nil, nil, Invalid("Invalid account type %d given; unable to create user", r.Type)
	}
	if r.Type == AccountRootAdmin && !c.IsRootAdmin() {
		return nil, nil, Denied("Only root admins can create root admin accounts")
	}
	hash, err := hashPassword(r.Password)
	if err != nil {
		return nil, nil, err
	}
	var acc *Account
	var user *User
	err = s.write(func(ix *index) error {
		dom := r.DomainID
		if dom == "" {
			dom = c.Account.DomainID
		}
		if _, ok := ix.domains.get(dom); !ok {
			return notFound(KindDomain, dom)
		}
		if !c.IsRootAdmin() && !ix.inDomain(dom, c.Account.DomainID) {
			return Denied("Account %s does not have permission to create accounts in domain %s", c.Account.Name, dom)
		}
		name := orDefault(r.Account, r.Username)
		if ix.accountByName(name, dom) != nil {
			return Invalid("The specified account: %s already exists", name)
		}
		if ix.userByName(r.Username, dom) != nil {
			return Invalid("The user %s already exists in domain %s", r.Username, dom)
		}
		now := s.clock.Now().UTC()
		acc = &Account{ID: newID(), Seq: ix.nextSeq(), Name: name, Type: r.Type, DomainID: dom, State: "enabled", Created: now}
		user = &User{ID: newID(), Seq: ix.nextSeq(), Username: r.Username, AccountID: acc.ID, DomainID: dom, FirstName: r.FirstName,
			LastName: r.LastName, Email: r.Email, Timezone: r.Timezone, PasswordHash: hash, State: "enabled", Created: now}
		b := &batch{}
		put(b, ix.accounts, acc)
		put(b, ix.users, user)
		o := Owner{AccountID: acc.ID, DomainID: dom}
		put(b, ix.securityGroups, defaultSecurityGroup(ix, o, now))
		ix.event(b, s, c.Owner(), c, "ACCOUNT.CREATE", "Successfully created account "+name, acc.ID, KindAccount)
		return s.commit(ctx, b)
	})
	return acc, user, err
}

func (ix *index) userByName(name, domainID string) *User {
	for _, u := range ix.users.all() {
		if u.DomainID == domainID && u.Username == name {
			return u
		}
	}
	return nil
}

// accountFor returns an account c may administer.
func (ix *index) accountFor(c Caller, id string) (*Account, error) {
	a, ok := ix.accounts.get(id)
	if !ok || !ix.canAccess(c, Owner{AccountID: a.ID, DomainID: a.DomainID}) {
		return nil, notFound(KindAccount, id)
	}
	return a, nil
}

// UpdateAccount renames an account.
func (s *Sim) UpdateAccount(ctx context.Context, c Caller, id, account, domainID, newName string) (*Account, error) {
	if !c.IsAdmin() {
		return nil, Denied("Account %s does not have permission to update accounts", c.Account.Name)
	}
	var out *Account
	err := s.write(func(ix *index) error {
		if id == "" {
			o, err := ix.ownerFor(c, account, domainID)
			if err != nil {
				return err
			}
			id = o.AccountID
		}
		a, err := ix.accountFor(c, id)
		if err != nil {
			return err
		}
		if newName != "" && !strings.EqualFold(newName, a.Name) && ix.accountByName(newName, a.DomainID) != nil {
			return Invalid("The specified account: %s already exists", newName)
		}
		n := *a
		if newName != "" {
			n.Name = newName
		}
		b := &batch{}
		put(b, ix.accounts, &n)
		out = &n
		return s.commit(ctx, b)
	})
	return out, err
}

// DeleteAccount removes an account with everything it owns, in an async job.
func (s *Sim) DeleteAccount(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	var err error
	s.read(func(ix *index) {
		var a *Account
		if a, err = ix.accountFor(c, id); err != nil {
			return
		}
		switch {
		case !c.IsAdmin():
			err = Denied("Account %s does not have permission to delete accounts", c.Account.Name)
		case a.ID == c.Account.ID:
			err = Invalid("Deleting the account of the caller is not allowed")
		case ix.meta.AdminUserID != "" && a.ID == ix.callerOf(ix.meta.AdminUserID).Account.ID:
			err = Invalid("The system admin account cannot be deleted")
		}
	})
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindAccount, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			a, ok := ix.accounts.get(id)
			if !ok {
				return notFound(KindAccount, id)
			}
			b := &batch{}
			ix.purgeAccount(b, s, a, c)
			jc.complete(b, "", nil)
			return s.commit(ctx, b)
		})
	})
}

// purgeAccount adds the removal of an account and all it owns to b.
func (ix *index) purgeAccount(b *batch, s *Sim, a *Account, c Caller) {
	if b.purged[a.ID] {
		return
	}
	if b.purged == nil {
		b.purged = map[string]bool{}
	}
	b.purged[a.ID] = true
	ix.purgeProjectsOf(b, s, a, c)
	ix.purgeStorage(b, a.ID)
	ix.purgeVPCs(b, a.ID)
	ix.purgeVPNs(b, a.ID)
	ix.purgeInstanceGroups(b, a.ID)
	for _, vm := range ix.vms.byGroup(a.ID) {
		if vm.State.holdsCapacity() {
			ix.releaseHost(b, vm)
		}
		ix.expunge(b, s, vm, c)
	}
	for _, p := range ix.publicIPs.all() {
		if p.AccountID == a.ID {
			if z, ok := ix.zones.get(p.ZoneID); ok {
				ix.release(b, z.PublicNetworkID, p.Address)
			}
			del(b, ix.publicIPs, p.ID)
		}
	}
	for _, n := range ix.networks.all() {
		if n.AccountID == a.ID && !n.System && !n.Shared {
			for ip := range ix.claimed[n.ID] {
				ix.release(b, n.ID, formatIP(ip))
			}
			del(b, ix.networks, n.ID)
		}
	}
	for _, g := range ix.securityGroups.all() {
		if g.AccountID == a.ID {
			del(b, ix.securityGroups, g.ID)
		}
	}
	for _, k := range ix.keyPairs.all() {
		if k.AccountID == a.ID {
			del(b, ix.keyPairs, k.ID)
		}
	}
	for _, t := range ix.tags.all() {
		if t.AccountID == a.ID {
			del(b, ix.tags, t.ID)
		}
	}
	for _, u := range ix.users.all() {
		if u.AccountID == a.ID {
			ix.removeUser(b, u)
		}
	}
	del(b, ix.accounts, a.ID)
	ix.dropUsageGuard(b, a.ID)
	ix.event(b, s, c.Owner(), c, "ACCOUNT.DELETE", "Successfully deleted account "+a.Name, a.ID, KindAccount)
}

func (ix *index) removeUser(b *batch, u *User) {
	del(b, ix.users, u.ID) // the users table keeps apiKeys in step
}

// userFor returns a user c may manage: itself, or any user of an account
// an admin c may access.
func (ix *index) userFor(c Caller, id string) (*User, error) {
	u, ok := ix.users.get(id)
	if !ok {
		return nil, notFound(KindUser, id)
	}
	if u.ID == c.User.ID {
		return u, nil
	}
	if !c.IsAdmin() || !ix.canAccess(c, Owner{AccountID: u.AccountID, DomainID: u.DomainID}) {
		return nil, Denied("Account %s does not have permission to operate on user %s", c.Account.Name, u.Username)
	}
	return u, nil
}

// RegisterUserKeys gives a user a new API key and secret key.
func (s *Sim) RegisterUserKeys(ctx context.Context, c Caller, userID string) (*User, error) {
	var out *User
	err := s.write(func(ix *index) error {
		u, err := ix.userFor(c, userID)
		if err != nil {
			return err
		}
		n := *u
		n.APIKey, n.SecretKey = newSecret(64), newSecret(64)
		b := &batch{}
		put(b, ix.users, &n) // the users table keeps apiKeys in step
		out = &n
		return s.commit(ctx, b)
	})
	return out, err
}

// UserKeys returns a user's keys.
func (s *Sim) UserKeys(c Caller, userID string) (*User, error) {
	var u *User
	var err error
	s.read(func(ix *index) { u, err = ix.userFor(c, userID) })
	return u, err
}

// CreateUserRequest is createUser's parameters.
type CreateUserRequest struct {
	Account, DomainID, Username, Password, Email, FirstName, LastName, Timezone string
}

// CreateUser adds a user to an account.
func (s *Sim) CreateUser(ctx context.Context, c Caller, r CreateUserRequest) (*User, error) {
	if !c.IsAdmin() {
		return nil, Denied("Account %s does not have permission to create users", c.Account.Name)
	}
	hash, err := hashPassword(r.Password)
	if err != nil {
		return nil, err
	}
	var out *User
	err = s.write(func(ix *index) error {
		o, err := ix.ownerFor(c, r.Account, r.DomainID)
		if err != nil {
			return err
		}
		if ix.userByName(r.Username, o.DomainID) != nil {
			return Invalid("The user %s already exists in domain %s", r.Username, o.DomainID)
		}
		out = &User{ID: newID(), Seq: ix.nextSeq(), Username: r.Username, AccountID: o.AccountID, DomainID: o.DomainID,
			FirstName: r.FirstName, LastName: r.LastName, Email: r.Email, Timezone: r.Timezone, PasswordHash: hash,
			State: "enabled", Created: s.clock.Now().UTC()}
		b := &batch{}
		put(b, ix.users, out)
		return s.commit(ctx, b)
	})
	return out, err
}

// UpdateUserRequest is updateUser's parameters; nil fields stay.
type UpdateUserRequest struct {
	ID                                                       string
	Username, Email, FirstName, LastName, Password, Timezone *string
}

// UpdateUser changes a user.
func (s *Sim) UpdateUser(ctx context.Context, c Caller, r UpdateUserRequest) (*User, error) {
	var hash string
	if r.Password != nil {
		var err error
		if hash, err = hashPassword(*r.Password); err != nil {
			return nil, err
		}
	}
	var out *User
	err := s.write(func(ix *index) error {
		u, err := ix.userFor(c, r.ID)
		if err != nil {
			return err
		}
		n := *u
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&n.Username, r.Username)
		set(&n.Email, r.Email)
		set(&n.FirstName, r.FirstName)
		set(&n.LastName, r.LastName)
		set(&n.Timezone, r.Timezone)
		if hash != "" {
			n.PasswordHash = hash
		}
		b := &batch{}
		put(b, ix.users, &n)
		out = &n
		return s.commit(ctx, b)
	})
	return out, err
}

// DeleteUser removes a user (not the last user of an account's own caller).
func (s *Sim) DeleteUser(ctx context.Context, c Caller, id string) error {
	return s.write(func(ix *index) error {
		u, err := ix.userFor(c, id)
		if err != nil {
			return err
		}
		if u.ID == c.User.ID || u.ID == ix.meta.AdminUserID {
			return Invalid("Deleting this user is not allowed")
		}
		if !c.IsAdmin() {
			return Denied("Account %s does not have permission to delete users", c.Account.Name)
		}
		b := &batch{}
		ix.removeUser(b, u)
		return s.commit(ctx, b)
	})
}

// CreateDomain creates a domain under parentID (ROOT when "").
func (s *Sim) CreateDomain(ctx context.Context, c Caller, name, parentID string) (*Domain, error) {
	if !c.IsAdmin() {
		return nil, Denied("Account %s does not have permission to create domains", c.Account.Name)
	}
	if name == "" || strings.Contains(name, "/") {
		return nil, Invalid("Domain name can't contain '/' and can't be empty")
	}
	var out *Domain
	err := s.write(func(ix *index) error {
		if parentID == "" {
			parentID = c.Account.DomainID
		}
		p, ok := ix.domains.get(parentID)
		if !ok {
			return notFound(KindDomain, parentID)
		}
		if !c.IsRootAdmin() && !ix.inDomain(p.ID, c.Account.DomainID) {
			return Denied("Account %s does not have permission to create domains under %s", c.Account.Name, p.Name)
		}
		for _, d := range ix.domains.all() {
			if d.ParentID == p.ID && strings.EqualFold(d.Name, name) {
				return Invalid("Domain with name %s already exists for the parent id=%s", name, p.ID)
			}
		}
		out = &Domain{ID: newID(), Seq: ix.nextSeq(), Name: name, Path: p.Path + "/" + name, ParentID: p.ID, Level: p.Level + 1,
			Created: s.clock.Now().UTC()}
		b := &batch{}
		put(b, ix.domains, out)
		return s.commit(ctx, b)
	})
	return out, err
}

// UpdateDomain renames a domain (and the paths below it).
func (s *Sim) UpdateDomain(ctx context.Context, c Caller, id, name string) (*Domain, error) {
	var out *Domain
	err := s.write(func(ix *index) error {
		d, ok := ix.domains.get(id)
		if !ok || !c.IsAdmin() || !(c.IsRootAdmin() || ix.inDomain(d.ID, c.Account.DomainID)) {
			return notFound(KindDomain, id)
		}
		if d.ParentID == "" {
			return Invalid("ROOT domain can not be edited")
		}
		if name == "" || strings.Contains(name, "/") {
			return Invalid("Domain name can't contain '/' and can't be empty")
		}
		b := &batch{}
		oldPath := d.Path
		newPath := oldPath[:len(oldPath)-len(d.Name)] + name
		for _, x := range ix.domains.all() {
			if x.ID == d.ID || strings.HasPrefix(x.Path, oldPath+"/") {
				n := *x
				n.Path = newPath + x.Path[len(oldPath):]
				if x.ID == d.ID {
					n.Name = name
					out = &n
				}
				put(b, ix.domains, &n)
			}
		}
		return s.commit(ctx, b)
	})
	return out, err
}

// DeleteDomain deletes a domain; with cleanup its accounts and
// subdomains go too, else it must be empty. Async.
func (s *Sim) DeleteDomain(ctx context.Context, c Caller, id string, cleanup bool, cmd string) (*Job, error) {
	var err error
	s.read(func(ix *index) {
		d, ok := ix.domains.get(id)
		switch {
		case !ok || !c.IsAdmin() || !(c.IsRootAdmin() || ix.inDomain(d.ID, c.Account.DomainID)):
			err = notFound(KindDomain, id)
		case d.ParentID == "":
			err = Invalid("Can't delete ROOT domain")
		case d.ID == c.Account.DomainID:
			err = Invalid("Can't delete the domain of the caller")
		}
	})
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindDomain, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			d, ok := ix.domains.get(id)
			if !ok {
				return notFound(KindDomain, id)
			}
			b := &batch{}
			// projects' accounts first, so their members' purges find
			// them gone rather than writing them once more
			for _, projects := range []bool{true, false} {
				for _, a := range ix.accounts.all() {
					if ix.inDomain(a.DomainID, d.ID) && (a.Type == AccountProject) == projects {
						if !cleanup {
							return InUse("Failed to clean up domain resources and sub domains, delete failed on domain %s (id: %s).", d.Name, d.ID)
						}
						ix.purgeAccount(b, s, a, c)
					}
				}
			}
			for _, x := range ix.domains.all() {
				if x.ID != d.ID && ix.inDomain(x.ID, d.ID) {
					if !cleanup {
						return InUse("Domain %s has sub domains; use cleanup=true", d.Name)
					}
					del(b, ix.domains, x.ID)
				}
			}
			del(b, ix.domains, d.ID)
			jc.complete(b, "", nil)
			return s.commit(ctx, b)
		})
	})
}
