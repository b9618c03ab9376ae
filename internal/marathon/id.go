package marathon

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

// segmentPattern is the rule Marathon applies to every segment of an id.
const segmentPattern = `^(([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])|(\.|\.\.)$`

var segmentRE = regexp.MustCompile(`^(?:(?:[a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*(?:[a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])$`)

// errIDPattern is Marathon's message for a segment that breaks the rule.
const errIDPattern = "must fully match regular expression '" + segmentPattern + "'"

// canonicalID resolves id against base (an absolute group id) as Marathon
// does: relative ids are taken from base, "." and ".." segments are
// resolved, a trailing slash is dropped. It reports false when a segment
// breaks the id rule or ".." climbs above the root.
func canonicalID(id, base string) (string, bool) {
	if id == "" {
		return "", false
	}
	var segs []string
	if !strings.HasPrefix(id, "/") {
		segs = splitID(base)
	}
	for _, s := range strings.Split(id, "/") {
		switch s {
		case "", ".":
			continue
		case "..":
			if len(segs) == 0 {
				return "", false
			}
			segs = segs[:len(segs)-1]
		default:
			if !segmentRE.MatchString(s) {
				return "", false
			}
			segs = append(segs, s)
		}
	}
	return "/" + strings.Join(segs, "/"), true
}

// splitID returns the segments of an absolute id ("/" has none).
func splitID(id string) []string {
	id = strings.Trim(id, "/")
	if id == "" {
		return nil
	}
	return strings.Split(id, "/")
}

// parentID is the group holding id ("/" for a top-level app).
func parentID(id string) string {
	i := strings.LastIndex(id, "/")
	if i <= 0 {
		return "/"
	}
	return id[:i]
}

// kubeName is the Kubernetes name of an app's Deployment and ConfigMap:
// its segments joined with dots, a valid DNS subdomain for any valid id.
func kubeName(id string) string { return strings.Join(splitID(id), ".") }

// appLabel is the value of the pod label that selects an app's pods: a
// hash, because ids may be longer than a label value may be.
func appLabel(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:10])
}

// taskPrefix is the part of a task id before ".instance-": the id's
// segments joined with underscores, as Marathon names them.
func taskPrefix(appID string) string { return strings.Join(splitID(appID), "_") }

// taskID names the task of the pod with this uid.
func taskID(appID, podUID string) string { return taskPrefix(appID) + ".instance-" + podUID }

// parseTaskID splits a task id into the app's task prefix and the pod uid.
func parseTaskID(id string) (prefix, uid string, ok bool) {
	i := strings.LastIndex(id, ".instance-")
	if i <= 0 {
		return "", "", false
	}
	uid = id[i+len(".instance-"):]
	if j := strings.IndexByte(uid, '.'); j >= 0 { // Marathon 1.4+ appends "._app.N"
		uid = uid[:j]
	}
	return id[:i], uid, uid != ""
}

// inGroup reports whether id is group or lies below it.
func inGroup(id, group string) bool {
	if group == "/" {
		return true
	}
	return id == group || strings.HasPrefix(id, group+"/")
}
