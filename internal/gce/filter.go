package gce

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// A filter is the `filter=` of a list call. Two syntaxes are accepted:
//
//   - the compute syntax gcloud sends: `name eq ".*\bweb\b.*"`, `status ne DONE`,
//     and terms in parentheses side by side for AND:
//     `(network eq ".*\bdefault\b.*")(direction eq INGRESS)`. The value is an
//     RE2 expression that must match the whole field.
//   - the newer syntax of the client libraries: `name = "web-1"`, `!=`, `<`,
//     `>`, `<=`, `>=`, `:` (has: case-insensitive substring, `*` globs),
//     `~` and `!~` (RE2 search), joined with AND, OR, NOT or `-`, with
//     parentheses.
//
// A field is a dotted path into the resource's JSON ("labels.env",
// "deprecated.state"); through a list it matches when any element does.
type filter interface {
	match(doc map[string]any) bool
}

// Limits that keep a hostile filter cheap.
const (
	maxFilterLen   = 8192
	maxFilterDepth = 32
	maxFilterTerms = 128
)

type andFilter []filter
type orFilter []filter
type notFilter struct{ f filter }

func (a andFilter) match(d map[string]any) bool {
	for _, f := range a {
		if !f.match(d) {
			return false
		}
	}
	return true
}

func (o orFilter) match(d map[string]any) bool {
	for _, f := range o {
		if f.match(d) {
			return true
		}
	}
	return false
}

func (n notFilter) match(d map[string]any) bool { return !n.f.match(d) }

// cmpFilter compares one field.
type cmpFilter struct {
	path  []string
	op    string // eq ne = != < > <= >= : ~ !~
	value string
	re    *regexp.Regexp
	num   float64
	isNum bool
}

func (c *cmpFilter) match(d map[string]any) bool {
	neg := c.op == "ne" || c.op == "!=" || c.op == "!~"
	found := false
	for _, v := range lookup(d, c.path) {
		if c.test(v) {
			found = true
			break
		}
	}
	return found != neg
}

// test applies the positive form of the operator to one value.
func (c *cmpFilter) test(v string) bool {
	switch c.op {
	case "eq", "ne", "~", "!~", ":":
		return c.re.MatchString(v)
	case "=", "!=":
		if c.re != nil {
			return c.re.MatchString(v)
		}
		return v == c.value
	}
	// Ordering: numerically when both sides are numbers, else as strings.
	var cmp int
	if f, err := strconv.ParseFloat(v, 64); err == nil && c.isNum {
		switch {
		case f < c.num:
			cmp = -1
		case f > c.num:
			cmp = 1
		}
	} else {
		cmp = strings.Compare(v, c.value)
	}
	switch c.op {
	case "<":
		return cmp < 0
	case ">":
		return cmp > 0
	case "<=":
		return cmp <= 0
	case ">=":
		return cmp >= 0
	}
	return false
}

// lookup returns the scalar values at path, descending through lists.
func lookup(v any, path []string) []string {
	if len(path) == 0 {
		switch x := v.(type) {
		case string:
			return []string{x}
		case float64:
			return []string{strconv.FormatFloat(x, 'f', -1, 64)}
		case bool:
			return []string{strconv.FormatBool(x)}
		case []any:
			var out []string
			for _, e := range x {
				out = append(out, lookup(e, nil)...)
			}
			return out
		}
		return nil
	}
	switch x := v.(type) {
	case map[string]any:
		child, ok := x[path[0]]
		if !ok {
			return nil
		}
		return lookup(child, path[1:])
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, lookup(e, path)...)
		}
		return out
	}
	return nil
}

// filterError is the API's answer to a filter it cannot read.
func filterError(expr string) error {
	if len(expr) > 200 {
		expr = expr[:200] + "…"
	}
	return errInvalid("Invalid value for field 'filter': '%s'. Invalid list filter expression.", expr)
}

// parseFilter parses a filter; "" is no filter (nil).
func parseFilter(s string) (filter, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	if len(s) > maxFilterLen {
		return nil, filterError(s)
	}
	toks, err := lexFilter(s)
	if err != nil {
		return nil, filterError(s)
	}
	p := &filterParser{toks: toks}
	f, err := p.or(0)
	if err != nil || p.pos != len(p.toks) {
		return nil, filterError(s)
	}
	return f, nil
}

type ftok struct {
	kind byte // '(' ')' 'o' (operator) 'w' (word) 'q' (quoted)
	text string
}

func lexFilter(s string) ([]ftok, error) {
	var toks []ftok
	for i := 0; i < len(s); {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			i++
		case ch == '(' || ch == ')':
			toks = append(toks, ftok{kind: ch})
			i++
		case ch == '"' || ch == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != ch; j++ {
				if s[j] == '\\' && j+1 < len(s) && (s[j+1] == ch || s[j+1] == '\\') && ch == '\'' {
					j++
				}
				if s[j] == '\\' && j+1 < len(s) && s[j+1] == '"' && ch == '"' {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string")
			}
			toks = append(toks, ftok{kind: 'q', text: b.String()})
			i = j + 1
		case strings.ContainsRune("=!<>:~", rune(ch)):
			j := i + 1
			if j < len(s) && (s[j] == '=' || s[j] == '~') && ch != ':' && ch != '~' && ch != '=' {
				j++
			}
			op := s[i:j]
			switch op {
			case "=", "!=", "<", ">", "<=", ">=", ":", "~", "!~":
			default:
				return nil, fmt.Errorf("bad operator %q", op)
			}
			toks = append(toks, ftok{kind: 'o', text: op})
			i = j
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n()\"'=!<>:~", rune(s[j])) {
				j++
			}
			toks = append(toks, ftok{kind: 'w', text: s[i:j]})
			i = j
		}
		if len(toks) > 4*maxFilterTerms {
			return nil, fmt.Errorf("too many terms")
		}
	}
	return toks, nil
}

type filterParser struct {
	toks  []ftok
	pos   int
	terms int
}

func (p *filterParser) peek() *ftok {
	if p.pos < len(p.toks) {
		return &p.toks[p.pos]
	}
	return nil
}

func (p *filterParser) or(depth int) (filter, error) {
	if depth > maxFilterDepth {
		return nil, fmt.Errorf("too deep")
	}
	first, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	fs := orFilter{first}
	for {
		t := p.peek()
		if t == nil || t.kind != 'w' || t.text != "OR" {
			break
		}
		p.pos++
		f, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	if len(fs) == 1 {
		return first, nil
	}
	return fs, nil
}

func (p *filterParser) and(depth int) (filter, error) {
	var fs andFilter
	for {
		t := p.peek()
		if t == nil || t.kind == ')' || (t.kind == 'w' && t.text == "OR") {
			break
		}
		if t.kind == 'w' && t.text == "AND" {
			if len(fs) == 0 {
				return nil, fmt.Errorf("AND without left side")
			}
			p.pos++
			continue
		}
		f, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	switch len(fs) {
	case 0:
		return nil, fmt.Errorf("empty expression")
	case 1:
		return fs[0], nil
	}
	return fs, nil
}

func (p *filterParser) unary(depth int) (filter, error) {
	t := p.peek()
	if t == nil {
		return nil, fmt.Errorf("unexpected end")
	}
	if t.kind == 'w' && (t.text == "NOT" || t.text == "-") {
		p.pos++
		f, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return notFilter{f}, nil
	}
	if t.kind == 'w' && len(t.text) > 1 && t.text[0] == '-' {
		// "-name=x" negates the term.
		t.text = t.text[1:]
		f, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return notFilter{f}, nil
	}
	if t.kind == '(' {
		p.pos++
		f, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if c := p.peek(); c == nil || c.kind != ')' {
			return nil, fmt.Errorf("missing )")
		}
		p.pos++
		return f, nil
	}
	return p.comparison()
}

func (p *filterParser) comparison() (filter, error) {
	if p.terms++; p.terms > maxFilterTerms {
		return nil, fmt.Errorf("too many terms")
	}
	if p.pos+2 >= len(p.toks) {
		return nil, fmt.Errorf("incomplete comparison")
	}
	field, op, val := p.toks[p.pos], p.toks[p.pos+1], p.toks[p.pos+2]
	if field.kind != 'w' || field.text == "" || (val.kind != 'w' && val.kind != 'q') {
		return nil, fmt.Errorf("bad comparison")
	}
	var opText string
	switch {
	case op.kind == 'o':
		opText = op.text
	case op.kind == 'w' && (op.text == "eq" || op.text == "ne"):
		opText = op.text
	default:
		return nil, fmt.Errorf("bad operator")
	}
	p.pos += 3
	c := &cmpFilter{path: strings.Split(field.text, "."), op: opText, value: val.text}
	for _, seg := range c.path {
		if seg == "" {
			return nil, fmt.Errorf("bad field")
		}
	}
	var err error
	switch opText {
	case "eq", "ne":
		c.re, err = regexp.Compile(`^(?:` + val.text + `)$`)
	case "~", "!~":
		c.re, err = regexp.Compile(val.text)
	case ":":
		c.re, err = regexp.Compile(`(?i)` + globToRE(val.text))
	case "=", "!=":
		if strings.Contains(val.text, "*") {
			c.re, err = regexp.Compile(`^` + globToRE(val.text) + `$`)
		}
	default:
		c.num, err = strconv.ParseFloat(val.text, 64)
		c.isNum = err == nil
		err = nil
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// globToRE quotes s for a regular expression, with * as a wildcard.
func globToRE(s string) string {
	parts := strings.Split(s, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return strings.Join(parts, ".*")
}
