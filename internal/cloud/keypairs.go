package cloud

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// fingerprint is CloudStack's key fingerprint: MD5 of the key blob, in
// colon-separated hex.
func fingerprint(pub ssh.PublicKey) string {
	sum := md5.Sum(pub.Marshal())
	var b strings.Builder
	for i, x := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02x", x)
	}
	return b.String()
}

func (ix *index) keyPairByName(o Owner, name string) *SSHKeyPair {
	for _, k := range ix.keyPairs.all() {
		if k.AccountID == o.AccountID && k.Name == name {
			return k
		}
	}
	return nil
}

// resolveKeyPairs checks that every named key pair exists in the account.
func (ix *index) resolveKeyPairs(o Owner, names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		if n == "" {
			continue
		}
		if ix.keyPairByName(o, n) == nil {
			return nil, Invalid("A key pair with name '%s' was not found.", n)
		}
		out = append(out, n)
	}
	return out, nil
}

// CreateKeyPair generates an RSA key pair; the private key is returned
// once, never stored.
func (s *Sim) CreateKeyPair(ctx context.Context, c Caller, name, account, domainID string) (*SSHKeyPair, string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, "", err
	}
	pub, err := ssh.NewPublicKey(&key.PublicKey)
	if err != nil {
		return nil, "", err
	}
	priv := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	kp, err := s.saveKeyPair(ctx, c, name, account, domainID, pub, "CREATE_SSH_KEYPAIR")
	return kp, priv, err
}

// RegisterKeyPair records a public key in authorized_keys format.
func (s *Sim) RegisterKeyPair(ctx context.Context, c Caller, name, publicKey, account, domainID string) (*SSHKeyPair, error) {
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(strings.TrimSpace(publicKey)))
	if err != nil {
		return nil, Invalid("Public key is invalid")
	}
	return s.saveKeyPair(ctx, c, name, account, domainID, pub, "REGISTER_SSH_KEYPAIR")
}

func (s *Sim) saveKeyPair(ctx context.Context, c Caller, name, account, domainID string, pub ssh.PublicKey, ev string) (*SSHKeyPair, error) {
	if strings.TrimSpace(name) == "" {
		return nil, Invalid("Key pair name cannot be empty")
	}
	var kp *SSHKeyPair
	err := s.write(func(ix *index) error {
		o, err := ix.ownerFor(c, account, domainID)
		if err != nil {
			return err
		}
		if ix.keyPairByName(o, name) != nil {
			return Invalid("A key pair with name '%s' already exists for this account.", name)
		}
		fp := fingerprint(pub)
		for _, k := range ix.keyPairs.all() {
			if k.AccountID == o.AccountID && k.Fingerprint == fp {
				return Invalid("A key pair with the same public key already exists for this account: %s", k.Name)
			}
		}
		kp = &SSHKeyPair{ID: newID(), Seq: ix.nextSeq(), Name: name, Fingerprint: fp,
			PublicKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))), Created: s.clock.Now().UTC(), Owner: o}
		b := &batch{}
		put(b, ix.keyPairs, kp)
		ix.event(b, s, o, c, ev, "Successfully registered SSH key pair "+name, kp.ID, KindSSHKeyPair)
		return s.commit(ctx, b)
	})
	return kp, err
}

// DeleteKeyPair removes a key pair by name.
func (s *Sim) DeleteKeyPair(ctx context.Context, c Caller, name, account, domainID string) error {
	return s.write(func(ix *index) error {
		o, err := ix.ownerFor(c, account, domainID)
		if err != nil {
			return err
		}
		kp := ix.keyPairByName(o, name)
		if kp == nil {
			return Invalid("A key pair with name '%s' does not exist for account %s in specified domain id", name, accountName(ix, o))
		}
		b := &batch{}
		del(b, ix.keyPairs, kp.ID)
		ix.event(b, s, o, c, "DELETE_SSH_KEYPAIR", "Successfully deleted SSH key pair "+name, kp.ID, KindSSHKeyPair)
		return s.commit(ctx, b)
	})
}

func accountName(ix *index, o Owner) string {
	if a, ok := ix.accounts.get(o.AccountID); ok {
		return a.Name
	}
	return o.AccountID
}
