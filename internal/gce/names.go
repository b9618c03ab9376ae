package gce

import (
	"regexp"
	"strings"
	"time"
)

// nameRE is GCE's resource name rule (RFC 1035 label).
var nameRE = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)

func validName(s string) bool { return nameRE.MatchString(s) }

// gceName turns a CloudStack name ("Sandbox-simulator", "Small HA") into
// a GCE resource name ("sandbox-simulator", "small-ha"): lower case,
// runs of other characters become one '-', at most 63 characters, and a
// leading letter.
func gceName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
	}
	out := b.String()
	if out == "" || out[0] < 'a' || out[0] > 'z' {
		out = "x-" + out
	}
	if len(out) > 63 {
		out = strings.TrimRight(out[:63], "-")
	}
	return strings.TrimRight(out, "-")
}

// zoneName is the GCE name of a CloudStack zone. Each CloudStack zone is a
// GCE region holding one zone, "<region>-a" ("Sandbox-simulator-basic" →
// region sandbox-simulator-basic, zone sandbox-simulator-basic-a), so the
// region gcloud derives from a zone name (regionOf) is that region.
func zoneName(csZone string) string {
	region := gceName(csZone)
	if len(region) > 61 {
		region = strings.TrimRight(region[:61], "-")
	}
	return region + "-a"
}

// regionOf derives a zone's region the way gcloud does: everything before
// the last '-' ("us-central1-a" → "us-central1").
func regionOf(zone string) string {
	if i := strings.LastIndexByte(zone, '-'); i > 0 {
		return zone[:i]
	}
	return zone
}

// idOf derives a stable GCE numeric id from a CloudStack UUID (FNV-1a 64,
// kept below 2^63 as GCE ids are).
func idOf(kind, uuid string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := 0; i < len(kind); i++ {
		h ^= uint64(kind[i])
		h *= prime
	}
	h ^= ':'
	h *= prime
	for i := 0; i < len(uuid); i++ {
		h ^= uint64(uuid[i])
		h *= prime
	}
	return h & (1<<63 - 1)
}

// gceTimeLayout is GCE's timestamp: RFC 3339 with milliseconds and offset.
const gceTimeLayout = "2006-01-02T15:04:05.000-07:00"

func gceTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(gceTimeLayout)
}

// csTime converts a CloudStack date ("2021-10-04T09:24:38+0000") to GCE's
// form; unparseable dates become "".
func csTime(s string) string {
	if s == "" {
		return ""
	}
	for _, layout := range []string{"2006-01-02T15:04:05-0700", time.RFC3339Nano, "2006-01-02T15:04:05Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return gceTime(t)
		}
	}
	return ""
}

// relPath strips a resource URL to the part from "projects/" on, or
// returns a partial path ("zones/z/machineTypes/m") as it is. Full URLs
// come from gcloud (on the override host) and from libraries
// (https://www.googleapis.com/compute/v1/…).
func relPath(u string) string {
	if i := strings.Index(u, "projects/"); i >= 0 && (i == 0 || u[i-1] == '/') {
		return u[i:]
	}
	return strings.TrimPrefix(u, "/")
}

// lastSegment returns what follows the last '/'.
func lastSegment(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// afterSegment returns the path segment after the segment key in p
// ("zones/a/machineTypes/m", "zones" → "a"), or "".
func afterSegment(p, key string) string {
	parts := strings.Split(p, "/")
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == key {
			return parts[i+1]
		}
	}
	return ""
}
