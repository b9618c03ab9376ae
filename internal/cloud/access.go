package cloud

import "strings"

// Caller is who makes a request: a user of an account in a domain. The API
// front resolves it from the API key or session; every operation takes one.
type Caller struct {
	User    *User
	Account *Account
	Domain  *Domain
}

// IsRootAdmin reports whether the caller is a root admin.
func (c Caller) IsRootAdmin() bool { return c.Account != nil && c.Account.Type == AccountRootAdmin }

// IsDomainAdmin reports whether the caller is a domain admin.
func (c Caller) IsDomainAdmin() bool { return c.Account != nil && c.Account.Type == AccountDomainAdmin }

// IsAdmin reports whether the caller is a root or domain admin.
func (c Caller) IsAdmin() bool { return c.IsRootAdmin() || c.IsDomainAdmin() }

// Owner is the caller's own account and domain.
func (c Caller) Owner() Owner { return Owner{AccountID: c.Account.ID, DomainID: c.Account.DomainID} }

// inDomain reports whether domain d is domain top or below it.
func (ix *index) inDomain(d, top string) bool {
	if d == top {
		return true
	}
	dd, ok1 := ix.domains.get(d)
	tt, ok2 := ix.domains.get(top)
	return ok1 && ok2 && strings.HasPrefix(dd.Path, tt.Path+"/")
}

// canAccess reports whether c may see and change what o owns.
func (ix *index) canAccess(c Caller, o Owner) bool {
	switch {
	case c.IsRootAdmin():
		return true
	case c.IsDomainAdmin():
		return ix.inDomain(o.DomainID, c.Account.DomainID)
	case o.AccountID == c.Account.ID:
		return true
	default:
		// members reach what their projects own
		p := ix.projectOfAccount(o.AccountID)
		if p == nil {
			return false
		}
		_, ok := p.Member(c.Account.ID)
		return ok
	}
}

// Scope narrows a list to some owners: the list parameters listall,
// account, domainid and isrecursive.
type Scope struct {
	ListAll   bool
	Account   string
	DomainID  string
	Recursive bool
	// ProjectID is a project's id, "-1" for every project the caller
	// reaches, or "" for no project's resources (the default, as the
	// real server lists project resources only when asked).
	ProjectID string
}

// scopeFilter returns a predicate on owners for a list by c with scope sc,
// or an error when c may not list that scope.
func (ix *index) scopeFilter(c Caller, sc Scope) (func(Owner) bool, error) {
	switch sc.ProjectID {
	case "":
		keep, err := ix.accountScope(c, sc)
		if err != nil {
			return nil, err
		}
		return func(o Owner) bool { return keep(o) && !ix.isProjectAccount(o.AccountID) }, nil
	case "-1":
		return func(o Owner) bool { return ix.isProjectAccount(o.AccountID) && ix.canAccess(c, o) }, nil
	}
	p, err := ix.projectFor(c, sc.ProjectID)
	if err != nil {
		return nil, err
	}
	acc := p.AccountID
	return func(o Owner) bool { return o.AccountID == acc }, nil
}

// accountScope is scopeFilter's predicate for the account scope
// parameters (listall, account, domainid, isrecursive).
func (ix *index) accountScope(c Caller, sc Scope) (func(Owner) bool, error) {
	if sc.Account != "" {
		dom := sc.DomainID
		if dom == "" {
			dom = c.Account.DomainID
		}
		acc := ix.accountByName(sc.Account, dom)
		if acc == nil {
			return nil, Invalid("Unable to find account %s in domain id=%s", sc.Account, dom)
		}
		if !ix.canAccess(c, Owner{AccountID: acc.ID, DomainID: acc.DomainID}) {
			return nil, Denied("Account %s does not have permission to access account %s", c.Account.Name, acc.Name)
		}
		return func(o Owner) bool { return o.AccountID == acc.ID }, nil
	}
	if sc.DomainID != "" {
		if _, ok := ix.domains.get(sc.DomainID); !ok {
			return nil, notFound(KindDomain, sc.DomainID)
		}
		if !c.IsRootAdmin() && !(c.IsDomainAdmin() && ix.inDomain(sc.DomainID, c.Account.DomainID)) {
			if c.IsAdmin() || sc.DomainID != c.Account.DomainID {
				return nil, Denied("Account %s does not have permission to access domain %s", c.Account.Name, sc.DomainID)
			}
			own := c.Account.ID
			return func(o Owner) bool { return o.AccountID == own }, nil
		}
		dom := sc.DomainID
		if sc.Recursive || sc.ListAll {
			return func(o Owner) bool { return ix.inDomain(o.DomainID, dom) }, nil
		}
		return func(o Owner) bool { return o.DomainID == dom }, nil
	}
	if sc.ListAll && c.IsAdmin() {
		return func(o Owner) bool { return ix.canAccess(c, o) }, nil
	}
	own := c.Account.ID
	return func(o Owner) bool { return o.AccountID == own }, nil
}

func (ix *index) accountByName(name, domainID string) *Account {
	for _, a := range ix.accounts.all() {
		if a.DomainID == domainID && strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

// ownerFor resolves the owner of a new resource: the caller's account, or
// account+domainid when an admin creates on behalf of another account.
func (ix *index) ownerFor(c Caller, account, domainID string) (Owner, error) {
	if account == "" {
		if domainID != "" && domainID != c.Account.DomainID && !c.IsAdmin() {
			return Owner{}, Denied("Account %s does not have permission to access domain %s", c.Account.Name, domainID)
		}
		return c.Owner(), nil
	}
	if domainID == "" {
		domainID = c.Account.DomainID
	}
	acc := ix.accountByName(account, domainID)
	if acc == nil {
		return Owner{}, Invalid("Unable to find account %s in domain id=%s", account, domainID)
	}
	o := Owner{AccountID: acc.ID, DomainID: acc.DomainID}
	if !ix.canAccess(c, o) {
		return Owner{}, Denied("Account %s does not have permission to operate within account %s", c.Account.Name, acc.Name)
	}
	return o, nil
}
