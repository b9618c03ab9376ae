package gce

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// Config is the standalone gateway's configuration file, as `stratus gce
// configure` writes it (what gstack-configure asked for). Keys are the
// flag names.
type Config struct {
	// BindAddress and Port are where the gateway listens.
	BindAddress string `json:"bind-address"`
	Port        int    `json:"port"`
	// PublicURL is the URL clients use, when it is not
	// http://bind-address:port (behind a proxy).
	PublicURL string `json:"public-url,omitempty"`
	// The CloudStack endpoint: protocol://host:port/path.
	CloudStackProtocol string `json:"cloudstack-protocol"`
	CloudStackHost     string `json:"cloudstack-host"`
	CloudStackPort     int    `json:"cloudstack-port"`
	CloudStackPath     string `json:"cloudstack-path"`
	// APIKey and SecretKey are the gateway's own CloudStack key pair; the
	// gateway writes a bearer token for it at start.
	APIKey    string `json:"api-key"`
	SecretKey string `json:"secret-key"`
	// InsecureSkipVerify accepts any TLS certificate from CloudStack.
	InsecureSkipVerify bool `json:"insecure-skip-verify,omitempty"`
	// DataDir holds the store and the token file.
	DataDir string `json:"data-dir"`
	// Store is the store backend spec (bolt, memory, etcd://…).
	Store string `json:"store,omitempty"`
}

// DefaultConfig returns the answers offered by default: listen on
// loopback port 8081 and reach CloudStack at http://localhost:8080/client/api.
func DefaultConfig() Config {
	dir := ".stratus-gce"
	if home, err := os.UserHomeDir(); err == nil {
		dir = filepath.Join(home, ".stratus-gce")
	}
	return Config{BindAddress: "127.0.0.1", Port: 8081, CloudStackProtocol: "http", CloudStackHost: "localhost",
		CloudStackPort: 8080, CloudStackPath: "/client/api", DataDir: dir, Store: "bolt"}
}

// CloudStackURL is the API endpoint the config names.
func (c Config) CloudStackURL() string {
	path := c.CloudStackPath
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return (&url.URL{Scheme: c.CloudStackProtocol, Host: net.JoinHostPort(c.CloudStackHost, strconv.Itoa(c.CloudStackPort)), Path: path}).String()
}

// Addr is the listen address.
func (c Config) Addr() string { return net.JoinHostPort(c.BindAddress, strconv.Itoa(c.Port)) }

// Validate checks every answer.
func (c Config) Validate() error {
	var errs []error
	if net.ParseIP(c.BindAddress) == nil && c.BindAddress != "localhost" {
		errs = append(errs, fmt.Errorf("bind-address %q: not an IP address", c.BindAddress))
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d: out of range", c.Port))
	}
	if c.CloudStackProtocol != "http" && c.CloudStackProtocol != "https" {
		errs = append(errs, fmt.Errorf("cloudstack-protocol %q: want http or https", c.CloudStackProtocol))
	}
	if c.CloudStackHost == "" {
		errs = append(errs, errors.New("cloudstack-host is required"))
	}
	if c.CloudStackPort <= 0 || c.CloudStackPort > 65535 {
		errs = append(errs, fmt.Errorf("cloudstack-port %d: out of range", c.CloudStackPort))
	}
	if c.APIKey == "" || c.SecretKey == "" {
		errs = append(errs, errors.New("api-key and secret-key are required"))
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("public-url %q: want http(s)://host[:port]", c.PublicURL))
		}
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data-dir is required"))
	}
	return errors.Join(errs...)
}

// LoadConfig reads a config file.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	c := DefaultConfig()
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// SaveConfig writes a config file readable by its owner only (it holds
// the secret key).
func SaveConfig(path string, c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	b, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append([]byte("# stratus gce configuration (written by `stratus gce configure`)\n"), b...), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
