package cloudstack

import (
	"strconv"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

func accountCommands() []*command {
	return []*command{
		{Name: "createAccount", Desc: "Creates an account", Resp: "account", RespOf: accountView{}, Role: roleDomainAdmin,
			Params: []param{p("username*:string", "Unique username."), p("password*:string", "Clear text password (Default hashed to SHA256SALT)."),
				p("email*:string", "email"), p("firstname*:string", "firstname"), p("lastname*:string", "lastname"),
				p("accounttype:integer", "Type of the account.  Specify 0 for user, 1 for root admin, and 2 for domain admin"),
				p("roleid:uuid", "Creates the account under the specified role."),
				p("account:string", "Name of the account to be created. The user will be added to this newly created account. If no account is specified, the username will be used as the account name."),
				pDomainID, p("timezone:string", "Specifies a timezone for this command.")},
			Run: createAccount},
		{Name: "listAccounts", Desc: "Lists accounts and provides detailed account information for listed accounts", Resp: "account", RespOf: accountView{},
			Params: listParams(withID(cloud.KindAccount, pName, pListAll, pDomainID, pRecurse, p("accounttype:integer", "list accounts by account type"),
				p("state:string", "list accounts by state"))...), Run: listAccounts},
		{Name: "updateAccount", Desc: "Updates account information for the authenticated user", Resp: "account", RespOf: accountView{}, Role: roleDomainAdmin,
			Params: []param{p("id:uuid:Account", "Account UUID"), p("account:string", "Current account name"), pDomainID, p("newname:string", "new name for the account")},
			Run: func(rq *request) (any, error) {
				a, err := rq.h.sim.UpdateAccount(rq.ctx, rq.c, rq.str("id"), rq.str("account"), rq.str("domainid"), rq.str("newname"))
				if err != nil {
					return nil, err
				}
				return rq.read(func(r cloud.Reader) (any, error) { return Object{Key: "account", Obj: accountOf(r, a, false)}, nil })
			}},
		{Name: "deleteAccount", Async: true, Desc: "Deletes a account, and all users associated with this account", Resp: "success", RespOf: Success{}, Role: roleDomainAdmin,
			Params: []param{p("id*:uuid:Account", "Account id")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DeleteAccount(rq.ctx, rq.c, rq.str("id"), rq.className()))
			}},
		{Name: "createUser", Desc: "Creates a user for an account that already exists", Resp: "user", RespOf: userView{}, Role: roleDomainAdmin,
			Params: []param{p("account*:string", "Creates the user under the specified account."), pDomainID, p("username*:string", "Unique username."),
				p("password*:string", "Clear text password"), p("email*:string", "email"), p("firstname*:string", "firstname"), p("lastname*:string", "lastname"),
				p("timezone:string", "Specifies a timezone for this command.")},
			Run: func(rq *request) (any, error) {
				u, err := rq.h.sim.CreateUser(rq.ctx, rq.c, cloud.CreateUserRequest{Account: rq.str("account"), DomainID: rq.str("domainid"),
					Username: rq.str("username"), Password: rq.str("password"), Email: rq.str("email"), FirstName: rq.str("firstname"),
					LastName: rq.str("lastname"), Timezone: rq.str("timezone")})
				return rq.userAnswer(u, err)
			}},
		{Name: "listUsers", Desc: "Lists user accounts", Resp: "user", RespOf: userView{},
			Params: listParams(withID(cloud.KindUser, p("username:string", "List user by the username"), pAccount, pDomainID, pListAll, pRecurse,
				p("accounttype:integer", "List users by account type."), p("state:string", "List users by state of the user account."))...),
			Run: listUsers},
		{Name: "updateUser", Desc: "Updates a user account", Resp: "user", RespOf: userView{},
			Params: []param{p("id*:uuid:User", "User uuid"), p("username:string", "Unique username"), p("email:string", "email"),
				p("firstname:string", "first name"), p("lastname:string", "last name"), p("password:string", "Clear text password"),
				p("currentpassword:string", "Current password that was being used by the user."), p("timezone:string", "Specifies a timezone for this command.")},
			Run: func(rq *request) (any, error) {
				u, err := rq.h.sim.UpdateUser(rq.ctx, rq.c, cloud.UpdateUserRequest{ID: rq.str("id"), Username: rq.optStr("username"),
					Email: rq.optStr("email"), FirstName: rq.optStr("firstname"), LastName: rq.optStr("lastname"), Password: rq.optStr("password"),
					Timezone: rq.optStr("timezone")})
				return rq.userAnswer(u, err)
			}},
		{Name: "deleteUser", Desc: "Deletes a user for an account", Resp: "success", RespOf: Success{}, Role: roleDomainAdmin,
			Params: []param{p("id*:uuid:User", "id of the user to be deleted")},
			Run: func(rq *request) (any, error) {
				if err := rq.h.sim.DeleteUser(rq.ctx, rq.c, rq.str("id")); err != nil {
					return nil, err
				}
				return Success{Success: true}, nil
			}},
		{Name: "registerUserKeys", Desc: "This command allows a user to register for the developer API, returning a secret key and an API key. This request is made through the integration API port, so it is a privileged command and must be made on behalf of a user. It is up to the implementer just how the username and password are entered, and then how that translates to an integration API request. Both secret key and API key should be returned to the user",
			Resp: "userkeys", RespOf: userKeysView{}, Params: []param{p("id*:uuid:User", "User id")},
			Run: func(rq *request) (any, error) {
				u, err := rq.h.sim.RegisterUserKeys(rq.ctx, rq.c, rq.str("id"))
				if err != nil {
					return nil, err
				}
				return Object{Key: "userkeys", Obj: userKeysView{APIKey: u.APIKey, SecretKey: u.SecretKey}}, nil
			}},
		{Name: "getUserKeys", Desc: "This command allows the user to query the secret and API keys for the account", Resp: "userkeys", RespOf: userKeysView{},
			Params: []param{p("id*:uuid:User", "ID of the user whose keys are required")},
			Run: func(rq *request) (any, error) {
				u, err := rq.h.sim.UserKeys(rq.c, rq.str("id"))
				if err != nil {
					return nil, err
				}
				return Object{Key: "userkeys", Obj: userKeysView{APIKey: u.APIKey, SecretKey: u.SecretKey}}, nil
			}},
		{Name: "createDomain", Desc: "Creates a domain", Resp: "domain", RespOf: domainView{}, Role: roleDomainAdmin,
			Params: []param{p("name*:string", "creates domain with this name"), p("parentdomainid:uuid:Domain", "assigns new domain a parent domain by domain ID of the parent.  If no parent domain is specified, the ROOT domain is assumed."),
				p("networkdomain:string", "Network domain for networks in the domain")},
			Run: func(rq *request) (any, error) {
				return rq.domainAnswer(rq.h.sim.CreateDomain(rq.ctx, rq.c, rq.str("name"), rq.str("parentdomainid")))
			}},
		{Name: "listDomains", Desc: "Lists domains and provides detailed information for listed domains", Resp: "domain", RespOf: domainView{},
			Params: listParams(withID(cloud.KindDomain, pName, pListAll, p("level:integer", "List domains by domain level."))...), Run: listDomains},
		{Name: "updateDomain", Desc: "Updates a domain with a new name", Resp: "domain", RespOf: domainView{}, Role: roleDomainAdmin,
			Params: []param{p("id*:uuid:Domain", "ID of domain to update"), p("name:string", "updates domain with this name")},
			Run: func(rq *request) (any, error) {
				return rq.domainAnswer(rq.h.sim.UpdateDomain(rq.ctx, rq.c, rq.str("id"), rq.str("name")))
			}},
		{Name: "deleteDomain", Async: true, Desc: "Deletes a specified domain", Resp: "success", RespOf: Success{}, Role: roleDomainAdmin,
			Params: []param{p("id*:uuid:Domain", "ID of domain to delete"), p("cleanup:boolean", "true if all domain resources (child domains, accounts) have to be cleaned up, false otherwise")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DeleteDomain(rq.ctx, rq.c, rq.str("id"), rq.boolean("cleanup", false), rq.className()))
			}},
		{Name: "listResourceLimits", Desc: "Lists resource limits.", Resp: "resourcelimit", RespOf: resourceLimitView{},
			Params: listParams(p("id:long", "Lists resource limits by ID."), p("resourcetype:integer", "Type of resource."),
				p("resourcetypename:string", "Type of resource (wins over resourceType if both are provided)."), pAccount, pDomainID, pListAll, pRecurse, pProject),
			Run: listLimits},
		{Name: "updateResourceLimit", Desc: "Updates resource limits for an account or domain.", Resp: "resourcelimit", RespOf: resourceLimitView{}, Role: roleDomainAdmin,
			Params: []param{p("resourcetype*:integer", "Type of resource to update."), p("max:long", "Maximum resource limit."), pAccount, pDomainID,
				p("projectid:uuid:Project", "Update resource limits for project")},
			Run: updateLimit},
	}
}

func createAccount(rq *request) (any, error) {
	typ := rq.integer("accounttype", 0)
	a, _, err := rq.h.sim.CreateAccount(rq.ctx, rq.c, cloud.CreateAccountRequest{Username: rq.str("username"), Password: rq.str("password"),
		Email: rq.str("email"), FirstName: rq.str("firstname"), LastName: rq.str("lastname"), Account: rq.str("account"),
		DomainID: rq.str("domainid"), Timezone: rq.str("timezone"), Type: cloud.AccountType(typ)})
	if err != nil {
		return nil, err
	}
	return rq.read(func(r cloud.Reader) (any, error) { return Object{Key: "account", Obj: accountOf(r, a, false)}, nil })
}

func (rq *request) userAnswer(u *cloud.User, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return rq.read(func(r cloud.Reader) (any, error) { return Object{Key: "user", Obj: userOf(r, u, false)}, nil })
}

func (rq *request) domainAnswer(d *cloud.Domain, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return rq.read(func(r cloud.Reader) (any, error) { return Object{Key: "domain", Obj: domainOf(r, d)}, nil })
}

// visibleAccounts is the account predicate of the account and user lists:
// admins see what they administer (their domain subtree with listall or
// domainid), users their own account.
func (rq *request) visibleAccounts(r cloud.Reader) (func(*cloud.Account) bool, error) {
	sc := rq.scope()
	if rq.c.IsAdmin() && sc.Account == "" && sc.DomainID == "" {
		sc.ListAll = true // admins list the accounts they administer
	}
	keep, err := r.ScopeFilter(rq.c, sc)
	if err != nil {
		return nil, err
	}
	return func(a *cloud.Account) bool { return keep(cloud.Owner{AccountID: a.ID, DomainID: a.DomainID}) }, nil
}

func listAccounts(rq *request) (any, error) {
	typ, hasType := rq.p["accounttype"]
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.visibleAccounts(r)
		if err != nil {
			return nil, err
		}
		return listView(rq, "account", r.Accounts(), func(a *cloud.Account) bool {
			return keep(a) && rq.match("id", a.ID) && (rq.str("name") == "" || strings.EqualFold(rq.str("name"), a.Name)) &&
				(!hasType || typ == strconv.Itoa(int(a.Type))) && rq.match("state", a.State) && rq.keyword(a.Name)
		}, func(a *cloud.Account) accountView {
			return accountOf(r, a, a.Type == cloud.AccountRootAdmin && a.Name == "admin")
		})
	})
}

func listUsers(rq *request) (any, error) {
	typ, hasType := rq.p["accounttype"]
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.visibleAccounts(r)
		if err != nil {
			return nil, err
		}
		return listView(rq, "user", r.Users(), func(u *cloud.User) bool {
			a, ok := r.Account(u.AccountID)
			return ok && keep(a) && rq.match("id", u.ID) && rq.match("username", u.Username) &&
				(!hasType || typ == strconv.Itoa(int(a.Type))) && rq.match("state", u.State) && rq.keyword(u.Username, u.FirstName, u.LastName)
		}, func(u *cloud.User) userView { return userOf(r, u, false) })
	})
}

func listDomains(rq *request) (any, error) {
	level, hasLevel := rq.p["level"]
	return rq.read(func(r cloud.Reader) (any, error) {
		return listView(rq, "domain", r.Domains(), func(d *cloud.Domain) bool {
			visible := rq.c.IsRootAdmin() || d.ID == rq.c.Account.DomainID || (rq.c.IsDomainAdmin() && r.InDomain(d.ID, rq.c.Account.DomainID))
			return visible && rq.match("id", d.ID) && rq.match("name", d.Name) && (!hasLevel || level == strconv.Itoa(d.Level)) && rq.keyword(d.Name)
		}, func(d *cloud.Domain) domainView { return domainOf(r, d) })
	})
}

func listLimits(rq *request) (any, error) {
	var only *cloud.Resource
	if v := rq.str("resourcetypename"); v != "" {
		found := false
		for _, res := range cloud.Resources() {
			if res.Name() == v {
				res := res
				only, found = &res, true
			}
		}
		if !found {
			return nil, rq.invalidValue("resourcetypename", v)
		}
	} else if rq.p.Has("resourcetype") && rq.str("resourcetype") != "" {
		res, ok := cloud.ParseResource(int(rq.integer("resourcetype", -1)))
		if !ok {
			return nil, cloud.Invalid("Please specify a valid resource type.")
		}
		only = &res
	}
	sc := rq.scope()
	limits, err := rq.h.sim.Limits(rq.c, sc, only)
	if err != nil {
		return nil, err
	}
	return rq.read(func(r cloud.Reader) (any, error) {
		return listView(rq, "resourcelimit", limits, nil, func(l cloud.Limit) resourceLimitView { return limitOf(r, l) })
	})
}

func limitOf(r cloud.Reader, l cloud.Limit) resourceLimitView {
	return resourceLimitView{ResourceType: strconv.Itoa(int(l.Resource)), ResourceTypeName: l.Resource.Name(), Max: l.Max, ownerView: owner(r, l.Owner)}
}

func updateLimit(rq *request) (any, error) {
	res, ok := cloud.ParseResource(int(rq.integer("resourcetype", -1)))
	if !ok {
		return nil, cloud.Invalid("Please specify a valid resource type.")
	}
	account, domainID, err := rq.owner()
	if err != nil {
		return nil, err
	}
	l, err := rq.h.sim.SetLimit(rq.ctx, rq.c, account, domainID, res, rq.integer("max", -1))
	if err != nil {
		return nil, err
	}
	return rq.read(func(r cloud.Reader) (any, error) { return Object{Key: "resourcelimit", Obj: limitOf(r, l)}, nil })
}
