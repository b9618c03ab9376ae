package gce

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
	"github.com/stratus-cloud/stratus/internal/store"
)

// sshKeysKey is the project metadata item that becomes SSH key pairs.
const sshKeysKey = "ssh-keys"

func (c *call) projectMeta() (*projectMeta, error) {
	pm, _, err := c.g.projects.Get(c.ctx, c.project)
	if errors.Is(err, store.ErrNotFound) {
		return &projectMeta{}, nil
	}
	return pm, err
}

func (g *Gateway) getProject(c *call) (any, error) {
	a, err := c.account()
	if err != nil {
		return nil, err
	}
	pm, err := c.projectMeta()
	if err != nil {
		return nil, err
	}
	quotas := []Quota{
		quota("SNAPSHOTS", a.SnapshotLimit, a.SnapshotTotal),
		quota("NETWORKS", a.NetworkLimit, a.NetworkTotal),
		quota("FIREWALLS", -1, 0),
		quota("IMAGES", a.TemplateLimit, a.TemplateTotal),
		quota("CPUS_ALL_REGIONS", a.CPULimit, a.CPUTotal),
		quota("STATIC_ADDRESSES", a.IPLimit, a.IPTotal),
	}
	return &Project{Kind: "compute#project", ID: idOf("project", c.tok.AccountID), CreationTimestamp: csTime(a.Created),
		Name: c.project, Description: "CloudStack account " + c.tok.Account,
		CommonInstanceMetadata: &Metadata{Kind: "compute#metadata", Fingerprint: fingerprint(pm.Items), Items: pm.Items},
		Quotas:                 quotas, DefaultServiceAccount: c.project + "-compute@developer.gserviceaccount.com",
		DefaultNetworkTier: "PREMIUM", XpnProjectStatus: "UNSPECIFIED_XPN_PROJECT_STATUS", VMDNSSetting: "ZONAL_ONLY",
		SelfLink: strings.TrimSuffix(c.base, "/") + "/" + c.project}, nil
}

// sshKey is one line of the ssh-keys metadata value.
type sshKey struct {
	user, public string
}

// parseSSHKeys reads "user:ssh-ed25519 AAAA… comment" lines; lines that
// are not keys are kept in the metadata but make no key pair.
func parseSSHKeys(v string) []sshKey {
	var out []sshKey
	for _, line := range strings.Split(v, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		user := ""
		if u, rest, ok := strings.Cut(line, ":"); ok && !strings.Contains(u, " ") {
			user, line = u, strings.TrimSpace(rest)
		}
		f := strings.Fields(line)
		if len(f) < 2 || !(strings.HasPrefix(f[0], "ssh-") || strings.HasPrefix(f[0], "ecdsa-") || strings.HasPrefix(f[0], "sk-")) {
			continue
		}
		out = append(out, sshKey{user: user, public: strings.Join(f, " ")})
	}
	return out
}

// keyPairName is the CloudStack key pair name of a project key.
func keyPairName(k sshKey) string {
	f := strings.Fields(k.public)
	sum := sha256.Sum256([]byte(f[0] + " " + f[1]))
	user := k.user
	if user == "" {
		user = "any"
	}
	name := "gce-" + gceName(user)
	if len(name) > 40 {
		name = name[:40]
	}
	return name + "-" + hex.EncodeToString(sum[:6])
}

// setCommonInstanceMetadata stores the project's metadata and mirrors its
// ssh-keys into CloudStack SSH key pairs, which new instances get.
func (g *Gateway) setCommonInstanceMetadata(c *call) (any, error) {
	var body Metadata
	if err := c.decode(&body); err != nil {
		return nil, err
	}
	if err := checkMetadata(body.Items, "metadata"); err != nil {
		return nil, err
	}
	pm, err := c.projectMeta()
	if err != nil {
		return nil, err
	}
	if body.Fingerprint != "" && !sameFingerprint(body.Fingerprint, fingerprint(pm.Items)) {
		return nil, errFingerprint("metadata")
	}
	keysText, _ := itemValue(body.Items, sshKeysKey)
	if legacy, ok := itemValue(body.Items, "sshKeys"); ok {
		keysText += "\n" + legacy
	}
	want := map[string]sshKey{}
	var order []string
	for _, k := range parseSSHKeys(keysText) {
		n := keyPairName(k)
		if _, dup := want[n]; !dup {
			want[n] = k
			order = append(order, n)
		}
	}
	existing, err := c.cs.ListSSHKeyPairs(c.ctx)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, kp := range existing {
		have[kp.Name] = true
	}
	for _, n := range pm.KeyPairs {
		if _, keep := want[n]; keep || !have[n] {
			continue
		}
		if err := c.cs.Do(c.ctx, "deleteSSHKeyPair", csclient.Params("name", n), nil); err != nil && !csclient.IsNotFound(err) {
			return nil, err
		}
	}
	var made []string
	for _, n := range order {
		if !have[n] {
			if err := c.cs.RegisterSSHKeyPair(c.ctx, n, want[n].public); err != nil {
				return nil, err
			}
		}
		made = append(made, n)
	}
	_, _, err = c.g.projects.Update(c.ctx, c.project, func(cur *projectMeta) (*projectMeta, error) {
		return &projectMeta{Items: body.Items, KeyPairs: made}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		_, err = c.g.projects.Put(c.ctx, c.project, &projectMeta{Items: body.Items, KeyPairs: made})
	}
	if err != nil {
		return nil, err
	}
	return c.startOp(opScope{}, "setMetadata", "", idOf("project", c.tok.AccountID), nil, nil)
}
