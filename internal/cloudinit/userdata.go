// Package cloudinit makes VMs whose user data runs the join command into
// Kubernetes nodes. It follows the VMs through the CloudStack API, as any
// client would, and reads each Running VM's user data as cloud-init does
// (base64, gzip, a `#!` script or `#cloud-config` with runcmd); a VM whose
// user data runs `stratus agent --server URL --token T` against this
// cluster becomes a node of the simulated node pool for as long as it
// runs. It imports neither the simulator nor the API server: the cloud is
// reached over its API and the nodes through the pool's client-go client.
package cloudinit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"io"
	"strings"

	"sigs.k8s.io/yaml"
)

// maxUserData bounds decoded user data (CloudStack allows 1 MiB with POST).
const maxUserData = 1 << 20

// Join is a `stratus agent` line found in user data.
type Join struct {
	Servers []string // --server (repeated or comma-separated)
	Token   string
	Name    string // --name, if given
}

// ParseUserData reads user data as cloud-init would and returns the first
// `stratus agent` line it would run, or ok false when there is none. The
// data may be base64 (CloudStack's userdata parameter), gzip, a shell
// script (`#!`) or `#cloud-config` whose runcmd is a string or a list of
// strings and argument lists.
func ParseUserData(raw []byte) (j Join, ok bool, err error) {
	data := bytes.TrimSpace(raw)
	if dec, derr := base64.StdEncoding.DecodeString(string(data)); derr == nil && len(data) > 0 {
		data = dec
	}
	if len(data) > 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return Join{}, false, err
		}
		data, err = io.ReadAll(io.LimitReader(zr, maxUserData+1))
		if err != nil {
			return Join{}, false, err
		}
		if len(data) > maxUserData {
			return Join{}, false, errors.New("cloudinit: user data larger than 1 MiB")
		}
	}
	switch {
	case bytes.HasPrefix(data, []byte("#!")):
		return scanScript(string(data))
	case bytes.HasPrefix(data, []byte("#cloud-config")):
		return parseCloudConfig(data)
	}
	return Join{}, false, nil
}

// parseCloudConfig reads runcmd: a string is a script; each item of a list
// is a line (a string, run by sh) or an argument list (run as is).
func parseCloudConfig(data []byte) (Join, bool, error) {
	var cc struct {
		RunCmd any `json:"runcmd"`
	}
	if err := yaml.Unmarshal(data, &cc); err != nil {
		return Join{}, false, err
	}
	switch rc := cc.RunCmd.(type) {
	case string:
		return scanScript(rc)
	case []any:
		for _, item := range rc {
			switch it := item.(type) {
			case string:
				if j, ok, err := scanScript(it); ok || err != nil {
					return j, ok, err
				}
			case []any:
				args := make([]string, 0, len(it))
				for _, a := range it {
					s, isStr := a.(string)
					if !isStr {
						b, _ := yaml.Marshal(a)
						s = strings.TrimSpace(string(b))
					}
					args = append(args, s)
				}
				if j, ok := parseArgs(args); ok {
					return j, true, nil
				}
			}
		}
	}
	return Join{}, false, nil
}

// scanScript looks for the join line in a shell script, line by line
// (continuation lines joined, `;`, `&&` and `||` splitting commands).
func scanScript(script string) (Join, bool, error) {
	sc := bufio.NewScanner(strings.NewReader(script))
	sc.Buffer(make([]byte, 0, 64<<10), maxUserData)
	var line strings.Builder
	for sc.Scan() {
		l := sc.Text()
		if strings.HasSuffix(l, `\`) {
			line.WriteString(strings.TrimSuffix(l, `\`))
			line.WriteByte(' ')
			continue
		}
		line.WriteString(l)
		full := line.String()
		line.Reset()
		for _, cmd := range splitCommands(full) {
			args, err := shellWords(cmd)
			if err != nil {
				continue // sh would fail this line too
			}
			if j, ok := parseArgs(args); ok {
				return j, true, nil
			}
		}
	}
	return Join{}, false, sc.Err()
}

// splitCommands splits a line at unquoted ;, &&, || and &, and drops a
// trailing comment.
func splitCommands(line string) []string {
	var out []string
	var cur strings.Builder
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' && i+1 < len(line) {
				cur.WriteByte(c)
				i++
				c = line[i]
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '\\' && i+1 < len(line):
			cur.WriteByte(c)
			i++
			c = line[i]
		case c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			out = append(out, cur.String())
			return out
		case c == ';' || c == '&' || c == '|':
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(c)
	}
	return append(out, cur.String())
}

// shellWords splits one simple command into words as sh would (quotes and
// backslashes; no expansions).
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	in := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case quote == '"':
			switch {
			case c == '"':
				quote = 0
			case c == '\\' && i+1 < len(s) && strings.IndexByte(`"\$`+"`", s[i+1]) >= 0:
				i++
				cur.WriteByte(s[i])
			default:
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			in = true
		case c == ' ' || c == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if quote != 0 {
		return nil, errors.New("cloudinit: unterminated quote")
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

// parseArgs recognises `[sudo|exec|env K=V…] …/stratus agent --server URL
// --token T [--name N] …`.
func parseArgs(args []string) (Join, bool) {
	for len(args) > 0 && (args[0] == "sudo" || args[0] == "exec" || args[0] == "env" || args[0] == "nohup" || strings.Contains(args[0], "=") && !strings.HasPrefix(args[0], "-")) {
		args = args[1:]
	}
	if len(args) < 2 || (args[0] != "stratus" && !strings.HasSuffix(args[0], "/stratus")) || args[1] != "agent" {
		return Join{}, false
	}
	var j Join
	rest := args[2:]
	for i := 0; i < len(rest); i++ {
		name, val, hasVal := strings.Cut(strings.TrimLeft(rest[i], "-"), "=")
		if !strings.HasPrefix(rest[i], "-") {
			continue
		}
		if !hasVal && i+1 < len(rest) && (name == "server" || name == "token" || name == "name") {
			i++
			val = rest[i]
		}
		switch name {
		case "server":
			for _, s := range strings.Split(val, ",") {
				if s = strings.TrimSpace(s); s != "" {
					j.Servers = append(j.Servers, s)
				}
			}
		case "token":
			j.Token = val
		case "name":
			j.Name = val
		}
	}
	return j, true
}
