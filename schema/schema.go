// Package schema embeds the JSON Schema of the campaign file (spec section 2),
// so that editors can check and complete campaign YAML files, and compiles it
// for tests that keep the schema and the examples in step.
//
// It also holds the schemas of what smsform prints with -json (plan.schema.json and
// one per command): the contract a pipeline or a policy reads. Tests compile them
// with Output and check real output against them.
//
// The schema describes the shape of one campaign document. Rules that need a
// phone-number library, the template engine or several files at once (valid
// numbers, missing template vars, SMS length, ids unique across files) are
// checked by campaign.Load, not here.
package schema

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"strings"

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

// outputs are the schemas of the -json outputs.
//
//go:embed apply.schema.json convert.schema.json plan.schema.json refresh.schema.json report.schema.json report-variant.schema.json
//go:embed state-list.schema.json state-opt-outs.schema.json test-send.schema.json validate.schema.json
var outputs embed.FS

// Outputs names the schemas of the -json outputs: plan, apply, refresh, convert, report,
// report-variant (report -by variant), validate, test-send, state-list (state list and state show) and state-opt-outs. (The
// campaign's schema, and any other of what smsform reads, is not one.)
func Outputs() []string {
	names, _ := fs.Glob(outputs, "*.schema.json")
	for i, n := range names {
		names[i] = strings.TrimSuffix(n, ".schema.json")
	}
	return names
}

// Output compiles the schema of a -json output, by name ("plan" for plan.schema.json),
// with format assertions (date-time, date) on.
func Output(name string) (*jsonschema.Schema, error) {
	file := name + ".schema.json"
	data, err := outputs.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("no schema %s: %w", file, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", file, err)
	}
	id := "https://smsform.dev/schema/" + file
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(id, doc); err != nil {
		return nil, fmt.Errorf("add %s: %w", file, err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", file, err)
	}
	return sch, nil
}
