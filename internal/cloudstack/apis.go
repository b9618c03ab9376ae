package cloudstack

import (
	"reflect"
	"strings"
)

// apiView is one entry of listApis, with every field cmk asserts.
type apiView struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	IsAsync     bool           `json:"isasync"`
	Related     string         `json:"related"`
	Since       string         `json:"since,omitempty"`
	Type        string         `json:"type,omitempty"`
	Params      []apiParamView `json:"params"`
	Response    []apiFieldView `json:"response"`
}

type apiParamView struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Type        string `json:"type"`
	Length      int    `json:"length"`
	Required    bool   `json:"required"`
	Related     string `json:"related,omitempty"`
}

type apiFieldView struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Type        string         `json:"type"`
	Response    []apiFieldView `json:"response,omitempty"`
}

// responseFields derives listApis' response metadata from a view type's
// JSON fields, so it always matches what the command answers.
func responseFields(t reflect.Type, depth int) []apiFieldView {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	out := []apiFieldView{}
	if t.Kind() != reflect.Struct || depth > 3 {
		return out
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			out = append(out, responseFields(f.Type, depth)...)
			continue
		}
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		fv := apiFieldView{Name: name, Description: "the " + name, Type: apiType(f.Type)}
		if et := f.Type; et.Kind() == reflect.Slice && et.Elem().Kind() == reflect.Struct {
			fv.Response = responseFields(et.Elem(), depth+1)
		}
		out = append(out, fv)
	}
	return out
}

func apiType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int32:
		return "integer"
	case reflect.Int64:
		return "long"
	case reflect.Float64:
		return "double"
	case reflect.Map:
		return "map"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "string"
		}
		if t.Elem().Kind() == reflect.String {
			return "list"
		}
		return "set"
	}
	return "string"
}

func (c *command) api() apiView {
	v := apiView{Name: c.Name, Description: c.Desc, IsAsync: c.Async, Related: "", Since: "", Params: []apiParamView{}, Response: []apiFieldView{}}
	for _, pr := range c.Params {
		v.Params = append(v.Params, apiParamView{Name: pr.Name, Description: pr.Desc, Type: pr.Type, Length: pr.Length, Required: pr.Required})
	}
	if c.RespOf != nil {
		v.Response = responseFields(reflect.TypeOf(c.RespOf), 0)
	}
	if c.Async {
		v.Response = append(v.Response,
			apiFieldView{Name: "jobid", Description: "the UUID of the latest async job acting on this object", Type: "string"},
			apiFieldView{Name: "jobstatus", Description: "the current status of the latest async job acting on this object", Type: "integer"})
	}
	return v
}

func listApis(rq *request) (any, error) {
	name := rq.str("name")
	var out []apiView
	for _, c := range rq.h.order {
		if !c.allowed(rq.c) || (name != "" && !strings.EqualFold(name, c.Name)) {
			continue
		}
		out = append(out, c.api())
	}
	if name != "" && len(out) == 0 {
		return nil, rq.invalidValue("name", name)
	}
	return List{Key: "api", Count: len(out), Items: out}, nil
}
