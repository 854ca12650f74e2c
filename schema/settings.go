package schema

import (
	"bytes"
	_ "embed"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// SettingsID is the $id of the settings schema.
const SettingsID = "https://smsform.dev/schema/settings.schema.json"

// SettingsJSON is the JSON Schema of the settings file smsform.yaml (spec §12), as
// published for editors. Rules that need the campaigns or their recipients (consent
// times, the window's range) are checked by campaign.Load, not here.
//
//go:embed settings.schema.json
var SettingsJSON []byte

// CompileSettings compiles the embedded settings schema, format assertions enabled as in
// Compile.
func CompileSettings() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(SettingsJSON))
	if err != nil {
		return nil, fmt.Errorf("decode settings schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(SettingsID, doc); err != nil {
		return nil, fmt.Errorf("add settings schema: %w", err)
	}
	sch, err := c.Compile(SettingsID)
	if err != nil {
		return nil, fmt.Errorf("compile settings schema: %w", err)
	}
	return sch, nil
}
