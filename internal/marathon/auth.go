package marathon

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Credentials are the HTTP basic credentials of the Marathon API.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// LoadOrCreateCredentials reads the credentials kept in file, or makes
// new ones (user "marathon", a random password) and keeps them there
// (mode 0600), so they stay the same across restarts.
func LoadOrCreateCredentials(file string) (Credentials, error) {
	var c Credentials
	b, err := os.ReadFile(file)
	if err == nil {
		if err := json.Unmarshal(b, &c); err != nil || c.Username == "" || c.Password == "" {
			return c, fmt.Errorf("marathon credentials in %s are unreadable; remove the file to make new ones", file)
		}
		return c, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return c, err
	}
	var pw [16]byte
	if _, err := rand.Read(pw[:]); err != nil {
		return c, err
	}
	c = Credentials{Username: "marathon", Password: hex.EncodeToString(pw[:])}
	b, err = json.Marshal(c)
	if err != nil {
		return c, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".marathon-credentials-*")
	if err != nil {
		return c, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return c, err
	}
	if err := tmp.Close(); err != nil {
		return c, err
	}
	return c, os.Rename(tmp.Name(), file)
}
