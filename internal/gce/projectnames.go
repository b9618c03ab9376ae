package gce

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stratus-cloud/stratus/internal/store"
)

// Project names.
//
// A GCE project is a CloudStack account, and its records (metadata,
// labels, operations) are stored under the project's name. The name
// comes from the account's name ("carol.x" → "carol-x"), but that mapping
// is not one to one: "carol.x" and "carol_x", or one name in two domains,
// give the same name, and the second account would read and overwrite the
// first's records. So every account claims its project name once, in the
// store (a create, which two servers cannot both win): the derived name if
// it is free, else the derived name with a piece of the account's id, else
// the whole id. The claim and the account's choice never change, so the
// name is stable across restarts and servers.

// projectClaim owns a project name: the account it belongs to.
type projectClaim struct {
	AccountID string `json:"accountId"`
	Account   string `json:"account"`
	DomainID  string `json:"domainId"`
}

// accountProject is an account's project name.
type accountProject struct {
	Project string `json:"project"`
}

// projectCandidates are the names an account may get, in order.
func projectCandidates(account, accountID string) []string {
	base := gceName(account)
	id := strings.ReplaceAll(strings.ToLower(accountID), "-", "")
	out := []string{base}
	if len(id) >= 8 {
		out = append(out, strings.TrimRight(base[:min(len(base), 54)], "-")+"-"+id[:8])
	}
	if id != "" {
		out = append(out, strings.TrimRight(base[:min(len(base), 62-len(id))], "-")+"-"+id)
	}
	return out
}

// projectFor returns the account's project name, claiming one on first use.
// preferred, when set, is tried first (a name the account used before).
func (g *Gateway) projectFor(ctx context.Context, account, accountID, domainID, preferred string) (string, error) {
	if accountID == "" {
		return gceName(account), nil
	}
	if ap, _, err := g.accountProjects.Get(ctx, accountID); err == nil {
		return ap.Project, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	cands := projectCandidates(account, accountID)
	if preferred != "" {
		cands = append([]string{preferred}, cands...)
	}
	for _, name := range cands {
		_, err := g.projectNames.Create(ctx, name, &projectClaim{AccountID: accountID, Account: account, DomainID: domainID})
		if errors.Is(err, store.ErrConflict) {
			c, _, gerr := g.projectNames.Get(ctx, name)
			if gerr != nil {
				return "", gerr
			}
			if c.AccountID != accountID {
				continue // another account's project
			}
			err = nil // claimed before, by this account
		}
		if err != nil {
			return "", err
		}
		if _, err := g.accountProjects.Create(ctx, accountID, &accountProject{Project: name}); errors.Is(err, store.ErrConflict) {
			// A concurrent first use (another server) chose first: keep its choice.
			ap, _, gerr := g.accountProjects.Get(ctx, accountID)
			if gerr != nil {
				return "", gerr
			}
			return ap.Project, nil
		} else if err != nil {
			return "", err
		}
		return name, nil
	}
	return "", fmt.Errorf("gce: no free project name for account %s", accountID)
}

// migrateProjects gives the accounts of tokens stored before project names
// were claimed their names: each keeps the project its tokens name, unless
// another account claimed it first (then it gets a project of its own, and
// its tokens are rewritten to it). Where two accounts already shared one
// project, the records they wrote there cannot be told apart and stay with
// the name's owner.
func (g *Gateway) migrateProjects(ctx context.Context) error {
	items, _, err := g.tokens.List(ctx)
	if err != nil {
		return err
	}
	for _, it := range items {
		rec := it.Val
		if rec.AccountID == "" {
			continue
		}
		name, err := g.projectFor(ctx, rec.Account, rec.AccountID, rec.DomainID, rec.Project)
		if err != nil {
			return err
		}
		if name == rec.Project {
			continue
		}
		g.log.Info("GCE project of a token moved: its name belongs to another account", "account", rec.Account, "from", rec.Project, "to", name)
		if _, _, err := g.tokens.Update(ctx, it.Name, func(cur *tokenRecord) (*tokenRecord, error) {
			n := *cur
			n.Project = name
			return &n, nil
		}); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}
