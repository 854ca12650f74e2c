// Package schema embeds the JSON Schema of the campaign file (spec section 2),
// so that editors can check and complete campaign YAML files, and compiles it
// for tests that keep the schema and the examples in step.
//
// The schema describes the shape of one campaign document. Rules that need a
// phone-number library, the template engine or several files at once (valid
// numbers, missing template vars, SMS length, ids unique across files) are
// checked by campaign.Load, not here.
package schema

import (
	"bytes"
	_ "embed"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// ID is the $id of the campaign schema.
const ID = "https://smsform.dev/schema/campaign.schema.json"

// JSON is the campaign schema, as published for editors.
//
//go:embed campaign.schema.json
var JSON []byte

// Compile compiles the embedded schema. Format assertions are enabled because
// draft 2020-12 treats "format" (date-time, uri) as an annotation by default,
// and a send_at that is not a date must be rejected.
func Compile() (*jsonschema.Schema, error) { return compile(ID, JSON, "campaign") }

// compile compiles one of the embedded schemas, named what in errors.
func compile(id string, data []byte, what string) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode %s schema: %w", what, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(id, doc); err != nil {
		return nil, fmt.Errorf("add %s schema: %w", what, err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		return nil, fmt.Errorf("compile %s schema: %w", what, err)
	}
	return sch, nil
}
