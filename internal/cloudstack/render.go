package cloudstack

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// version is the CloudStack version the API claims to be.
const version = "4.22.0.0"

// List is a list answer: {"count":N,"<Key>":[…]}, or {} when empty.
type List struct {
	Key   string
	Count int
	Items any
}

// MarshalJSON writes the list body.
func (l List) MarshalJSON() ([]byte, error) {
	if l.Count == 0 {
		return []byte("{}"), nil
	}
	items, err := json.Marshal(l.Items)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(`{"count":`)
	b.WriteString(strconv.Itoa(l.Count))
	b.WriteString(`,"`)
	b.WriteString(l.Key)
	b.WriteString(`":`)
	b.Write(items)
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Object is a single-object answer: {"<Key>":{…}}.
type Object struct {
	Key string
	Obj any
}

// MarshalJSON writes the object body.
func (o Object) MarshalJSON() ([]byte, error) {
	v, err := json.Marshal(o.Obj)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(`{"`)
	b.WriteString(o.Key)
	b.WriteString(`":`)
	b.Write(v)
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Success is SuccessResponse.
type Success struct {
	Success     bool   `json:"success"`
	DisplayText string `json:"displaytext,omitempty"`
}

// AsyncAnswer is the answer of an async command: the job id, and the new
// object's id for create commands.
type AsyncAnswer struct {
	ID    string `json:"id,omitempty"`
	JobID string `json:"jobid"`
}

// errorBody is CloudStack's ExceptionResponse.
type errorBody struct {
	UUIDList    []string `json:"uuidList"`
	ErrorCode   int      `json:"errorcode"`
	CSErrorCode int      `json:"cserrorcode,omitempty"`
	ErrorText   string   `json:"errortext"`
}

// writeAnswer writes {"<name>": body} as JSON or XML with the status.
func writeAnswer(w http.ResponseWriter, jsonFormat bool, name string, status int, body any) {
	inner, err := json.Marshal(body)
	if err != nil {
		inner, _ = json.Marshal(errorBody{UUIDList: []string{}, ErrorCode: 530, CSErrorCode: 4250, ErrorText: "failed to encode the response"})
		status = 530
	}
	var out bytes.Buffer
	if jsonFormat {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		out.Grow(len(inner) + len(name) + 8)
		out.WriteString(`{"`)
		out.WriteString(name)
		out.WriteString(`":`)
		out.Write(inner)
		out.WriteByte('}')
	} else {
		w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
		out.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
		if err := jsonToXML(&out, name, inner); err != nil {
			out.Reset()
			out.WriteString(`<?xml version="1.0" encoding="UTF-8"?><errorresponse cloud-stack-version="` + version +
				`"><errorcode>530</errorcode><errortext>failed to encode the response</errortext></errorresponse>`)
			status = 530
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(out.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(out.Bytes())
}

// jsonToXML writes the JSON document as CloudStack's XML: the root element
// named name (with the version attribute), objects as child elements, an
// array as repeated elements named by its key.
func jsonToXML(out *bytes.Buffer, name string, doc []byte) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	out.WriteString("<" + name + ` cloud-stack-version="` + version + `">`)
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("response is not an object")
	}
	if err := xmlObject(out, dec); err != nil {
		return err
	}
	out.WriteString("</" + name + ">")
	return nil
}

// xmlObject writes the members of an object whose '{' was read.
func xmlObject(out *bytes.Buffer, dec *json.Decoder) error {
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			return nil
		}
		key, ok := tok.(string)
		if !ok {
			return errors.New("bad object key")
		}
		if err := xmlValue(out, dec, key); err != nil {
			return err
		}
	}
}

func xmlValue(out *bytes.Buffer, dec *json.Decoder, key string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			out.WriteString("<" + key + ">")
			if err := xmlObject(out, dec); err != nil {
				return err
			}
			out.WriteString("</" + key + ">")
		case '[':
			for dec.More() {
				if err := xmlValue(out, dec, key); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
		}
	case nil:
	default:
		out.WriteString("<" + key + ">")
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case bool:
			s = strconv.FormatBool(x)
		case json.Number:
			s = x.String()
		}
		_ = xml.EscapeText(writerOf(out), []byte(s))
		out.WriteString("</" + key + ">")
	}
	return nil
}

func writerOf(b *bytes.Buffer) io.Writer { return b }

// responseName is the envelope key of a command: lower(command)+"response".
func responseName(cmd string) string { return strings.ToLower(cmd) + "response" }
