package schema

import (
	_ "embed"

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
	return compile(SettingsID, SettingsJSON, "settings")
}
