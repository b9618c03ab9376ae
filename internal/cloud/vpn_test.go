package cloud

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stratus-cloud/stratus/internal/store/memory"
)

// TestVPNSecretsStayOutOfLogs logs the VPN objects that hold secrets with
// both of slog's handlers: no preshared key or password may appear.
func TestVPNSecretsStayOutOfLogs(t *testing.T) {
	objs := []any{
		VPNCustomerGateway{ID: "g-1", Name: "office", IPsecPSK: "PSK-SECRET"},
		&VPNCustomerGateway{ID: "g-1", Name: "office", IPsecPSK: "PSK-SECRET"},
		RemoteAccessVPN{ID: "v-1", PresharedKey: "RA-SECRET"},
		&RemoteAccessVPN{ID: "v-1", PresharedKey: "RA-SECRET"},
		VPNUser{ID: "u-1", Username: "alice", Password: "PW-SECRET"},
		&VPNUser{ID: "u-1", Username: "alice", Password: "PW-SECRET"},
	}
	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var b bytes.Buffer
		log := slog.New(h(&b))
		for _, o := range objs {
			log.Info("obj", "obj", o)
		}
		for _, secret := range []string{"PSK-SECRET", "RA-SECRET", "PW-SECRET"} {
			if strings.Contains(b.String(), secret) {
				t.Fatalf("%s leaked into:\n%s", secret, b.String())
			}
		}
		if !strings.Contains(b.String(), "office") || !strings.Contains(b.String(), "alice") {
			t.Fatalf("the names are missing:\n%s", b.String())
		}
	}
}

func TestVPNPolicy(t *testing.T) {
	for _, tc := range []struct {
		ike    bool
		policy string
		ok     bool
	}{
		{true, "aes128-sha1;modp1536", true},
		{true, "aes256-sha512;modp8192,3des-md5;modp1024", true},
		{true, "aes128-sha1", false}, // IKE needs a DH group
		{false, "aes128-sha1", true},
		{false, "aes128-sha1;modp2048", true},
		{false, "aes128-sha1;modp999", false},
		{false, "blowfish-sha1", false},
		{false, "aes128-sha1-md5", false},
		{false, "aes128", false},
		{false, "", false},
		{false, "aes128-sha1,", false},
	} {
		if got := validVPNPolicy(tc.ike, tc.policy); got != tc.ok {
			t.Errorf("validVPNPolicy(%v, %q) = %v, want %v", tc.ike, tc.policy, got, tc.ok)
		}
	}
}

func TestVPNIPRange(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{"10.1.2.1-10.1.2.8", ""},
		{"10.1.2.1-10.1.2.1", ""},
		{"10.1.2.1", "IP range [10.1.2.1] is an invalid IP range."},
		{"10.1.2.1-10.1.2.8-10.1.2.9", "IP range [10.1.2.1-10.1.2.8-10.1.2.9] is an invalid IP range."},
		{"10.1.2.x-10.1.2.8", "One or both IPs sets in the range [10.1.2.x-10.1.2.8] are invalid IPs."},
		{"10.1.2.8-10.1.2.1", "Range of IPs [10.1.2.8-10.1.2.1] is invalid."},
	} {
		_, _, err := parseIPRange(tc.in)
		if got := fmt.Sprint(err); (tc.err == "" && err != nil) || (tc.err != "" && got != tc.err) {
			t.Errorf("parseIPRange(%q) = %v, want %q", tc.in, err, tc.err)
		}
	}
}

// TestVPNSurvivesRestart: the family's objects are in the store, and a
// restarted simulator still refuses a second customer gateway of a name.
func TestVPNSurvivesRestart(t *testing.T) {
	st := memory.New(memory.Options{})
	ctx := context.Background()
	s1 := start(t, st, smallDC, nil)
	spec := CustomerGatewaySpec{Name: "office", Gateway: "203.0.113.1", CIDRList: "192.168.1.0/24", IPsecPSK: "k",
		IKEPolicy: "aes128-sha1;modp1536", ESPPolicy: "aes128-sha1"}
	g, _, err := s1.CreateVPNCustomerGateway(ctx, s1.Admin(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s1.AddVPNUser(ctx, s1.Admin(), "alice", "pass-1", "", "", ""); err != nil {
		t.Fatal(err)
	}
	_ = s1.Stop(ctx)

	s2 := start(t, st, smallDC, nil)
	var users int
	var got *VPNCustomerGateway
	s2.Read(func(r Reader) {
		got, _ = r.VPNCustomerGateway(g.ID)
		users = len(r.VPNUsers())
	})
	if got == nil || got.IPsecPSK != "k" || got.IKELifetime != 86400 || users != 1 {
		t.Fatalf("after restart: %+v, %d users", got, users)
	}
	if _, _, err := s2.CreateVPNCustomerGateway(ctx, s2.Admin(), spec); err == nil || !strings.Contains(err.Error(), "already existed") {
		t.Fatalf("second office after restart: %v", err)
	}
}
