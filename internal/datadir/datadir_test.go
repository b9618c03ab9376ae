package datadir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenLocksAndReleases(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode: %v %v", fi.Mode(), err)
	}
	// flock is per open file description, so a second Open in the same
	// process conflicts just as another process would.
	if _, err := Open(dir); !errors.Is(err, ErrInUse) {
		t.Fatalf("second Open: got %v, want ErrInUse", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2, err := Open(dir)
	if err != nil {
		t.Fatalf("reopen after close: %v", err)
	}
	d2.Close()
}

func TestOpenRefusesBadVersions(t *testing.T) {
	for _, tc := range []struct {
		name, version, want string
	}{
		{"unknown", "99\n", "format version 99"},
		{"corrupt", "garbage", "corrupt VERSION"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "VERSION"), []byte(tc.version), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want error containing %q", err, tc.want)
			}
			b, _ := os.ReadFile(filepath.Join(dir, "VERSION"))
			if string(b) != tc.version {
				t.Fatalf("VERSION was overwritten: %q", b)
			}
		})
	}
}

func TestOpenNotWritable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can write anywhere; permission checks do not apply")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "not writable") {
		t.Fatalf("got %v, want not writable", err)
	}
}

func TestStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadState(dir); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("got %v, want ErrNotRunning", err)
	}
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := State{PID: os.Getpid(), HTTPURL: "http://127.0.0.1:8080", CloudStack: &CloudStackState{APIKey: "k", SecretKey: "s"}}
	if err := d.WriteState(want); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(dir, "state.json"))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %v, want 0600", fi.Mode().Perm())
	}
	got, err := ReadState(dir)
	if err != nil || got.HTTPURL != want.HTTPURL || got.CloudStack.SecretKey != "s" {
		t.Fatalf("ReadState = %+v, %v", got, err)
	}
	d.Close()
	if _, err := ReadState(dir); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("after Close got %v, want ErrNotRunning", err)
	}
}

func TestSettingsKeptAcrossOpens(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := d.Settings(); err != nil || s != (Settings{}) {
		t.Fatalf("fresh dir settings: %+v, %v", s, err)
	}
	if err := d.WriteSettings(Settings{Runtime: "docker"}); err != nil {
		t.Fatal(err)
	}
	d.Close()
	d, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if s, err := d.Settings(); err != nil || s.Runtime != "docker" {
		t.Fatalf("settings after reopen: %+v, %v", s, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "settings.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Settings(); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("corrupt settings: %v", err)
	}
}

func TestHolderNamesTheLockOwner(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if pid, err := Holder(dir); err != nil || pid != 0 {
		t.Fatalf("Holder of a missing dir: %d, %v", pid, err)
	}
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if pid, err := Holder(dir); err != nil || pid != os.Getpid() {
		t.Fatalf("Holder while open: %d, %v; want %d", pid, err, os.Getpid())
	}
	d.Close()
	if pid, err := Holder(dir); err != nil || pid != 0 {
		t.Fatalf("Holder after close: %d, %v", pid, err)
	}
	// Holder takes no lock: Open still succeeds right after.
	d, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
}
