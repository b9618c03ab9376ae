package cloudstack

import (
	"encoding/json"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// Projects, their members and invitations. Resources join a project
// through projectid on the commands that create them (rq.owner) and are
// listed with projectid on the owned lists (Scope.ProjectID). Accepted and
// ignored: userid and accountid (createProject), projectroleid (project
// roles are not simulated), details and showicon (listProjects); updateProject's
// userid, roletype and swapowner (ownership moves by account only).

func projectCommands() []*command {
	pProjectID := p("projectid*:uuid:Project", "ID of the project")
	return []*command{
		{Name: "createProject", Async: true, Desc: "Creates a project", Resp: "project", RespOf: projectView{},
			Params: []param{
				p("name*:string", "name of the project"),
				p("displaytext:string", "The display text of the project, defaults to the 'name´."),
				p("account:string", "account who will be Admin for the project"),
				p("domainid:uuid:Domain", "domain ID of the account owning a project"),
				p("accountid:uuid:Account", "ID of the account owning a project"),
				p("userid:uuid:User", "user ID of the account to be assigned as owner of the project i.e., Project Admin"),
			},
			Run: func(rq *request) (any, error) {
				id, job, err := rq.h.sim.CreateProject(rq.ctx, rq.c, cloud.CreateProjectRequest{Name: rq.str("name"), DisplayText: rq.str("displaytext"),
					Account: rq.str("account"), DomainID: rq.str("domainid"), Cmd: rq.className()})
				if err != nil {
					return nil, err
				}
				return AsyncAnswer{ID: id, JobID: job.ID}, nil
			}},
		{Name: "listProjects", Desc: "Lists projects and provides detailed information for listed projects", Resp: "project", RespOf: projectView{},
			Params: listParams(withID(cloud.KindProject, pName, pTags, pListAll, pAccount, pDomainID, pRecurse,
				p("displaytext:string", "list projects by display text"),
				p("state:string", "list projects by state"),
				p("username:string", "List projects by username"),
				p("details:list", "comma separated list of project details requested, value can be a list of [ all, resource, min]"),
				p("showicon:boolean", "flag to display the resource icon for projects"))...),
			Run: listProjects},
		{Name: "updateProject", Async: true, Desc: "Updates a project", Resp: "project", RespOf: projectView{},
			Params: []param{
				p("id*:uuid:Project", "id of the project to be modified"),
				p("name:string", "name of the project"),
				p("displaytext:string", "display text of the project"),
				p("account:string", "new Admin account for the project"),
				p("userid:uuid:User", "ID of the user to be promoted/demoted"),
				p("roletype:string", "Account level role to be assigned to the user/account : Admin/Regular"),
				p("swapowner:boolean", "when true, it swaps ownership with the account/ user provided. Ideally to be used when a single project administrator is present. In case of multiple project admins, swapowner is to be set to false,to promote or demote the user/account based on the roleType (Regular or Admin) provided. Defaults to true"),
			},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.UpdateProject(rq.ctx, rq.c, cloud.UpdateProjectRequest{ID: rq.str("id"), Name: rq.optStr("name"),
					DisplayText: rq.optStr("displaytext"), Account: rq.str("account"), Cmd: rq.className()}))
			}},
		{Name: "activateProject", Async: true, Desc: "Activates a project", Resp: "project", RespOf: projectView{},
			Params: []param{p("id*:uuid:Project", "id of the project to be modified")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.SetProjectState(rq.ctx, rq.c, rq.str("id"), true, rq.className()))
			}},
		{Name: "suspendProject", Async: true, Desc: "Suspends a project", Resp: "project", RespOf: projectView{},
			Params: []param{p("id*:uuid:Project", "id of the project to be suspended")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.SetProjectState(rq.ctx, rq.c, rq.str("id"), false, rq.className()))
			}},
		{Name: "deleteProject", Async: true, Desc: "Deletes a project", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:Project", "id of the project to be deleted"),
				p("cleanup:boolean", "true if all project resources have to be cleaned up, false otherwise")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DeleteProject(rq.ctx, rq.c, rq.str("id"), rq.boolean("cleanup", false), rq.className()))
			}},
		{Name: "addAccountToProject", Async: true, Desc: "Adds account to a project", Resp: "success", RespOf: Success{},
			Params: []param{
				p("projectid*:uuid:Project", "ID of the project to add the account to"),
				p("account:string", "name of the account to be added to the project"),
				p("email:string", "email to which invitation to the project is going to be sent"),
				p("projectroleid:uuid", "ID of the project role"),
				p("roletype:string", "Project role type to be assigned to the user - Admin/Regular; default: Regular"),
			},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.AddAccountToProject(rq.ctx, rq.c, rq.str("projectid"), rq.str("account"), rq.str("email"),
					projectRole(rq.str("roletype")), rq.className()))
			}},
		{Name: "deleteAccountFromProject", Async: true, Desc: "Deletes account from the project", Resp: "success", RespOf: Success{},
			Params: []param{p("projectid*:uuid:Project", "ID of the project to remove the account from"),
				p("account*:string", "name of the account to be removed from the project")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DeleteAccountFromProject(rq.ctx, rq.c, rq.str("projectid"), rq.str("account"), rq.className()))
			}},
		{Name: "listProjectAccounts", Desc: "Lists project's accounts", Resp: "projectaccount", RespOf: projectAccountView{},
			Params: listParams(pProjectID, p("account:string", "list accounts of the project by account name"),
				p("role:string", "list accounts of the project by role"), p("userid:uuid:User", "list user of the project by userid"),
				p("projectroleid:uuid", "list accounts of the project by project role id")),
			Run: listProjectAccounts},
		{Name: "listProjectInvitations", Desc: "Lists project invitations and provides detailed information for listed invitations", Resp: "projectinvitation", RespOf: projectInvitationView{},
			Params: listParams(pListAll, pAccount, pDomainID, pRecurse,
				p("id:uuid:ProjectInvitation", "list invitations by id"),
				p("projectid:uuid:Project", "list by project id"),
				p("state:string", "list invitations by state"),
				p("activeonly:boolean", "if true, list only active invitations - having Pending state and ones that are not timed out yet"),
				p("userid:uuid:User", "list invitation by user ID")),
			Run: listProjectInvitations},
		{Name: "updateProjectInvitation", Async: true, Desc: "Accepts or declines project invitation", Resp: "success", RespOf: Success{},
			Params: []param{
				p("projectid*:uuid:Project", "id of the project to join"),
				p("account:string", "account that is joining the project"),
				p("accept:boolean", "if true, accept the invitation, decline if false. True by default"),
				p("token:string", "list invitations for specified account; this parameter has to be specified with domainId"),
				p("userid:uuid:User", "User UUID, required for adding account from external provisioning system"),
			},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.UpdateProjectInvitation(rq.ctx, rq.c, rq.str("projectid"), rq.str("account"), rq.str("token"),
					rq.boolean("accept", true), rq.className()))
			}},
		{Name: "deleteProjectInvitation", Async: true, Desc: "Deletes project invitation", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:ProjectInvitation", "id of the invitation")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DeleteProjectInvitation(rq.ctx, rq.c, rq.str("id"), rq.className()))
			}},
	}
}

// projectRole spells a roletype as the server's enum does (Admin,
// Regular), whatever its case; other values pass through to be refused.
func projectRole(s string) string {
	switch strings.ToLower(s) {
	case "admin":
		return cloud.ProjectAdmin
	case "regular":
		return cloud.ProjectRegular
	}
	return s
}

type projectView struct {
	ID          string              `json:"id"`
	Name        string              `json:"name"`
	DisplayText string              `json:"displaytext"`
	DomainID    string              `json:"domainid"`
	Domain      string              `json:"domain"`
	DomainPath  string              `json:"domainpath"`
	Owner       []map[string]string `json:"owner"`
	// Account is the (first) owner's name, as older servers showed it and
	// libcloud and Ansible still read it.
	Account            string    `json:"account,omitempty"`
	ProjectAccountName string    `json:"projectaccountname"`
	State              string    `json:"state"`
	Created            string    `json:"created"`
	Tags               []tagView `json:"tags"`
	usageView
}

func projectOf(r cloud.Reader, p *cloud.Project) projectView {
	v := projectView{ID: p.ID, Name: p.Name, DisplayText: p.DisplayText, DomainID: p.DomainID, State: p.State,
		Created: date(p.Created), Tags: tagsOf(r, p.ID), Owner: []map[string]string{}}
	if d, ok := r.Domain(p.DomainID); ok {
		v.Domain, v.DomainPath = d.Name, d.Path
	}
	for _, m := range p.Members {
		if a, ok := r.Account(m.AccountID); ok && m.Role == cloud.ProjectAdmin {
			v.Owner = append(v.Owner, map[string]string{"account": a.Name, "accountid": a.ID})
			if v.Account == "" {
				v.Account = a.Name
			}
		}
	}
	if a, ok := r.Account(p.AccountID); ok {
		v.ProjectAccountName = a.Name
		v.usageView = usageOf(r, a)
	}
	return v
}

func listProjects(rq *request) (any, error) {
	ids := rq.idFilter()
	name, display, state, username := rq.str("name"), rq.str("displaytext"), rq.str("state"), rq.str("username")
	return rq.read(func(r cloud.Reader) (any, error) {
		// An admin lists the projects of the accounts in scope (with no
		// account or domain named: every project it administers); a user
		// those it is a member of. account=… narrows to that account's.
		sc := rq.scope()
		sc.ProjectID = ""
		var member func(*cloud.Project) bool
		if sc.Account != "" || !rq.c.IsAdmin() {
			keep, err := r.ScopeFilter(rq.c, sc)
			if err != nil {
				return nil, err
			}
			member = func(p *cloud.Project) bool {
				for _, m := range p.Members {
					if a, ok := r.Account(m.AccountID); ok && keep(cloud.Owner{AccountID: a.ID, DomainID: a.DomainID}) {
						return true
					}
				}
				return false
			}
		} else {
			if sc.DomainID == "" {
				sc.DomainID, sc.Recursive = rq.c.Account.DomainID, true
			}
			keep, err := r.ScopeFilter(rq.c, sc)
			if err != nil {
				return nil, err
			}
			member = func(p *cloud.Project) bool { return keep(cloud.Owner{AccountID: "", DomainID: p.DomainID}) }
		}
		var userAcc string
		if username != "" {
			for _, u := range r.Users() {
				if u.Username == username {
					userAcc = u.AccountID
				}
			}
		}
		return listView(rq, "project", r.Projects(), func(p *cloud.Project) bool {
			if username != "" {
				if _, ok := p.Member(userAcc); !ok {
					return false
				}
			}
			return member(p) && ids(p.ID) && (name == "" || strings.EqualFold(name, p.Name)) && (display == "" || display == p.DisplayText) &&
				(state == "" || strings.EqualFold(state, p.State)) && rq.keyword(p.Name, p.DisplayText) && rq.tagsMatch(r, p.ID)
		}, func(p *cloud.Project) projectView { return projectOf(r, p) })
	})
}

type projectAccountView struct {
	ProjectID   string     `json:"projectid"`
	Project     string     `json:"project"`
	AccountID   string     `json:"accountid"`
	Account     string     `json:"account"`
	AccountType int        `json:"accounttype"`
	Role        string     `json:"role"`
	DomainID    string     `json:"domainid"`
	Domain      string     `json:"domain"`
	DomainPath  string     `json:"domainpath"`
	User        []userView `json:"user"`
}

func listProjectAccounts(rq *request) (any, error) {
	return rq.read(func(r cloud.Reader) (any, error) {
		p, err := r.ProjectFor(rq.c, rq.str("projectid"))
		if err != nil {
			return nil, err
		}
		return listView(rq, "projectaccount", p.Members, func(m cloud.ProjectMember) bool {
			a, ok := r.Account(m.AccountID)
			return ok && (rq.str("account") == "" || strings.EqualFold(rq.str("account"), a.Name)) &&
				(rq.str("role") == "" || strings.EqualFold(rq.str("role"), m.Role)) && rq.keyword(a.Name)
		}, func(m cloud.ProjectMember) projectAccountView {
			a, _ := r.Account(m.AccountID)
			av := accountOf(r, a, false)
			return projectAccountView{ProjectID: p.ID, Project: p.Name, AccountID: a.ID, Account: a.Name, AccountType: int(a.Type),
				Role: m.Role, DomainID: a.DomainID, Domain: av.Domain, DomainPath: av.DomainPath, User: av.User}
		})
	})
}

type projectInvitationView struct {
	ID         string `json:"id"`
	ProjectID  string `json:"projectid"`
	Project    string `json:"project"`
	DomainID   string `json:"domainid"`
	Domain     string `json:"domain"`
	DomainPath string `json:"domainpath"`
	Account    string `json:"account,omitempty"`
	Email      string `json:"email,omitempty"`
	State      string `json:"state"`
}

func listProjectInvitations(rq *request) (any, error) {
	state, active := rq.str("state"), rq.boolean("activeonly", false)
	now := rq.h.sim.Now()
	return rq.read(func(r cloud.Reader) (any, error) {
		if id := rq.str("projectid"); id != "" {
			if _, err := r.ProjectFor(rq.c, id); err != nil {
				// an invited account may not reach the project yet
				if !invitedTo(r, rq.c, id) {
					return nil, err
				}
			}
		}
		sc := rq.scope()
		sc.ProjectID = ""
		keep, err := r.ScopeFilter(rq.c, sc)
		if err != nil {
			return nil, err
		}
		return listView(rq, "projectinvitation", r.ProjectInvitations(), func(inv *cloud.ProjectInvitation) bool {
			mine := inv.AccountID != "" && keep(cloud.Owner{AccountID: inv.AccountID, DomainID: inv.DomainID})
			if !mine && !r.CanModifyProject(rq.c, inv.ProjectID) {
				return false
			}
			if active && (inv.State != cloud.InvitationPending || r.InvitationExpired(inv, now)) {
				return false
			}
			return rq.match("id", inv.ID) && rq.match("projectid", inv.ProjectID) && (state == "" || strings.EqualFold(state, inv.State))
		}, func(inv *cloud.ProjectInvitation) projectInvitationView {
			v := projectInvitationView{ID: inv.ID, ProjectID: inv.ProjectID, DomainID: inv.DomainID, Email: inv.Email, State: inv.State}
			if p, ok := r.Project(inv.ProjectID); ok {
				v.Project = p.Name
			}
			if d, ok := r.Domain(inv.DomainID); ok {
				v.Domain, v.DomainPath = d.Name, d.Path
			}
			if a, ok := r.Account(inv.AccountID); ok {
				v.Account = a.Name
			}
			return v
		})
	})
}

// invitedTo reports whether c's account has an invitation to a project.
func invitedTo(r cloud.Reader, c cloud.Caller, projectID string) bool {
	for _, inv := range r.ProjectInvitations() {
		if inv.ProjectID == projectID && inv.AccountID == c.Account.ID {
			return true
		}
	}
	return false
}

// projectJobResult renders a project job's result (nil for other kinds).
func projectJobResult(r cloud.Reader, j *cloud.Job) any {
	if j.ResultKind != cloud.KindProject {
		return nil
	}
	var p cloud.Project
	if json.Unmarshal(j.Result, &p) != nil {
		return nil
	}
	return Object{Key: "project", Obj: projectOf(r, &p)}
}
