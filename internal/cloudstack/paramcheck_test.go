package cloudstack

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

func TestParamValidation(t *testing.T) {
	deploy := map[string]param{}
	for _, c := range commands() {
		if c.Name == "deployVirtualMachine" {
			for _, pr := range c.Params {
				deploy[pr.Name] = pr
			}
		}
	}
	tests := []struct {
		param, value string
		wantText     string // "" = accepted
	}{
		{"rootdisksize", "20", ""},
		{"rootdisksize", "-5", "Root disk size should be a positive number."},
		{"rootdisksize", "0", "Root disk size should be a positive number."},
		{"rootdisksize", "1e3", "Invalid parameter rootdisksize value=1e3 due to incorrect long value format"},
		{"rootdisksize", "9223372036854775808", "Invalid parameter rootdisksize value=9223372036854775808"},
		{"displayname", strings.Repeat("x", 255), ""},
		{"displayname", strings.Repeat("é", 255), ""},
		{"displayname", strings.Repeat("x", 256), "Value greater than max allowed length 255 for param: displayname"},
		{"displayname", strings.Repeat("x", 10000), "Value greater than max allowed length 255 for param: displayname"},
		{"userdata", strings.Repeat("A", 1048576), ""},
		{"zoneid", "not-a-uuid", "Invalid parameter zoneid value=not-a-uuid"},
		{"networkids", "6f1a2b3c-0000-4000-8000-000000000000,nope", "Invalid parameter networkids value=nope"},
	}
	for _, tc := range tests {
		t.Run(tc.param+"="+tc.value[:min(len(tc.value), 12)], func(t *testing.T) {
			pr, ok := deploy[tc.param]
			if !ok {
				t.Fatalf("deployVirtualMachine declares no %s", tc.param)
			}
			err := pr.validate("deployVirtualMachine", tc.value, Params{tc.param: tc.value})
			if tc.wantText == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ce *cloud.Error
			if !errors.As(err, &ce) || ce.Code != 431 || !strings.Contains(ce.Text, tc.wantText) {
				t.Fatalf("got %v, want 431 %q", err, tc.wantText)
			}
		})
	}
	// The Java types' ranges.
	for typ, max := range map[string]string{"integer": "2147483647", "short": "32767", "long": "9223372036854775807"} {
		pr := param{Name: "n", Type: typ}
		if err := pr.validate("x", max, nil); err != nil {
			t.Errorf("%s %s refused: %v", typ, max, err)
		}
		if err := pr.validate("x", max+"0", nil); err == nil {
			t.Errorf("%s %s0 accepted", typ, max)
		}
	}
}

// FuzzParamValidation checks every declared parameter of every command
// with arbitrary values: validation never panics, refuses with 431 only,
// and what it accepts fits the declaration.
func FuzzParamValidation(f *testing.F) {
	for _, s := range []string{"", "-5", "0", "1", "2147483648", "-9223372036854775809", "6f1a2b3c-0000-4000-8000-000000000000",
		"a,b,,c", "é", strings.Repeat("x", 256), "1e3", " 1", "+7", "0x10"} {
		f.Add(s)
	}
	cmds := commands()
	f.Fuzz(func(t *testing.T, v string) {
		for _, c := range cmds {
			for _, pr := range c.Params {
				err := pr.validate(c.Name, v, Params{pr.Name: v})
				if err != nil {
					var ce *cloud.Error
					if !errors.As(err, &ce) || ce.Code != 431 {
						t.Fatalf("%s %s=%q: %v, want a 431", c.Name, pr.Name, v, err)
					}
					continue
				}
				switch pr.Type {
				case "integer", "short", "long":
					n, perr := strconv.ParseInt(v, 10, 64)
					if perr != nil || (pr.MinText != "" && n < pr.Min) {
						t.Fatalf("%s %s=%q accepted", c.Name, pr.Name, v)
					}
				case "uuid":
					if !cloud.IsID(v) {
						t.Fatalf("%s %s=%q accepted as an id", c.Name, pr.Name, v)
					}
				case "string":
					if utf8.RuneCountInString(v) > pr.Length {
						t.Fatalf("%s %s: %d characters accepted, limit %d", c.Name, pr.Name, utf8.RuneCountInString(v), pr.Length)
					}
				}
			}
		}
	})
}
