package cloud

import (
	"context"
	"crypto/rand"
	"strconv"
	"strings"
	"time"
)

// Projects, as CloudStack has them: a project owns its resources through
// an account of its own (type 5, PrjAcct-<name>-<domain>), made with the
// project and removed with it. Accounts join a project as Admin or
// Regular members; members reach what the project account owns (canAccess)
// and lists show it when asked with projectid (scopeFilter). The account
// that creates a project is its first Admin, and each Admin membership
// counts against the account's "project" limit. With the global setting
// project.invite.required, addAccountToProject invites instead of adding,
// and the invited account joins by accepting (updateProjectInvitation).

// Project kinds.
const (
	KindProject           Kind = "Project"
	KindProjectInvitation Kind = "ProjectInvitation"
)

// AccountProject is the type of a project's own account.
const AccountProject AccountType = 5

// Project states.
const (
	ProjectActive    = "Active"
	ProjectSuspended = "Suspended"
	ProjectDisabled  = "Disabled"
)

// Project member roles.
const (
	ProjectAdmin   = "Admin"
	ProjectRegular = "Regular"
)

// Invitation states.
const (
	InvitationPending   = "Pending"
	InvitationCompleted = "Completed"
	InvitationDeclined  = "Declined"
	InvitationExpired   = "Expired"
)

// Project is a project.
type Project struct {
	ID          string `json:"id"`
	Seq         int64  `json:"seq"`
	Name        string `json:"name"`
	DisplayText string `json:"displayText"`
	DomainID    string `json:"domainId"`
	// AccountID is the project's own account, which owns its resources.
	AccountID string          `json:"accountId"`
	State     string          `json:"state"`
	Created   time.Time       `json:"created"`
	Members   []ProjectMember `json:"members"`
}

// ProjectMember is an account's membership of a project.
type ProjectMember struct {
	AccountID string `json:"accountId"`
	Role      string `json:"role"`
}

// Owner is the project account as an owner.
func (p *Project) Owner() Owner { return Owner{AccountID: p.AccountID, DomainID: p.DomainID} }

// Member returns an account's membership, if any.
func (p *Project) Member(accountID string) (ProjectMember, bool) {
	for _, m := range p.Members {
		if m.AccountID == accountID {
			return m, true
		}
	}
	return ProjectMember{}, false
}

func (p *Project) admins() int {
	n := 0
	for _, m := range p.Members {
		if m.Role == ProjectAdmin {
			n++
		}
	}
	return n
}

// ProjectInvitation is an invitation of an account (or an email address,
// with a token) to a project.
type ProjectInvitation struct {
	ID        string    `json:"id"`
	Seq       int64     `json:"seq"`
	ProjectID string    `json:"projectId"`
	AccountID string    `json:"accountId,omitempty"`
	DomainID  string    `json:"domainId"`
	Email     string    `json:"email,omitempty"`
	Token     string    `json:"token,omitempty"`
	Role      string    `json:"role"`
	State     string    `json:"state"`
	Created   time.Time `json:"created"`
}

// projectOfAccount returns the project whose account is accountID, if any.
func (ix *index) projectOfAccount(accountID string) *Project {
	ps := ix.projects.byGroup(accountID)
	if len(ps) == 0 {
		return nil
	}
	return ps[0]
}

// isProjectAccount reports whether an account is a project's.
func (ix *index) isProjectAccount(accountID string) bool {
	return ix.projectOfAccount(accountID) != nil
}

// projectFor finds a project c may see (admins over its domain and
// members), with CloudStack's text for an unknown id.
func (ix *index) projectFor(c Caller, id string) (*Project, error) {
	p, ok := ix.projects.get(id)
	if !ok {
		return nil, Invalid("Unable to find project by id %s", id)
	}
	if !ix.canAccess(c, p.Owner()) {
		return nil, Denied("Account %s can't access project id=%s", c.Account.Name, id)
	}
	return p, nil
}

// projectToModify finds a project c may change: an admin over its domain
// or an Admin member.
func (ix *index) projectToModify(c Caller, id string) (*Project, error) {
	p, err := ix.projectFor(c, id)
	if err != nil {
		return nil, err
	}
	if !c.IsAdmin() {
		if m, _ := p.Member(c.Account.ID); m.Role != ProjectAdmin {
			return nil, Denied("Account %s does not have permission to modify project id=%s", c.Account.Name, id)
		}
	}
	return p, nil
}

// projectOwner resolves projectid into the owner of a new resource:
// the project's account, when c may use it and the project is active.
func (ix *index) projectOwner(c Caller, account, projectID string) (Owner, error) {
	if account != "" {
		return Owner{}, Invalid("Account and projectId can't be specified together")
	}
	p, ok := ix.projects.get(projectID)
	if !ok {
		return Owner{}, Invalid("Unable to find project by id=%s", projectID)
	}
	if !ix.canAccess(c, p.Owner()) {
		return Owner{}, Denied("Account %s is unauthorised to use project id=%s", c.Account.Name, projectID)
	}
	if p.State != ProjectActive {
		return Owner{}, Denied("Can't add resources to the project id=%s in state=%s as it's no longer active", projectID, p.State)
	}
	return p.Owner(), nil
}

// ProjectOwner returns the account name and domain that stand for a
// project as the owner of a new resource (for commands that take
// projectid where they take account and domainid), checked as the real
// server checks it.
func (r Reader) ProjectOwner(c Caller, account, projectID string) (string, string, error) {
	o, err := r.ix.projectOwner(c, account, projectID)
	if err != nil {
		return "", "", err
	}
	a, _ := r.ix.accounts.get(o.AccountID)
	return a.Name, o.DomainID, nil
}

// CreateProjectRequest is createProject's parameters.
type CreateProjectRequest struct {
	Name, DisplayText string
	// Account and DomainID name the owner (an admin's choice; both or
	// neither).
	Account, DomainID string
	Cmd               string
}

// CreateProject creates a project, its account and its owner's Admin
// membership, in an async job whose result is the project. It returns
// the new project's id at once (createProject is an async create).
func (s *Sim) CreateProject(ctx context.Context, c Caller, r CreateProjectRequest) (string, *Job, error) {
	if (r.Account != "") != (r.DomainID != "") {
		return "", nil, Invalid("Account name and domain id must be specified together")
	}
	decide := func(ix *index) (Owner, error) {
		if !c.IsAdmin() && !ix.settingBool("allow.user.create.projects") {
			return Owner{}, Denied("Regular user is not permitted to create a project")
		}
		o, err := ix.ownerFor(c, r.Account, r.DomainID)
		if err != nil {
			return Owner{}, err
		}
		for _, p := range ix.projects.all() {
			if p.DomainID == o.DomainID && strings.EqualFold(p.Name, r.Name) {
				return Owner{}, Invalid("Project with name %s already exists in domain id=%s", r.Name, o.DomainID)
			}
		}
		return o, nil
	}
	var err error
	s.read(func(ix *index) { _, err = decide(ix) })
	if err != nil {
		return "", nil, err
	}
	id := newID()
	job, err := s.Submit(ctx, c, JobSpec{Cmd: r.Cmd, InstanceType: KindProject, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			o, err := decide(ix)
			if err != nil {
				return err
			}
			b := &batch{}
			if err := ix.checkLimits(b, o, map[Resource]int64{ResProject: 1}); err != nil {
				return err
			}
			now := s.clock.Now().UTC()
			acc := &Account{ID: newID(), Seq: ix.nextSeq(), Name: "PrjAcct-" + r.Name + "-" + o.DomainID, Type: AccountProject,
				DomainID: o.DomainID, State: StateEnabled, Created: now}
			p := &Project{ID: id, Seq: ix.nextSeq(), Name: r.Name, DisplayText: orDefault(r.DisplayText, r.Name), DomainID: o.DomainID,
				AccountID: acc.ID, State: ProjectActive, Created: now, Members: []ProjectMember{{AccountID: o.AccountID, Role: ProjectAdmin}}}
			put(b, ix.accounts, acc)
			put(b, ix.securityGroups, defaultSecurityGroup(ix, p.Owner(), now))
			put(b, ix.projects, p)
			ix.event(b, s, o, c, "PROJECT.CREATE", "Successfully completed creating project. Project Name: "+p.Name, p.ID, KindProject)
			jc.complete(b, KindProject, p)
			return s.commit(ctx, b)
		})
	})
	return id, job, err
}

// UpdateProjectRequest is updateProject's parameters (nil: unchanged).
type UpdateProjectRequest struct {
	ID                string
	Name, DisplayText *string
	// Account, when set, is the member to make the owner (Admin).
	Account string
	Cmd     string
}

// UpdateProject renames a project or hands its ownership to another
// member, in an async job whose result is the project.
func (s *Sim) UpdateProject(ctx context.Context, c Caller, r UpdateProjectRequest) (*Job, error) {
	var err error
	s.read(func(ix *index) { _, err = ix.projectToModify(c, r.ID) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: r.Cmd, InstanceType: KindProject, InstanceID: r.ID}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			p, err := ix.projectToModify(c, r.ID)
			if err != nil {
				return err
			}
			n := *p
			n.Members = append([]ProjectMember(nil), p.Members...)
			if r.Name != nil && *r.Name != "" {
				n.Name = *r.Name
			}
			if r.DisplayText != nil && *r.DisplayText != "" {
				n.DisplayText = *r.DisplayText
			}
			b := &batch{}
			if r.Account != "" {
				acc := ix.accountByName(r.Account, p.DomainID)
				if acc == nil || acc.State != StateEnabled {
					return Invalid("Unable to find account name=%s in domain id=%s", r.Account, p.DomainID)
				}
				m, ok := p.Member(acc.ID)
				if !ok {
					return Invalid("Account %s doesn't belong to the project. Add it to the project first and then change the project's ownership", r.Account)
				}
				if m.Role != ProjectAdmin {
					if err := ix.checkLimits(b, Owner{AccountID: acc.ID, DomainID: acc.DomainID}, map[Resource]int64{ResProject: 1}); err != nil {
						return err
					}
					for i := range n.Members {
						switch {
						case n.Members[i].AccountID == acc.ID:
							n.Members[i].Role = ProjectAdmin
						case n.Members[i].Role == ProjectAdmin:
							n.Members[i].Role = ProjectRegular
						}
					}
				}
			}
			put(b, ix.projects, &n)
			ix.event(b, s, p.Owner(), c, "PROJECT.UPDATE", "Successfully completed updating project. Project Name: "+n.Name, p.ID, KindProject)
			jc.complete(b, KindProject, &n)
			return s.commit(ctx, b)
		})
	})
}

// SetProjectState activates or suspends a project in an async job whose
// result is the project. Suspending disables the project's account and
// stops its running VMs, as the real server does; activating enables it.
func (s *Sim) SetProjectState(ctx context.Context, c Caller, id string, active bool, cmd string) (*Job, error) {
	var err error
	s.read(func(ix *index) { _, err = ix.projectToModify(c, id) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindProject, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		var running []string
		var out *Project
		err := s.write(func(ix *index) error {
			p, err := ix.projectToModify(c, id)
			if err != nil {
				return err
			}
			out = p
			switch {
			case active && p.State == ProjectActive:
				return nil
			case active && p.State != ProjectSuspended:
				return Invalid("Can't activate the project in %s state", p.State)
			}
			n := *p
			typ, accState := "PROJECT.ACTIVATE", StateEnabled
			n.State = ProjectActive
			if !active {
				typ, accState = "PROJECT.SUSPEND", StateDisabled
				n.State = ProjectSuspended
				for _, vm := range ix.vms.byGroup(p.AccountID) {
					if vm.State == VMRunning {
						running = append(running, vm.ID)
					}
				}
			}
			b := &batch{}
			put(b, ix.projects, &n)
			if a, ok := ix.accounts.get(p.AccountID); ok {
				na := *a
				na.State = accState
				put(b, ix.accounts, &na)
			}
			ix.event(b, s, p.Owner(), c, typ, "Successfully completed "+strings.ToLower(strings.TrimPrefix(typ, "PROJECT."))+" of project "+p.Name, p.ID, KindProject)
			out = &n
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
			b := &batch{}
			if p, ok := ix.projects.get(out.ID); ok {
				out = p
			}
			jc.complete(b, KindProject, out)
			return s.commit(ctx, b)
		})
	})
}

// DeleteProject deletes a project in an async job. Without cleanup it
// refuses while the project's account still owns VMs, VM snapshots,
// templates, detached volumes, networks or VPCs; with cleanup it removes
// them with the account.
func (s *Sim) DeleteProject(ctx context.Context, c Caller, id string, cleanup bool, cmd string) (*Job, error) {
	check := func(ix *index) (*Project, error) {
		p, err := ix.projectToModify(c, id)
		if err != nil {
			return nil, err
		}
		if !cleanup {
			if what := ix.projectLeftovers(p.AccountID); what != "" {
				return nil, Errorf(CodeInternal, CSCloudRuntime, "Can't delete the project yet because it has %s", what)
			}
		}
		return p, nil
	}
	var err error
	s.read(func(ix *index) { _, err = check(ix) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindProject, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			p, err := check(ix)
			if err != nil {
				return err
			}
			b := &batch{}
			ix.event(b, s, p.Owner(), c, "PROJECT.DELETE", "Successfully completed deleting project. Project Name: "+p.Name, p.ID, KindProject)
			if a, ok := ix.accounts.get(p.AccountID); ok {
				ix.purgeAccount(b, s, a, c) // takes the project with it
			}
			jc.complete(b, "", nil)
			return s.commit(ctx, b)
		})
	})
}

// purgeProjectsOf adds to b what an account's removal does to projects:
// a project's own account takes its project, invitations and tags with
// it; any other account leaves the projects it is a member of, and a
// project left with no Admin is removed with everything it owns.
func (ix *index) purgeProjectsOf(b *batch, s *Sim, a *Account, c Caller) {
	if p := ix.projectOfAccount(a.ID); p != nil {
		for _, inv := range ix.invitations.all() {
			if inv.ProjectID == p.ID {
				del(b, ix.invitations, inv.ID)
			}
		}
		for _, t := range ix.tags.byGroup(p.ID) {
			del(b, ix.tags, t.ID)
		}
		del(b, ix.projects, p.ID)
		return
	}
	for _, inv := range ix.invitations.all() {
		if inv.AccountID == a.ID {
			del(b, ix.invitations, inv.ID)
		}
	}
	for _, p := range ix.projects.all() {
		if _, ok := p.Member(a.ID); !ok || b.purged[p.AccountID] {
			continue
		}
		n := *p
		n.Members = nil
		for _, m := range p.Members {
			if m.AccountID != a.ID {
				n.Members = append(n.Members, m)
			}
		}
		if n.admins() > 0 {
			put(b, ix.projects, &n)
			continue
		}
		if pa, ok := ix.accounts.get(p.AccountID); ok {
			ix.purgeAccount(b, s, pa, c)
		}
	}
}

// projectLeftovers names the first kind of resource a project account
// still has, in the real server's words ("1 UserVm to clean up"), or "".
func (ix *index) projectLeftovers(accountID string) string {
	count := func(n int, what string) string {
		if n == 0 {
			return ""
		}
		return strconv.Itoa(n) + " " + what + " to clean up"
	}
	n := 0
	for _, t := range ix.templates.all() {
		if t.AccountID == accountID && t.Type == "USER" {
			n++
		}
	}
	if s := count(n, "VirtualMachineTemplate"); s != "" {
		return s
	}
	n = 0
	for _, v := range ix.vmSnapshots.all() {
		if v.AccountID == accountID {
			n++
		}
	}
	if s := count(n, "VMSnapshot"); s != "" {
		return s
	}
	n = 0
	for _, vm := range ix.vms.byGroup(accountID) {
		if vm.State != VMExpunging {
			n++
		}
	}
	if s := count(n, "VirtualMachine"); s != "" {
		return s
	}
	n = 0
	for _, v := range ix.volumes.all() {
		if v.AccountID == accountID && v.VMID == "" {
			n++
		}
	}
	if s := count(n, "Volume"); s != "" {
		return s
	}
	n = 0
	for _, nw := range ix.networks.all() {
		if nw.AccountID == accountID && !nw.System && !nw.Shared {
			n++
		}
	}
	if s := count(n, "Network"); s != "" {
		return s
	}
	n = 0
	for _, v := range ix.vpcs.all() {
		if v.AccountID == accountID {
			n++
		}
	}
	return count(n, "Vpc")
}

// AddAccountToProject adds an account (or, with project.invite.required,
// invites it or an email address) to a project, in an async job.
func (s *Sim) AddAccountToProject(ctx context.Context, c Caller, projectID, account, email, role, cmd string) (*Job, error) {
	if role == "" {
		role = ProjectRegular
	}
	if role != ProjectAdmin && role != ProjectRegular {
		return nil, Invalid("Invalid role %s; valid values are Admin and Regular", role)
	}
	check := func(ix *index) (*Project, *Account, error) {
		p, ok := ix.projects.get(projectID)
		if !ok {
			return nil, nil, Invalid("Unable to find project with specified id")
		}
		if p.State != ProjectActive {
			return nil, nil, Invalid("Can't add account to the specified project id in state=%s as it's no longer active", p.State)
		}
		var acc *Account
		if account != "" {
			if acc = ix.accountByName(account, p.DomainID); acc == nil || acc.State != StateEnabled || acc.Type == AccountProject {
				return nil, nil, Invalid("Unable to find account name=%s in specified domain id", account)
			}
		}
		if _, err := ix.projectToModify(c, projectID); err != nil {
			return nil, nil, err
		}
		if acc == nil && (!ix.settingBool("project.invite.required") || email == "") {
			return nil, nil, Invalid("Account information is required for assigning account to the project")
		}
		return p, acc, nil
	}
	var err error
	s.read(func(ix *index) { _, _, err = check(ix) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindProject, InstanceID: projectID}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			p, acc, err := check(ix)
			if err != nil {
				return err
			}
			b := &batch{}
			if acc != nil {
				if _, ok := p.Member(acc.ID); ok {
					jc.complete(b, "", nil)
					return s.commit(ctx, b)
				}
			}
			if ix.settingBool("project.invite.required") {
				inv := &ProjectInvitation{ID: newID(), Seq: ix.nextSeq(), ProjectID: p.ID, DomainID: p.DomainID, Role: role,
					State: InvitationPending, Created: s.clock.Now().UTC()}
				for _, o := range ix.invitations.all() {
					same := o.ProjectID == p.ID && ((acc != nil && o.AccountID == acc.ID) || (acc == nil && o.Email == email))
					if same && (o.State == InvitationCompleted || o.State == InvitationPending && !ix.invitationExpired(o, s.clock.Now())) {
						if acc == nil {
							return Invalid("There is already a pending invitation for email %s to the project %s", email, p.Name)
						}
						return Invalid("There is already a pending invitation for account %s to the project %s", acc.Name, p.Name)
					}
					if same {
						del(b, ix.invitations, o.ID)
					}
				}
				if acc != nil {
					inv.AccountID = acc.ID
				} else {
					inv.Email, inv.Token = email, token(10)
				}
				put(b, ix.invitations, inv)
				ix.event(b, s, p.Owner(), c, "PROJECT.INVITATION.CREATE", "Successfully completed adding account to project. Project Name: "+p.Name, p.ID, KindProject)
				jc.complete(b, "", nil)
				return s.commit(ctx, b)
			}
			if role == ProjectAdmin {
				if err := ix.checkLimits(b, Owner{AccountID: acc.ID, DomainID: acc.DomainID}, map[Resource]int64{ResProject: 1}); err != nil {
					return err
				}
			}
			n := *p
			n.Members = append(append([]ProjectMember(nil), p.Members...), ProjectMember{AccountID: acc.ID, Role: role})
			put(b, ix.projects, &n)
			ix.event(b, s, p.Owner(), c, "PROJECT.ACCOUNT.ADD", "Successfully completed adding account to project. Project Name: "+p.Name, p.ID, KindProject)
			jc.complete(b, "", nil)
			return s.commit(ctx, b)
		})
	})
}

// DeleteAccountFromProject removes a member, in an async job; the only
// Admin cannot be removed.
func (s *Sim) DeleteAccountFromProject(ctx context.Context, c Caller, projectID, account, cmd string) (*Job, error) {
	check := func(ix *index) (*Project, *Account, error) {
		p, ok := ix.projects.get(projectID)
		if !ok {
			return nil, nil, Invalid("Unable to find project with specified id")
		}
		acc := ix.accountByName(account, p.DomainID)
		if acc == nil || acc.State != StateEnabled {
			return nil, nil, Invalid("Unable to find account name=%s in domain id=%s", account, p.DomainID)
		}
		if _, err := ix.projectToModify(c, projectID); err != nil {
			return nil, nil, err
		}
		m, ok := p.Member(acc.ID)
		if !ok {
			return nil, nil, Invalid("Account %s is not assigned to the project with specified id", account)
		}
		if m.Role == ProjectAdmin && p.admins() == 1 {
			return nil, nil, Invalid("Unable to delete account %s from the project with specified id as the account is the owner of the project", account)
		}
		return p, acc, nil
	}
	var err error
	s.read(func(ix *index) { _, _, err = check(ix) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindProject, InstanceID: projectID}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			p, acc, err := check(ix)
			if err != nil {
				return err
			}
			n := *p
			n.Members = nil
			for _, m := range p.Members {
				if m.AccountID != acc.ID {
					n.Members = append(n.Members, m)
				}
			}
			b := &batch{}
			put(b, ix.projects, &n)
			for _, inv := range ix.invitations.all() {
				if inv.ProjectID == p.ID && inv.AccountID == acc.ID {
					del(b, ix.invitations, inv.ID)
				}
			}
			ix.event(b, s, p.Owner(), c, "PROJECT.ACCOUNT.REMOVE", "Successfully completed removing account from project. Project Name: "+p.Name, p.ID, KindProject)
			jc.complete(b, "", nil)
			return s.commit(ctx, b)
		})
	})
}

// invitationExpired reports whether a pending invitation has passed
// project.invitation.expiration.time (seconds).
func (ix *index) invitationExpired(inv *ProjectInvitation, now time.Time) bool {
	ttl := ix.settingInt("project.invitation.expiration.time")
	return ttl > 0 && now.Sub(inv.Created) > time.Duration(ttl)*time.Second
}

// UpdateProjectInvitation accepts or declines a pending invitation, in an
// async job: the caller's own (or, for an admin, account's), or the one
// a token names.
func (s *Sim) UpdateProjectInvitation(ctx context.Context, c Caller, projectID, account, tok string, accept bool, cmd string) (*Job, error) {
	check := func(ix *index) (*Project, *ProjectInvitation, *Account, error) {
		p, ok := ix.projects.get(projectID)
		if !ok {
			return nil, nil, nil, Invalid("Unable to find the project id=%s", projectID)
		}
		acc := c.Account
		if account != "" {
			if acc = ix.accountByName(account, p.DomainID); acc == nil || acc.State != StateEnabled {
				return nil, nil, nil, Invalid("Unable to find account name=%s in domain id=%s", account, p.DomainID)
			}
			if !ix.canAccess(c, Owner{AccountID: acc.ID, DomainID: acc.DomainID}) {
				return nil, nil, nil, Denied("Account %s does not have permission to access account %s", c.Account.Name, acc.Name)
			}
		}
		for _, inv := range ix.invitations.all() {
			if inv.ProjectID != p.ID || inv.State != InvitationPending {
				continue
			}
			if (tok != "" && inv.Token == tok) || (tok == "" && inv.AccountID == acc.ID) {
				return p, inv, acc, nil
			}
		}
		return nil, nil, nil, Invalid("Unable to find invitation for account name=%s to the project=%s", orDefault(account, "null"), p.Name)
	}
	var err error
	s.read(func(ix *index) { _, _, _, err = check(ix) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindProject, InstanceID: projectID}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			p, inv, acc, err := check(ix)
			if err != nil {
				return err
			}
			b := &batch{}
			n := *inv
			if accept && ix.invitationExpired(inv, s.clock.Now()) {
				n.State = InvitationExpired
				put(b, ix.invitations, &n)
				if err := s.commit(ctx, b); err != nil {
					return err
				}
				return Invalid("Invitation is expired for account id=%s to the project %s", orDefault(account, "null"), p.Name)
			}
			n.State = InvitationDeclined
			if accept {
				n.State = InvitationCompleted
				member := acc.ID
				if inv.AccountID != "" {
					member = inv.AccountID
				}
				if _, ok := p.Member(member); !ok {
					np := *p
					np.Members = append(append([]ProjectMember(nil), p.Members...), ProjectMember{AccountID: member, Role: orDefault(inv.Role, ProjectRegular)})
					put(b, ix.projects, &np)
				}
			}
			put(b, ix.invitations, &n)
			ix.event(b, s, p.Owner(), c, "PROJECT.INVITATION.UPDATE", "Successfully completed updating project invitation. Project Name: "+p.Name, p.ID, KindProject)
			jc.complete(b, "", nil)
			return s.commit(ctx, b)
		})
	})
}

// DeleteProjectInvitation removes an invitation, in an async job (a
// project Admin's or an admin's act).
func (s *Sim) DeleteProjectInvitation(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	check := func(ix *index) (*ProjectInvitation, error) {
		inv, ok := ix.invitations.get(id)
		if !ok {
			return nil, Invalid("Unable to find project invitation by id %s", id)
		}
		if _, err := ix.projectToModify(c, inv.ProjectID); err != nil {
			return nil, err
		}
		return inv, nil
	}
	var err error
	s.read(func(ix *index) { _, err = check(ix) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindProjectInvitation, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			inv, err := check(ix)
			if err != nil {
				return err
			}
			b := &batch{}
			del(b, ix.invitations, inv.ID)
			if p, ok := ix.projects.get(inv.ProjectID); ok {
				ix.event(b, s, p.Owner(), c, "PROJECT.INVITATION.REMOVE", "Successfully completed removing project invitation. Project Name: "+p.Name, p.ID, KindProject)
			}
			jc.complete(b, "", nil)
			return s.commit(ctx, b)
		})
	})
}

// token returns n random characters of 0-9A-Z, as the real server's
// invitation tokens.
func token(n int) string {
	const charset = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	for i := range buf {
		buf[i] = charset[int(buf[i])%len(charset)]
	}
	return string(buf)
}

// ProjectFor finds a project c may see, with the real server's errors.
func (r Reader) ProjectFor(c Caller, id string) (*Project, error) { return r.ix.projectFor(c, id) }

// CanModifyProject reports whether c may change a project (an admin over
// its domain or an Admin member).
func (r Reader) CanModifyProject(c Caller, id string) bool {
	_, err := r.ix.projectToModify(c, id)
	return err == nil
}

// Projects returns every project in creation order.
func (r Reader) Projects() []*Project { return r.ix.projects.all() }

// Project looks a project up by id.
func (r Reader) Project(id string) (*Project, bool) { return r.ix.projects.get(id) }

// ProjectOfAccount returns the project whose account is accountID.
func (r Reader) ProjectOfAccount(accountID string) (*Project, bool) {
	p := r.ix.projectOfAccount(accountID)
	return p, p != nil
}

// ProjectInvitations returns every invitation in creation order.
func (r Reader) ProjectInvitations() []*ProjectInvitation { return r.ix.invitations.all() }

// InvitationExpired reports whether a pending invitation has expired.
func (r Reader) InvitationExpired(inv *ProjectInvitation, now time.Time) bool {
	return r.ix.invitationExpired(inv, now)
}
