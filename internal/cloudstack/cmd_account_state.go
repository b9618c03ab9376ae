package cloudstack

import (
	"encoding/json"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// Account and user states: enable, disable and lock. Accepted and
// ignored: projectid.

func accountStateCommands() []*command {
	acct := []param{p("id:uuid:Account", "Account id"), p("account:string", "Enables specified account."),
		p("domainid:uuid:Domain", "Enables specified account in this domain.")}
	setAccount := func(state string) func(rq *request) (any, error) {
		return func(rq *request) (any, error) {
			if rq.str("id") == "" && (rq.str("account") == "" || rq.str("domainid") == "") {
				return nil, cloud.Invalid("Either id or account name and domainid must be specified")
			}
			a, err := rq.h.sim.SetAccountState(rq.ctx, rq.c, rq.str("id"), rq.str("account"), rq.str("domainid"), state)
			if err != nil {
				return nil, err
			}
			return rq.read(func(r cloud.Reader) (any, error) { return Object{Key: "account", Obj: accountOf(r, a, false)}, nil })
		}
	}
	return []*command{
		{Name: "enableAccount", Desc: "Enables an account", Resp: "account", RespOf: accountView{}, Role: roleDomainAdmin,
			Params: acct, Run: setAccount(cloud.StateEnabled)},
		{Name: "lockAccount", Desc: "This deprecated function used to locks an account. Look for the API DisableAccount instead", Resp: "account", RespOf: accountView{}, Role: roleDomainAdmin,
			Params: []param{p("account*:string", "Locks the specified account."), p("domainid*:uuid:Domain", "Locks the specified account on this domain.")},
			Run:    setAccount(cloud.StateLocked)},
		{Name: "disableAccount", Async: true, Desc: "Disables an account", Resp: "account", RespOf: accountView{}, Role: roleDomainAdmin,
			Params: append(append([]param(nil), acct...), p("lock*:boolean", "If true, only lock the account; else disable the account")),
			Run: func(rq *request) (any, error) {
				if rq.str("id") == "" && (rq.str("account") == "" || rq.str("domainid") == "") {
					return nil, cloud.Invalid("Either id or account name and domainid must be specified")
				}
				return asyncJob(rq.h.sim.DisableAccount(rq.ctx, rq.c, rq.str("id"), rq.str("account"), rq.str("domainid"), rq.boolean("lock", false), rq.className()))
			}},
		{Name: "enableUser", Desc: "Enables a user account", Resp: "user", RespOf: userView{}, Role: roleDomainAdmin,
			Params: []param{p("id*:uuid:User", "Enables user by user ID.")},
			Run: func(rq *request) (any, error) {
				return rq.userAnswer(rq.h.sim.SetUserState(rq.ctx, rq.c, rq.str("id"), cloud.StateEnabled))
			}},
		{Name: "lockUser", Desc: "Locks a user account", Resp: "user", RespOf: userView{}, Role: roleDomainAdmin,
			Params: []param{p("id*:uuid:User", "Locks user by user ID.")},
			Run: func(rq *request) (any, error) {
				return rq.userAnswer(rq.h.sim.SetUserState(rq.ctx, rq.c, rq.str("id"), cloud.StateLocked))
			}},
		{Name: "disableUser", Async: true, Desc: "Disables a user account", Resp: "user", RespOf: userView{}, Role: roleDomainAdmin,
			Params: []param{p("id*:uuid:User", "Disables user by user ID.")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DisableUser(rq.ctx, rq.c, rq.str("id"), rq.className()))
			}},
	}
}

// accountStateJobResult renders disableAccount's and disableUser's job
// results (nil for other kinds).
func accountStateJobResult(r cloud.Reader, j *cloud.Job) any {
	switch j.ResultKind {
	case cloud.KindAccount:
		var a cloud.Account
		if json.Unmarshal(j.Result, &a) == nil {
			return Object{Key: "account", Obj: accountOf(r, &a, false)}
		}
	case cloud.KindUser:
		var u cloud.User
		if json.Unmarshal(j.Result, &u) == nil {
			return Object{Key: "user", Obj: userOf(r, &u, false)}
		}
	}
	return nil
}
