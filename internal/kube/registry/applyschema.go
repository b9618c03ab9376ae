package registry

import (
	"bytes"
	_ "embed"
	"encoding/gob"
	"fmt"

	"sigs.k8s.io/structured-merge-diff/v6/schema"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
)

// applySchemaJSON is the structured-merge-diff schema of the types this
// server stores: client-go's schema of every built-in type, cut down to what
// the scheme's kinds reach and stored with encoding/gob (which, unlike JSON,
// keeps the schema's embedded structs apart). client-go ships it as YAML
// that took over 100 ms of CPU to parse at every start (more than the rest
// of start-up together); this decodes in a few milliseconds.
// TestApplySchemaMatchesClientGo checks it against client-go's and rewrites
// it with STRATUS_UPDATE_APPLY_SCHEMA=1.
//
//go:embed applyschema.gob
var applySchemaGob []byte

// applyParser decodes the embedded schema.
func applyParser() (*typed.Parser, error) {
	p := &typed.Parser{}
	if err := gob.NewDecoder(bytes.NewReader(applySchemaGob)).Decode(&p.Schema); err != nil {
		return nil, fmt.Errorf("registry: embedded apply schema: %w", err)
	}
	return p, nil
}

// encodeApplySchema is the encoding applyParser reads. Field defaults are
// scalars or (empty) maps, which gob must know as interface values.
func encodeApplySchema(s *schema.Schema) ([]byte, error) {
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(s)
	return b.Bytes(), err
}

func init() { gob.Register(map[string]any{}) }
