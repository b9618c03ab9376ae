// Package datadir owns stratus's data directory: it creates it, refuses one
// that another running stratus holds (an advisory lock on a file inside),
// one written by an unknown format version, or one that is not writable,
// and records what the running server offers (addresses, credentials) in a
// state file that `stratus env` reads.
package datadir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// FormatVersion is the layout version this build writes and understands.
const FormatVersion = 1

const (
	lockFile    = "stratus.lock"
	versionFile = "VERSION"
	stateFile   = "state.json"
	// settingsFile keeps choices made once for the directory (the pod
	// runtime), so a later `up` without the flag does not change them.
	settingsFile = "settings.json"
	// PIDFile and LogFile are written by `stratus up --detach`.
	PIDFile = "stratus.pid"
	LogFile = "stratus.log"
)

// ErrInUse is returned by Open when another process holds the directory.
var ErrInUse = errors.New("data directory is in use by another running stratus")

// Dir is an open, locked data directory.
type Dir struct {
	path string
	lock *os.File
}

// Open creates path if needed (mode 0700), takes its lock and checks its
// format version. A directory from an unknown version is never touched.
func Open(path string) (*Dir, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", abs, err)
	}
	if err := checkVersion(abs); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(abs, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("data directory %s is not writable: %w", abs, err)
		}
		return nil, fmt.Errorf("open lock in %s: %w", abs, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		pid, _ := os.ReadFile(f.Name())
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := strings.TrimSpace(string(pid))
			if holder != "" {
				return nil, fmt.Errorf("%w: %s (pid %s); stop it or use another --data-dir", ErrInUse, abs, holder)
			}
			return nil, fmt.Errorf("%w: %s; stop it or use another --data-dir", ErrInUse, abs)
		}
		return nil, fmt.Errorf("lock data directory %s: %w", abs, err)
	}
	// The lock file holds the owner's pid, for the message above. The lock
	// itself is the flock, which the kernel drops when the process dies, so
	// a crash never leaves a stale lock behind.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	d := &Dir{path: abs, lock: f}
	if err := d.writeVersion(); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func checkVersion(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, versionFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read data directory version: %w", err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("data directory %s has a corrupt VERSION file (%q); refusing to use it", dir, strings.TrimSpace(string(b)))
	}
	if v != FormatVersion {
		return fmt.Errorf("data directory %s was written by format version %d; this stratus understands version %d; refusing to use it", dir, v, FormatVersion)
	}
	return nil
}

func (d *Dir) writeVersion() error {
	p := filepath.Join(d.path, versionFile)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	if err := writeFileAtomic(p, []byte(strconv.Itoa(FormatVersion)+"\n"), 0o600); err != nil {
		return fmt.Errorf("data directory %s is not writable: %w", d.path, err)
	}
	return nil
}

// Path is the directory's absolute path.
func (d *Dir) Path() string { return d.path }

// File returns the path of a file inside the directory.
func (d *Dir) File(name string) string { return filepath.Join(d.path, name) }

// Close releases the lock and removes the state file, so `stratus env`
// knows nothing is running.
func (d *Dir) Close() error {
	if d.lock == nil {
		return nil
	}
	_ = os.Remove(filepath.Join(d.path, stateFile))
	err := d.lock.Close()
	d.lock = nil
	return err
}

// State is what a running server offers, for `stratus env`.
type State struct {
	PID        int              `json:"pid"`
	HTTPURL    string           `json:"httpURL"`
	KubeURL    string           `json:"kubeURL,omitempty"`
	Kubeconfig string           `json:"kubeconfig,omitempty"`
	CloudStack *CloudStackState `json:"cloudstack,omitempty"`
	GCE        *GCEState        `json:"gce,omitempty"`
	JoinToken  string           `json:"joinToken,omitempty"`
	Dashboard  bool             `json:"dashboard,omitempty"`
	Network    *NetworkState    `json:"network,omitempty"`
	Marathon   *MarathonState   `json:"marathon,omitempty"`
	// AdminTokenFile holds the bearer token of the admin API (/stratus/v1/:
	// reset, snapshots).
	AdminTokenFile string `json:"adminTokenFile,omitempty"`
}

// NetworkState is the instance's share of loopback (internal/netslot).
type NetworkState struct {
	Slot        int    `json:"slot"`
	ServiceCIDR string `json:"serviceCIDR"`
	PodCIDR     string `json:"podCIDR"`
	NodeAddress string `json:"nodeAddress"`
}

// MarathonState is where the Marathon API answers and its credentials.
type MarathonState struct {
	URL      string `json:"url"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// CloudStackState is the root admin's API key pair.
type CloudStackState struct {
	APIKey    string `json:"apiKey"`
	SecretKey string `json:"secretKey"`
}

// GCEState is what gcloud needs.
type GCEState struct {
	Project   string `json:"project"`
	Zone      string `json:"zone"`
	TokenFile string `json:"tokenFile"`
}

// WriteState records the running server's state (mode 0600: it holds
// credentials).
func (d *Dir) WriteState(s State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(d.path, stateFile), b, 0o600)
}

// ErrNotRunning is returned by ReadState when no server runs from the
// directory.
var ErrNotRunning = errors.New("no stratus is running from this data directory")

// ReadState reads the state of the server running from dir without taking
// the lock.
func ReadState(dir string) (State, error) {
	var s State
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return s, fmt.Errorf("%w (%s); start one with `stratus up`", ErrNotRunning, dir)
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("corrupt state file in %s: %w", dir, err)
	}
	if s.PID > 0 && syscall.Kill(s.PID, 0) != nil && !errors.Is(syscall.Kill(s.PID, 0), syscall.EPERM) {
		return s, fmt.Errorf("%w (%s: pid %d is gone); start one with `stratus up`", ErrNotRunning, dir, s.PID)
	}
	return s, nil
}

// Settings are choices made for the directory that later runs keep unless
// told otherwise on the command line.
type Settings struct {
	// Runtime is the pod runtime of the host's node agent (--runtime).
	Runtime string `json:"runtime,omitempty"`
}

// Settings reads the directory's settings; none yet is the zero value.
func (d *Dir) Settings() (Settings, error) {
	var s Settings
	b, err := os.ReadFile(filepath.Join(d.path, settingsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("corrupt %s in %s: %w", settingsFile, d.path, err)
	}
	return s, nil
}

// WriteSettings records the directory's settings.
func (d *Dir) WriteSettings(s Settings) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(d.path, settingsFile), append(b, '\n'), 0o600)
}

// Holder returns the pid of the process that holds dir's lock (a running
// stratus, started or starting), or 0 when none does. It takes no lock.
func Holder(dir string) (int, error) {
	f, err := os.Open(filepath.Join(dir, lockFile))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err == nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return 0, nil
	} else if !errors.Is(err, syscall.EWOULDBLOCK) {
		return 0, fmt.Errorf("check the lock of %s: %w", dir, err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%s is locked, by a process that did not write its pid", dir)
	}
	return pid, nil
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
