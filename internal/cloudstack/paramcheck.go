package cloudstack

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// validate checks one given, non-empty parameter value against its
// declaration the way CloudStack's ParamProcessWorker does before a
// command runs: numbers must parse into their Java type (int for integer,
// short, long), ids must be UUIDs, strings must fit the declared length;
// then the declared bound. Every refusal is 431 with CloudStack's text.
func (pr param) validate(cmd, v string, p Params) error {
	switch pr.Type {
	case "integer", "short", "long":
		bits := map[string]int{"integer": 32, "short": 16, "long": 64}[pr.Type]
		n, err := strconv.ParseInt(v, 10, bits)
		if err != nil {
			return invalidValue(cmd, pr.Name, v)
		}
		if pr.MinText != "" && n < pr.Min {
			return cloud.Invalid("%s", pr.MinText)
		}
	case "uuid":
		if !cloud.IsID(v) && !(pr.AllZones && v == "-1") {
			return invalidValue(cmd, pr.Name, v)
		}
	case "list":
		if pr.Entity != "" {
			for _, id := range p.List(pr.Name) {
				if !cloud.IsID(id) {
					return invalidValue(cmd, pr.Name, id)
				}
			}
		}
	case "string":
		// Java counts UTF-16 units; for the BMP that is one per rune.
		if pr.Length > 0 && utf8.RuneCountInString(v) > pr.Length {
			return cloud.Invalid("Value greater than max allowed length %d for param: %s", pr.Length, pr.Name)
		}
	}
	return nil
}

// invalidValue is ParamProcessWorker's text for a bad or unknown value.
func invalidValue(cmd, name, value string) error {
	return cloud.Invalid("Unable to execute API command %s due to invalid value. Invalid parameter %s value=%s due to incorrect long value format, or entity does not exist or due to incorrect parameter annotation for the field in api cmd class.",
		strings.ToLower(cmd), name, value)
}
