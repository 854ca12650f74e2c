package schema_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/smsform/smsform/schema"
)

// examplesDir holds the campaigns shipped with smsform; every one must match
// the schema that editors use to check them.
const examplesDir = "../examples"

// decodeAll returns every non-empty YAML document in data, as values the
// validator understands (JSON numbers, map[string]any).
func decodeAll(t *testing.T, data []byte) []any {
	t.Helper()
	var docs []any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("decode YAML document %d: %v", len(docs)+1, err)
		}
		if doc == nil {
			continue // an empty document, e.g. a trailing "---"
		}
		docs = append(docs, toJSON(t, doc))
	}
}

// toJSON converts a decoded YAML value to the JSON data model: yaml.v3 gives
// Go ints, the validator wants json.Number or float64.
func toJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("convert YAML to JSON: %v", err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("read back JSON: %v", err)
	}
	return out
}

func compile(t *testing.T) *jsonschema.Schema {
	t.Helper()
	sch, err := schema.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func TestExamples(t *testing.T) {
	sch := compile(t)
	settingsSch, err := schema.CompileSettings()
	if err != nil {
		t.Fatal(err)
	}
	var files, settings int
	err = filepath.WalkDir(examplesDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == filepath.Join(examplesDir, "ci") {
				return filepath.SkipDir // CI workflow files, not campaigns
			}
			return nil
		}
		if ext := filepath.Ext(path); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		files++
		// A settings file is checked against its own schema (and is no campaign).
		against, schemaFile := sch, "campaign.schema.json"
		if filepath.Base(path) == "smsform.yaml" {
			against, schemaFile = settingsSch, "settings.schema.json"
			settings++
		}
		name, _ := filepath.Rel(examplesDir, path)
		t.Run(filepath.ToSlash(name), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if first, _, _ := bytes.Cut(data, []byte("\n")); !bytes.HasPrefix(first, []byte("# yaml-language-server: $schema=")) || !bytes.HasSuffix(first, []byte("/"+schemaFile)) {
				t.Errorf("first line should point editors at the schema: # yaml-language-server: $schema=.../%s", schemaFile)
			}
			docs := decodeAll(t, data)
			if len(docs) == 0 {
				t.Fatal("no campaign in file")
			}
			for i, doc := range docs {
				if err := against.Validate(doc); err != nil {
					t.Errorf("document %d: %v", i+1, err)
				}
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 || settings == 0 {
		t.Fatalf("%d campaign and %d settings examples found under %s, want some of each", files-settings, settings, examplesDir)
	}
}

// valid is a minimal correct campaign; each invalid case changes one thing.
const valid = `
id: otp-welcome
from: InfoSMS
text: "Hi {{.name}}"
destinations:
  - to: "+41 79 302 67 31"
    vars: {name: Ann}
`

// full uses every field of spec section 2 at once, so that a schema too strict
// for a legal campaign fails here and not in a user's editor.
const full = `
id: otp-welcome
from: "41793026700"
text: "Hi {{.name}}, your PIN is {{.pin}}."
tracking: {track: SMS, type: One_Time_Pin}
default_region: CH
destinations:
  - to: "+41 79 302 67 31"
    vars: {name: Ann, pin: 1a2B3c, vip: true, visits: 3, score: 4.5}
  - to: 41793026732
destinations_file: recipients.csv
round: 2
send_at: 2026-12-01T09:00:00Z
validity_period: 1h30m
delivery_window: {days: [MONDAY, TUESDAY], from: "09:00", to: "17:00"}
speed_limit: {amount: 100, time_unit: MINUTE}
notify_url: https://example.com/dlr
callback_data: "campaign=otp-welcome"
labels: {team: growth}
---
id: file-only
from: InfoSMS
text: Hello
destinations_file: recipients.csv
`

func TestValid(t *testing.T) {
	sch := compile(t)
	docs := decodeAll(t, []byte(full))
	if len(docs) != 2 {
		t.Fatalf("got %d documents, want 2", len(docs))
	}
	for i, doc := range docs {
		if err := sch.Validate(doc); err != nil {
			t.Errorf("document %d: %v", i+1, err)
		}
	}
}

func TestInvalid(t *testing.T) {
	sch := compile(t)
	tests := []struct {
		name string
		doc  string
		want string // substring of the validation error: where or what failed
	}{
		{"unknown key", valid + "colour: red\n", "'colour'"},
		{"bad id", strings.Replace(valid, "otp-welcome", "OTP Welcome", 1), "'/id'"},
		{"id too long", strings.Replace(valid, "otp-welcome", strings.Repeat("a", 65), 1), "'/id'"},
		{"missing from", strings.Replace(valid, "from: InfoSMS\n", "", 1), "'from'"},
		{"from too long", strings.Replace(valid, "InfoSMS", "InfoSMSLonger", 1), "'/from'"},
		{"empty text", strings.Replace(valid, `"Hi {{.name}}"`, `""`, 1), "'/text'"},
		{"no destinations", valid[:strings.Index(valid, "destinations:")], "destinations"},
		{"unknown destination key", strings.Replace(valid, "vars:", "var:", 1), "'/destinations/0'"},
		{"tracking EMAIL", valid + "tracking: {track: EMAIL}\n", "'/tracking/track'"},
		{"tracking without track", valid + "tracking: {type: Purchase}\n", "'/tracking'"},
		{"lowercase region", valid + "default_region: ch\n", "'/default_region'"},
		{"round 0", valid + "round: 0\n", "'/round'"},
		{"round not integer", valid + "round: 1.5\n", "'/round'"},
		{"send_at not a date", valid + "send_at: tomorrow\n", "'/send_at'"},
		{"validity_period not a duration", valid + "validity_period: 2 hours\n", "'/validity_period'"},
		{"bad delivery_window time", valid + "delivery_window: {days: [MONDAY], from: \"24:00\", to: \"17:00\"}\n", "'/delivery_window/from'"},
		{"delivery_window bad day", valid + "delivery_window: {days: [Monday], from: \"09:00\", to: \"17:00\"}\n", "'/delivery_window/days/0'"},
		{"speed_limit bad unit", valid + "speed_limit: {amount: 10, time_unit: SECOND}\n", "'/speed_limit/time_unit'"},
		{"notify_url http", valid + "notify_url: http://example.com/dlr\n", "'/notify_url'"},
		{"callback_data too long", valid + "callback_data: " + strings.Repeat("x", 4001) + "\n", "'/callback_data'"},
		{"label not a string", valid + "labels: {team: {name: growth}}\n", "'/labels/team'"},
	}

	for _, doc := range decodeAll(t, []byte(valid)) {
		if err := sch.Validate(doc); err != nil {
			t.Fatalf("base document must be valid: %v", err)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs := decodeAll(t, []byte(tt.doc))
			if len(docs) != 1 {
				t.Fatalf("got %d documents, want 1", len(docs))
			}
			err := sch.Validate(docs[0])
			if err == nil {
				t.Fatalf("valid, want an error mentioning %s", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error does not mention %s:\n%v", tt.want, err)

			}
		})
	}
}
