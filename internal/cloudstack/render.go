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
	"sync"
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

// bufPool recycles answer buffers: a page of 500 VMs is about a megabyte.
type bufPool struct{ p sync.Pool }

func (b *bufPool) get() *bytes.Buffer {
	if x, ok := b.p.Get().(*bytes.Buffer); ok {
		return x
	}
	return new(bytes.Buffer)
}

func (b *bufPool) put(x *bytes.Buffer) {
	if x.Cap() > 16<<20 {
		return
	}
	x.Reset()
	b.p.Put(x)
}

// writeAnswer writes {"<name>": body} as JSON or XML with the status.
func writeAnswer(w http.ResponseWriter, jsonFormat bool, name string, status int, body any) {
	var pool bufPool
	pool.writeAnswer(w, jsonFormat, name, status, body)
}

func (pool *bufPool) writeAnswer(w http.ResponseWriter, jsonFormat bool, name string, status int, body any) {
	doc := pool.get()
	defer pool.put(doc)
	doc.WriteString(`{"`)
	doc.WriteString(name)
	doc.WriteString(`":`)
	if err := encodeBody(doc, body); err != nil {
		doc.Reset()
		doc.WriteString(`{"` + name + `":{"uuidList":[],"errorcode":530,"cserrorcode":4250,"errortext":"failed to encode the response"}}`)
		status = 530
	} else {
		doc.WriteByte('}')
	}
	out := doc
	if jsonFormat {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	} else {
		w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
		x := pool.get()
		defer pool.put(x)
		x.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
		// the envelope's one member is the root element
		inner := doc.Bytes()[len(name)+4 : doc.Len()-1]
		if err := jsonToXML(x, name, inner); err != nil {
			x.Reset()
			x.WriteString(`<?xml version="1.0" encoding="UTF-8"?><errorresponse cloud-stack-version="` + version +
				`"><errorcode>530</errorcode><errortext>failed to encode the response</errortext></errorresponse>`)
			status = 530
		}
		out = x
	}
	w.Header().Set("Content-Length", strconv.Itoa(out.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(out.Bytes())
}

// encodeBody writes an answer body. Lists and objects are streamed into
// the buffer (json.Marshal of a Marshaler would re-scan its output).
func encodeBody(buf *bytes.Buffer, body any) error {
	enc := json.NewEncoder(buf)
	encode := func(v any) error {
		if err := enc.Encode(v); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
		return nil
	}
	switch b := body.(type) {
	case List:
		if b.Count == 0 {
			buf.WriteString("{}")
			return nil
		}
		buf.WriteString(`{"count":`)
		buf.WriteString(strconv.Itoa(b.Count))
		buf.WriteString(`,"`)
		buf.WriteString(b.Key)
		buf.WriteString(`":`)
		if err := encode(b.Items); err != nil {
			return err
		}
		buf.WriteByte('}')
		return nil
	case Object:
		buf.WriteString(`{"`)
		buf.WriteString(b.Key)
		buf.WriteString(`":`)
		if err := encode(b.Obj); err != nil {
			return err
		}
		buf.WriteByte('}')
		return nil
	}
	return encode(body)
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
