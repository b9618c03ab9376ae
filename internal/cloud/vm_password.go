package cloud

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"log/slog"
	"math/big"

	"golang.org/x/crypto/ssh"
)

// VM passwords, as CloudStack keeps them for password-enabled templates:
// a deploy or resetPasswordForVirtualMachine makes a password and answers
// it once, in the job's result (the VM record never holds it in the
// clear); when the VM has an SSH key pair, the password is also kept
// encrypted with the pair's public key (RSA, PKCS#1 v1.5, base64: the
// real server's Encrypted.Password detail), which getVMPassword returns
// and only the private key's holder can read.

// vmPasswordLength is CloudStack's vm.password.length default.
const vmPasswordLength = 6

// The letters the real server's password generator draws from (no
// look-alikes such as 0/O, 1/l/I).
const (
	pwLower  = "abcdefghjkmnpqrstuvwxyz"
	pwUpper  = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	pwDigits = "23456789"
)

// newVMPassword returns a random password with a lower-case letter, an
// upper-case letter and a digit, as CloudStack's PasswordGenerator.
func newVMPassword() (string, error) {
	pick := func(set string) (byte, error) {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			return 0, err
		}
		return set[n.Int64()], nil
	}
	out := make([]byte, vmPasswordLength)
	for i := range out {
		set := pwLower + pwUpper + pwDigits
		switch i {
		case 0:
			set = pwLower
		case 1:
			set = pwUpper
		case 2:
			set = pwDigits
		}
		c, err := pick(set)
		if err != nil {
			return "", err
		}
		out[i] = c
	}
	// shuffle so the classes are not always in the same places
	for i := len(out) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", err
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return string(out), nil
}

// encryptVMPassword encrypts pw with an OpenSSH RSA public key as the
// real server does; other key types give "" (the real server keeps no
// encrypted password for them either).
func encryptVMPassword(publicKey, pw string) string {
	pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(publicKey))
	if err != nil {
		return ""
	}
	cpk, ok := pk.(ssh.CryptoPublicKey)
	if !ok {
		return ""
	}
	rk, ok := cpk.CryptoPublicKey().(*rsa.PublicKey)
	if !ok {
		return ""
	}
	enc, err := rsa.EncryptPKCS1v15(rand.Reader, rk, []byte(pw))
	if err != nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(enc)
}

// setVMPassword records pw encrypted with the VM's first key pair (or
// drops the encrypted password when the VM has none).
func (ix *index) setVMPassword(vm *VM, pw string) {
	vm.EncryptedPassword = ""
	if len(vm.KeyPairs) == 0 {
		return
	}
	if k := ix.keyPairByName(vm.Owner, vm.KeyPairs[0]); k != nil {
		vm.EncryptedPassword = encryptVMPassword(k.PublicKey, pw)
	}
}

// vmLabel is how the real server's messages name a VM (VMInstanceVO's toString).
func vmLabel(vm *VM) string {
	return fmt.Sprintf("VM instance {\"id\":%d,\"instanceName\":\"%s\",\"type\":\"User\",\"uuid\":\"%s\"}", vm.Seq, vm.InstanceName, vm.ID)
}

// ResetVMPassword sets a new password on a Stopped VM of a
// password-enabled template, in an async job whose result shows the
// password (pw, or a generated one when empty).
func (s *Sim) ResetVMPassword(ctx context.Context, c Caller, id, pw, cmd string) (*Job, error) {
	check := func(ix *index, vm *VM) error {
		t, ok := ix.templates.get(vm.TemplateID)
		if !ok || !t.PasswordEnabled {
			return Invalid("Fail to reset password for the Instance, the Template is not password enabled")
		}
		if vm.State == VMError || vm.State == VMExpunging {
			return Invalid("Vm %s is not in the right state", vmLabel(vm))
		}
		if vm.State != VMStopped {
			return Invalid("Vm %s should be stopped to do password reset", vmLabel(vm))
		}
		return nil
	}
	var err error
	s.read(func(ix *index) {
		var vm *VM
		if vm, err = ix.vmFor(c, id); err == nil {
			err = check(ix, vm)
		}
	})
	if err != nil {
		return nil, err
	}
	if pw == "" {
		if pw, err = newVMPassword(); err != nil {
			return nil, err
		}
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindVM, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.writeVM(ctx, id, func(ix *index, vm *VM, b *batch) error {
			if err := check(ix, vm); err != nil {
				return err
			}
			n := *vm
			ix.setVMPassword(&n, pw)
			put(b, ix.vms, &n)
			ix.event(b, s, vm.Owner, jc.caller(ix), "VM.RESETPASSWORD", "Successfully completed resetting password for VM. Vm Name: "+vm.Name, vm.ID, KindVM)
			shown := n
			shown.Password = pw
			jc.complete(b, KindVM, &shown)
			return nil
		})
	})
}

// VMPassword returns a VM's password encrypted with its key pair's public
// key, as getVMPassword.
func (s *Sim) VMPassword(c Caller, id string) (string, error) {
	var out string
	var err error
	s.read(func(ix *index) {
		vm, ok := ix.vms.get(id)
		if !ok {
			err = Invalid("No VM with specified id found.")
			return
		}
		if !ix.canAccess(c, vm.Owner) {
			err = Denied("Account %s does not have permission to operate on VM %s", c.Account.Name, vm.Name)
			return
		}
		if vm.EncryptedPassword == "" {
			err = Invalid("No password for VM with specified id found. If VM is created from password enabled template and SSH keypair is assigned to VM then only password can be retrieved.")
			return
		}
		out = vm.EncryptedPassword
	})
	return out, err
}

// withPassword returns a copy of vm showing pw, for a job's result.
func withPassword(vm *VM, pw string) *VM {
	if pw == "" {
		return vm
	}
	n := *vm
	n.Password = pw
	return &n
}

// LogValue names a VM in logs by id, name and state, leaving out its
// passwords (and user data).
func (vm VM) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", vm.ID), slog.String("name", vm.Name), slog.String("state", string(vm.State)))
}
