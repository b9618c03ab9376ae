package certs

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
)

// Kubeconfig renders a kubeconfig for server (an https:// URL) that trusts
// the bundle's CA and authenticates as user "admin" with the admin token.
func (b *Bundle) Kubeconfig(server string) []byte {
	ca := base64.StdEncoding.EncodeToString(b.CACertPEM)
	return fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters:
- name: stratus
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: admin
  user:
    token: %s
contexts:
- name: stratus
  context:
    cluster: stratus
    user: admin
    namespace: default
current-context: stratus
preferences: {}
`, server, ca, b.AdminToken)
}

// WriteFile writes data to path with mode 0600 atomically (write to a temp
// file in the same directory, then rename), creating the directory.
func WriteFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
