package gce

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// fingerprint is GCE's optimistic-locking token for a piece of state:
// derived from the content, so it changes exactly when the content does.
func fingerprint(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(sum[:8])
}

var (
	metadataKeyRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`)
)

// isLabelKey and isLabelValue check GCE's label syntax: keys
// [\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}, values [\p{Ll}\p{Lo}\p{N}_-]{0,63}.
// Written out rather than as regular expressions: compiling those Unicode
// classes cost 13 ms of every stratus start.
func isLabelKey(s string) bool {
	r, size := utf8.DecodeRuneInString(s)
	return size > 0 && r != utf8.RuneError && isLabelLetter(r) && isLabelValue(s[size:]) && utf8.RuneCountInString(s) <= 63
}

func isLabelValue(s string) bool {
	n := 0
	for _, r := range s {
		n++
		if n > 63 || !(isLabelLetter(r) || unicode.IsNumber(r) || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func isLabelLetter(r rune) bool {
	return unicode.IsLower(r) || unicode.Is(unicode.Lo, r)
}

// GCE's metadata limits.
const (
	maxMetadataValue = 256 << 10
	maxMetadataTotal = 512 << 10
	maxLabels        = 64
)

// userDataKey is the metadata item that becomes CloudStack user data.
const userDataKey = "user-data"

// checkMetadata validates metadata items as GCE does.
func checkMetadata(items []MetadataItem, field string) error {
	seen := map[string]bool{}
	total := 0
	for i, it := range items {
		if !metadataKeyRE.MatchString(it.Key) {
			return errInvalid("Invalid value for field '%s.items[%d].key': '%s'. Must be a match of regex '[a-zA-Z0-9-_]{1,128}'", field, i, it.Key)
		}
		if seen[it.Key] {
			return errInvalid("Invalid value for field '%s.items[%d].key': '%s'. Duplicate keys are not allowed.", field, i, it.Key)
		}
		seen[it.Key] = true
		if it.Value != nil {
			if len(*it.Value) > maxMetadataValue {
				return errInvalid("Invalid value for field '%s.items[%d].value': value too large (limit 256 KB).", field, i)
			}
			total += len(*it.Value)
		}
		total += len(it.Key)
	}
	if total > maxMetadataTotal {
		return errInvalid("Invalid value for field '%s': metadata too large (limit 512 KB).", field)
	}
	return nil
}

func checkLabels(labels map[string]string, field string) error {
	if len(labels) > maxLabels {
		return errInvalid("Invalid value for field '%s': too many labels (limit 64).", field)
	}
	for k, v := range labels {
		if !isLabelKey(k) {
			return errInvalid("Invalid value for field '%s': '%s'. Label keys must start with a lowercase letter and contain only lowercase letters, digits, '_' and '-' (at most 63).", field, k)
		}
		if !isLabelValue(v) {
			return errInvalid("Invalid value for field '%s': '%s'. Label values contain only lowercase letters, digits, '_' and '-' (at most 63).", field, v)
		}
	}
	return nil
}

func checkTags(tags []string, field string) error {
	for i, t := range tags {
		if !validName(t) {
			return errInvalid("Invalid value for field '%s.items[%d]': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", field, i, t)
		}
	}
	return nil
}

// itemValue returns the value of key in items.
func itemValue(items []MetadataItem, key string) (string, bool) {
	for _, it := range items {
		if it.Key == key {
			if it.Value == nil {
				return "", true
			}
			return *it.Value, true
		}
	}
	return "", false
}

// sameFingerprint compares fingerprints as bytes: GCE's fingerprints are
// base64 bytes, and gcloud (apitools) sends them back URL-safe encoded.
func sameFingerprint(a, b string) bool {
	norm := func(s string) string {
		s = strings.NewReplacer("-", "+", "_", "/").Replace(s)
		return strings.TrimRight(s, "=")
	}
	return norm(a) == norm(b)
}
