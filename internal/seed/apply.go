package seed

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"k8s.io/client-go/rest"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// Clients are the APIs a seed file is applied through.
type Clients struct {
	// CloudStack is a client with the root admin's keys.
	CloudStack *csclient.Client
	// NewCloudStack makes a client of the same endpoint with other keys
	// (an account's own, for what it owns).
	NewCloudStack func(apiKey, secretKey string) *csclient.Client
	// SetUserKeys gives a user fixed keys. It is the one thing no public
	// API does (CloudStack only generates keys); nil refuses apiKey fields.
	SetUserKeys func(ctx context.Context, userID, apiKey, secretKey string) error
	// HTTPURL is the HTTP front's base URL (the GCE gateway's token
	// endpoint and API) and HTTP its client.
	HTTPURL string
	HTTP    *http.Client
	// Kube is the Kubernetes API's client configuration.
	Kube *rest.Config
}

// Result lists what Apply did, one line per document.
type Result struct {
	Lines []string `json:"lines"`
}

// Validate checks what the documents name against the running cloud
// (zones, offerings, templates, accounts and the objects VMs use) and
// dry-runs every Kubernetes manifest, reporting every problem together.
// It writes nothing.
func Validate(ctx context.Context, c Clients, f *File) error {
	a, err := newApplier(ctx, c, f)
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range f.Docs {
		if d.Cloud == nil {
			continue
		}
		if err := a.checkRefs(ctx, d); err != nil {
			errs = append(errs, err)
		}
	}
	k, err := newKubeApplier(c.Kube)
	if err != nil {
		return err
	}
	errs = append(errs, k.validate(ctx, f)...)
	return errors.Join(errs...)
}

// Apply validates the file, then creates what does not exist yet: cloud
// objects first (accounts, projects, key pairs, security groups,
// networks, VMs), then the manifests (namespaces first), server-side
// applied. Applying the same file again changes nothing. A failure during
// the writes names the document; what came before it stays (the caller,
// which can snapshot the whole state, undoes it: see internal/instance).
func Apply(ctx context.Context, c Clients, f *File) (Result, error) {
	if err := Validate(ctx, c, f); err != nil {
		return Result{}, err
	}
	a, err := newApplier(ctx, c, f)
	if err != nil {
		return Result{}, err
	}
	var res Result
	for _, kind := range cloudOrder {
		for _, d := range f.Docs {
			if d.Cloud == nil || d.Kind != kind {
				continue
			}
			line, err := a.apply(ctx, d)
			if err != nil {
				var se *Error
				if errors.As(err, &se) {
					return res, err
				}
				return res, f.errorf(d, "", "%v", err)
			}
			res.Lines = append(res.Lines, line)
		}
	}
	k, err := newKubeApplier(c.Kube)
	if err != nil {
		return res, err
	}
	lines, err := k.apply(ctx, f)
	res.Lines = append(res.Lines, lines...)
	return res, err
}

// applier applies cloud documents, with what it looked up kept.
type applier struct {
	c       Clients
	f       *File
	zones   map[string]string // name → id
	svcOffs map[string]string
	netOffs map[string]string
	tmpls   map[string]string
	// defaultNetOff is the default offering for an isolated network.
	defaultNetOff string
	// inFile: the names the file defines, by kind and account.
	inFile map[string]bool
	// accounts are the accounts' clients and ids, by name.
	accounts map[string]*account
}

type account struct {
	id, domainID string
	cs           *csclient.Client
}

func newApplier(ctx context.Context, c Clients, f *File) (*applier, error) {
	a := &applier{c: c, f: f, zones: map[string]string{}, svcOffs: map[string]string{}, netOffs: map[string]string{},
		tmpls: map[string]string{}, inFile: map[string]bool{}, accounts: map[string]*account{}}
	if c.CloudStack == nil {
		return a, nil
	}
	named := func(command, key string, params url.Values, into map[string]string) error {
		var items []struct {
			ID, Name, GuestIPType, State string
			IsDefault                    bool `json:"isdefault"`
			ForVPC                       bool `json:"forvpc"`
		}
		if err := listInto(ctx, c.CloudStack, command, key, params, &items); err != nil {
			return err
		}
		for _, it := range items {
			if _, dup := into[it.Name]; !dup {
				into[it.Name] = it.ID
			}
			if command == "listNetworkOfferings" && strings.EqualFold(it.GuestIPType, "Isolated") && it.State != "Disabled" && !it.ForVPC && a.defaultNetOff == "" {
				a.defaultNetOff = it.ID
			}
		}
		return nil
	}
	for _, l := range []struct {
		cmd, key string
		p        url.Values
		into     map[string]string
	}{
		{"listZones", "zone", nil, a.zones},
		{"listServiceOfferings", "serviceoffering", nil, a.svcOffs},
		{"listNetworkOfferings", "networkoffering", nil, a.netOffs},
		{"listTemplates", "template", csclient.Params("templatefilter", "executable"), a.tmpls},
	} {
		if err := named(l.cmd, l.key, l.p, l.into); err != nil {
			return nil, fmt.Errorf("seed: %w", err)
		}
	}
	for _, d := range f.Docs {
		if d.Cloud != nil {
			kind := d.Kind
			if kind == "GCEProject" {
				kind = "Account"
			}
			a.inFile[kind+"/"+accountOf(d.Cloud)+"/"+d.Name()] = true
		}
	}
	return a, nil
}

// listInto calls a list command and decodes its items (under key).
func listInto(ctx context.Context, cs *csclient.Client, command, key string, params url.Values, out any) error {
	if params == nil {
		params = url.Values{}
	}
	params.Set("listall", "true")
	var r map[string]json.RawMessage
	if err := cs.Do(ctx, command, params, &r); err != nil {
		return err
	}
	raw, ok := r[key]
	if !ok {
		raw = []byte("[]")
	}
	return json.Unmarshal(raw, out)
}

// checkRefs checks the names a cloud document uses.
func (a *applier) checkRefs(ctx context.Context, d *Doc) error {
	f := a.f
	has := func(m map[string]string, field, what, name string) error {
		if _, ok := m[name]; !ok {
			return f.errorf(d, field, "no %s named %q (the cloud has %s)", what, name, names(m))
		}
		return nil
	}
	if acc := accountOf(d.Cloud); acc != "" && !a.inFile["Account//"+acc] {
		var items []struct{ Name string }
		if err := listInto(ctx, a.c.CloudStack, "listAccounts", "account", csclient.Params("name", acc), &items); err != nil {
			return err
		}
		if !slices.ContainsFunc(items, func(x struct{ Name string }) bool { return x.Name == acc }) {
			return f.errorf(d, "account", "no account %q in the file or the cloud", acc)
		}
	}
	switch s := d.Cloud.(type) {
	case *AccountSpec:
		if s.APIKey != "" && a.c.SetUserKeys == nil {
			return f.errorf(d, "apiKey", "fixed keys need the seed applied by stratus itself (stratus apply, up --seed)")
		}
	case *GCEProjectSpec:
		if s.APIKey != "" && a.c.SetUserKeys == nil {
			return f.errorf(d, "apiKey", "fixed keys need the seed applied by stratus itself (stratus apply, up --seed)")
		}
	case *NetworkSpec:
		if err := has(a.zones, "zone", "zone", s.Zone); err != nil {
			return err
		}
		if s.Offering != "" {
			return has(a.netOffs, "offering", "network offering", s.Offering)
		}
		if a.defaultNetOff == "" {
			return f.errorf(d, "offering", "the cloud has no isolated network offering to default to; name one")
		}
	case *VirtualMachineSpec:
		for _, c := range []struct {
			m                 map[string]string
			field, what, name string
		}{{a.zones, "zone", "zone", s.Zone}, {a.svcOffs, "offering", "service offering", s.Offering}, {a.tmpls, "template", "template", s.Template}} {
			if err := has(c.m, c.field, c.what, c.name); err != nil {
				return err
			}
		}
		refs := []struct {
			kind, field, cmd, key, param string
			names                        []string
		}{
			{"Network", "networks", "listNetworks", "network", "keyword", s.Networks},
			{"SecurityGroup", "securityGroups", "listSecurityGroups", "securitygroup", "securitygroupname", s.SecurityGroups},
		}
		if s.KeyPair != "" {
			refs = append(refs, struct {
				kind, field, cmd, key, param string
				names                        []string
			}{"KeyPair", "keyPair", "listSSHKeyPairs", "sshkeypair", "name", []string{s.KeyPair}})
		}
		for _, r := range refs {
			for _, n := range r.names {
				if a.inFile[r.kind+"/"+s.Account+"/"+n] {
					continue
				}
				if a.inFile["Account//"+s.Account] {
					return f.errorf(d, r.field, "no %s %q in the file (the account is new, so it has none yet)", r.kind, n)
				}
				var items []struct{ Name, Account string }
				if err := listInto(ctx, a.c.CloudStack, r.cmd, r.key, csclient.Params(r.param, n), &items); err != nil {
					return err
				}
				acct := s.Account
				if acct == "" {
					acct = "admin"
				}
				if !slices.ContainsFunc(items, func(x struct{ Name, Account string }) bool { return x.Name == n && x.Account == acct }) {
					return f.errorf(d, r.field, "no %s %q of account %s in the file or the cloud", r.kind, n, acct)
				}
			}
		}
	}
	return nil
}

func names(m map[string]string) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, strconv.Quote(k))
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// apply creates one cloud document's object unless it exists.
func (a *applier) apply(ctx context.Context, d *Doc) (string, error) {
	switch s := d.Cloud.(type) {
	case *AccountSpec:
		return a.ensureAccount(ctx, s.Name, s.Type, s.Username, s.Password, s.Email, s.FirstName, s.LastName, s.APIKey, s.SecretKey)
	case *GCEProjectSpec:
		line, err := a.ensureAccount(ctx, s.Name, "user", "", "", "", "", "", s.APIKey, s.SecretKey)
		if err != nil {
			return "", err
		}
		if err := a.claimProject(ctx, s.Name); err != nil {
			return "", a.f.errorf(d, "name", "%v", err)
		}
		return strings.Replace(line, "Account", "GCEProject", 1), nil
	}
	cs, err := a.clientOf(ctx, accountOf(d.Cloud))
	if err != nil {
		return "", err
	}
	done := func(created bool) string {
		if created {
			return fmt.Sprintf("%s %s created", d.Kind, d.Name())
		}
		return fmt.Sprintf("%s %s unchanged (exists)", d.Kind, d.Name())
	}
	exists := func(cmd, key string, p url.Values) (string, error) {
		var items []struct{ ID, Name string }
		if err := listInto(ctx, cs, cmd, key, p, &items); err != nil {
			return "", err
		}
		for _, it := range items {
			if it.Name == d.Name() {
				return it.ID, nil
			}
		}
		return "", nil
	}
	switch s := d.Cloud.(type) {
	case *KeyPairSpec:
		if id, err := exists("listSSHKeyPairs", "sshkeypair", csclient.Params("name", s.Name)); err != nil || id != "" {
			return done(false), err
		}
		if err := cs.RegisterSSHKeyPair(ctx, s.Name, s.PublicKey); err != nil {
			return "", err
		}
		return done(true), nil
	case *SecurityGroupSpec:
		if id, err := exists("listSecurityGroups", "securitygroup", csclient.Params("securitygroupname", s.Name)); err != nil || id != "" {
			return done(false), err
		}
		sg, err := cs.CreateSecurityGroup(ctx, s.Name, orDefault(s.Description, s.Name))
		if err != nil {
			return "", err
		}
		for i, r := range s.Ingress {
			p := csclient.Params("securitygroupid", sg.ID, "protocol", strings.ToLower(r.Protocol), "cidrlist", orDefault(r.CIDR, "0.0.0.0/0"))
			if r.StartPort != 0 || r.EndPort != 0 {
				p.Set("startport", strconv.Itoa(r.StartPort))
				p.Set("endport", strconv.Itoa(max(r.EndPort, r.StartPort)))
			}
			if err := cs.AsyncWait(ctx, "authorizeSecurityGroupIngress", p, "", nil); err != nil {
				return "", a.f.errorf(d, fmt.Sprintf("ingress[%d]", i), "%v", err)
			}
		}
		return done(true), nil
	case *NetworkSpec:
		if id, err := exists("listNetworks", "network", csclient.Params("keyword", s.Name)); err != nil || id != "" {
			return done(false), err
		}
		off := a.defaultNetOff
		if s.Offering != "" {
			off = a.netOffs[s.Offering]
		}
		p := csclient.Params("name", s.Name, "displaytext", orDefault(s.DisplayText, s.Name), "zoneid", a.zones[s.Zone], "networkofferingid", off)
		if s.Gateway != "" {
			p.Set("gateway", s.Gateway)
			p.Set("netmask", s.Netmask)
		}
		if _, err := cs.CreateNetwork(ctx, p); err != nil {
			return "", err
		}
		return done(true), nil
	case *VirtualMachineSpec:
		if id, err := exists("listVirtualMachines", "virtualmachine", csclient.Params("name", s.Name)); err != nil || id != "" {
			return done(false), err
		}
		p := csclient.Params("name", s.Name, "displayname", s.Name, "zoneid", a.zones[s.Zone],
			"serviceofferingid", a.svcOffs[s.Offering], "templateid", a.tmpls[s.Template])
		if len(s.Networks) > 0 {
			ids, err := a.idsOf(ctx, cs, "listNetworks", "network", "keyword", s.Networks)
			if err != nil {
				return "", a.f.errorf(d, "networks", "%v", err)
			}
			p.Set("networkids", strings.Join(ids, ","))
		}
		if len(s.SecurityGroups) > 0 {
			ids, err := a.idsOf(ctx, cs, "listSecurityGroups", "securitygroup", "securitygroupname", s.SecurityGroups)
			if err != nil {
				return "", a.f.errorf(d, "securityGroups", "%v", err)
			}
			p.Set("securitygroupids", strings.Join(ids, ","))
		}
		if s.KeyPair != "" {
			p.Set("keypair", s.KeyPair)
		}
		if s.UserData != "" {
			p.Set("userdata", base64.StdEncoding.EncodeToString([]byte(s.UserData)))
		}
		if s.State == "Stopped" {
			p.Set("startvm", "false")
		}
		if err := cs.AsyncWait(ctx, "deployVirtualMachine", p, "", nil); err != nil {
			return "", err
		}
		return done(true), nil
	}
	return "", fmt.Errorf("kind %s: not applied", d.Kind)
}

// idsOf finds the ids of objects by name, among those cs sees.
func (a *applier) idsOf(ctx context.Context, cs *csclient.Client, cmd, key, param string, want []string) ([]string, error) {
	var ids []string
	for _, n := range want {
		var items []struct{ ID, Name string }
		if err := listInto(ctx, cs, cmd, key, csclient.Params(param, n), &items); err != nil {
			return nil, err
		}
		i := slices.IndexFunc(items, func(x struct{ ID, Name string }) bool { return x.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("%q not found", n)
		}
		ids = append(ids, items[i].ID)
	}
	return ids, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

type accountItem struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	DomainID string `json:"domainid"`
	User     []struct {
		ID string `json:"id"`
	} `json:"user"`
}

func (a *applier) findAccount(ctx context.Context, name string) (*accountItem, error) {
	var items []accountItem
	if err := listInto(ctx, a.c.CloudStack, "listAccounts", "account", csclient.Params("name", name), &items); err != nil {
		return nil, err
	}
	for _, it := range items {
		if it.Name == name {
			return &it, nil
		}
	}
	return nil, nil
}

// ensureAccount creates an account unless it exists, and gives its first
// user the fixed keys asked for, or keys if it has none.
func (a *applier) ensureAccount(ctx context.Context, name, typ, username, password, email, first, last, apiKey, secretKey string) (string, error) {
	it, err := a.findAccount(ctx, name)
	if err != nil {
		return "", err
	}
	created := it == nil
	if created {
		if password == "" {
			password = randomHex(16)
		}
		t := map[string]string{"": "0", "user": "0", "admin": "1", "domain-admin": "2"}[typ]
		if err := a.c.CloudStack.Do(ctx, "createAccount", csclient.Params("account", name, "accounttype", t,
			"username", orDefault(username, name), "password", password, "email", orDefault(email, name+"@stratus.local"),
			"firstname", orDefault(first, name), "lastname", orDefault(last, "seed")), nil); err != nil {
			return "", err
		}
		if it, err = a.findAccount(ctx, name); err != nil {
			return "", err
		}
		if it == nil {
			return "", fmt.Errorf("account %s: created but not listed", name)
		}
	}
	if len(it.User) == 0 {
		return "", fmt.Errorf("account %s has no user", name)
	}
	userID := it.User[0].ID
	changedKeys := false
	if apiKey != "" {
		key, secret, err := a.userKeys(ctx, userID)
		if err != nil {
			return "", err
		}
		if key != apiKey || secret != secretKey {
			if err := a.c.SetUserKeys(ctx, userID, apiKey, secretKey); err != nil {
				return "", err
			}
			changedKeys = true
		}
	}
	if _, err := a.clientOf(ctx, name); err != nil {
		return "", err
	}
	switch {
	case created:
		return "Account " + name + " created", nil
	case changedKeys:
		return "Account " + name + " keys set", nil
	}
	return "Account " + name + " unchanged (exists)", nil
}

func (a *applier) userKeys(ctx context.Context, userID string) (string, string, error) {
	var r struct {
		Keys struct {
			APIKey    string `json:"apikey"`
			SecretKey string `json:"secretkey"`
		} `json:"userkeys"`
	}
	err := a.c.CloudStack.Do(ctx, "getUserKeys", csclient.Params("id", userID), &r)
	return r.Keys.APIKey, r.Keys.SecretKey, err
}

// clientOf returns a client with the keys of the account's first user
// ("": the root admin), registering keys for a user that has none.
func (a *applier) clientOf(ctx context.Context, name string) (*csclient.Client, error) {
	if name == "" {
		return a.c.CloudStack, nil
	}
	if acc, ok := a.accounts[name]; ok {
		return acc.cs, nil
	}
	it, err := a.findAccount(ctx, name)
	if err != nil {
		return nil, err
	}
	if it == nil || len(it.User) == 0 {
		return nil, fmt.Errorf("account %s: not found", name)
	}
	key, secret, err := a.userKeys(ctx, it.User[0].ID)
	if err != nil {
		return nil, err
	}
	if key == "" {
		var r struct {
			Keys struct {
				APIKey    string `json:"apikey"`
				SecretKey string `json:"secretkey"`
			} `json:"userkeys"`
		}
		if err := a.c.CloudStack.Do(ctx, "registerUserKeys", csclient.Params("id", it.User[0].ID), &r); err != nil {
			return nil, err
		}
		key, secret = r.Keys.APIKey, r.Keys.SecretKey
	}
	acc := &account{id: it.ID, domainID: it.DomainID, cs: a.c.NewCloudStack(key, secret)}
	a.accounts[name] = acc
	return acc.cs, nil
}

// claimProject has the GCE gateway map the account to its project (on its
// first token) and checks the project is the account's.
func (a *applier) claimProject(ctx context.Context, name string) error {
	acc := a.accounts[name]
	hc := a.c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {acc.cs.APIKey()}, "client_secret": {a.secretOf(ctx, name)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.c.HTTPURL+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := doJSON(hc, req, &tok); err != nil {
		return fmt.Errorf("GCE token: %w", err)
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodGet, a.c.HTTPURL+"/compute/v1/projects/"+url.PathEscape(name), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if err := doJSON(hc, req, nil); err != nil {
		return fmt.Errorf("GCE project %s is not this account's (another account holds the name?): %w", name, err)
	}
	return nil
}

// secretOf is the secret key of the account's client (kept by the applier).
func (a *applier) secretOf(ctx context.Context, name string) string {
	it, err := a.findAccount(ctx, name)
	if err != nil || it == nil || len(it.User) == 0 {
		return ""
	}
	_, secret, _ := a.userKeys(ctx, it.User[0].ID)
	return secret
}

func doJSON(hc *http.Client, req *http.Request, out any) error {
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
