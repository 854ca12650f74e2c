package schema_test

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/smsform/smsform/schema"
)

// TestOutputsCompile: every -json output has a schema, each compiles as JSON Schema
// 2020-12 and names itself by its file. internal/cli's TestJSONOutputsMatchSchemas checks
// real output against them.
func TestOutputsCompile(t *testing.T) {
	want := []string{"apply", "convert", "plan", "refresh", "report-variant", "report", "state-list", "state-opt-outs", "test-send", "validate"}
	if got := schema.Outputs(); !slices.Equal(got, want) {
		t.Fatalf("Outputs() = %v, want %v", got, want)
	}
	for _, name := range want {
		if _, err := schema.Output(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		data, err := os.ReadFile(name + ".schema.json")
		if err != nil {
			t.Fatal(err)
		}
		var head struct {
			Schema string `json:"$schema"`
			ID     string `json:"$id"`
		}
		if err := json.Unmarshal(data, &head); err != nil {
			t.Fatal(err)
		}
		if head.Schema != "https://json-schema.org/draft/2020-12/schema" || head.ID != "https://smsform.dev/schema/"+name+".schema.json" {
			t.Errorf("%s: $schema %q, $id %q", name, head.Schema, head.ID)
		}
	}
	if _, err := schema.Output("nope"); err == nil {
		t.Error("a schema that does not exist compiles")
	}
}
