package cloud

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestUserLogsNoSecrets logs a user with both of slog's handlers, as a
// value and as a pointer, and through fmt: no secret may appear.
func TestUserLogsNoSecrets(t *testing.T) {
	u := User{ID: "u-1", Username: "alice", PasswordHash: "HASH-SECRET", APIKey: "API-SECRET", SecretKey: "KEY-SECRET"}
	for _, tc := range []struct {
		name string
		h    func(*bytes.Buffer) slog.Handler
	}{
		{"text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
		{"json", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			log := slog.New(tc.h(&b))
			log.Info("value", "user", u)
			log.Info("pointer", "user", &u)
			out := b.String() + fmt.Sprint(u) + fmt.Sprintf("%v %+v", u, &u)
			for _, secret := range []string{"HASH-SECRET", "API-SECRET", "KEY-SECRET"} {
				if strings.Contains(out, secret) {
					t.Fatalf("%s leaked into:\n%s", secret, out)
				}
			}
			if !strings.Contains(b.String(), "alice") {
				t.Fatalf("the user's name is missing:\n%s", b.String())
			}
		})
	}
}

// TestVMLogsNoPassword logs a VM carrying a password (as a job's result
// copy does) and its encrypted form: neither may appear.
func TestVMLogsNoPassword(t *testing.T) {
	vm := VM{ID: "vm-1", Name: "web1", State: VMRunning, Password: "PW-SECRET", EncryptedPassword: "ENC-SECRET"}
	var b bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&b, nil))
	log.Info("value", "vm", vm)
	log.Info("pointer", "vm", &vm)
	for _, secret := range []string{"PW-SECRET", "ENC-SECRET"} {
		if strings.Contains(b.String(), secret) {
			t.Fatalf("%s leaked into:\n%s", secret, b.String())
		}
	}
	if !strings.Contains(b.String(), "web1") {
		t.Fatalf("the VM's name is missing:\n%s", b.String())
	}
}
