package schema_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
	"github.com/rogpeppe/go-internal/txtar"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/schema"
)

// settingsCampaign sits next to each settings case of the table, so that the settings
// are loaded as a campaign run would load them: a marketing campaign whose recipient
// carries the vars consent cases name.
const settingsCampaign = `id: settings-case
from: InfoSMS
text: Hi
destinations: [{to: "+41793026731", vars: {consent_at: 2026-01-01, consent_source: web}}]
`

// TestSchemaAgreesWithLoader runs every case of testdata/agreement.txtar through the loader
// and through the JSON Schema, and expects the verdict its directory names, so the schema
// editors use and the rules smsform applies cannot drift apart. Cases under settings-valid/,
// settings-invalid/ and settings-loader-only/ are settings files (smsform.yaml), checked
// against settings.schema.json, next to settingsCampaign.
func TestSchemaAgreesWithLoader(t *testing.T) {
	ar, err := txtar.ParseFile("testdata/agreement.txtar")
	if err != nil {
		t.Fatal(err)
	}
	// Files outside the case directories (recipients.csv, suppressions.csv) sit next to
	// every case.
	var shared []txtar.File
	for _, f := range ar.Files {
		if !strings.Contains(f.Name, "/") {
			shared = append(shared, f)
		}
	}
	sch := compile(t)
	settingsSch, err := schema.CompileSettings()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, f := range ar.Files {
		kind, name, ok := strings.Cut(f.Name, "/")
		if !ok {
			continue
		}
		kinds[kind]++
		settings := strings.HasPrefix(kind, "settings-")
		kind = strings.TrimPrefix(kind, "settings-")
		t.Run(f.Name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string][]byte{"c.yaml": f.Data}
			if settings {
				files = map[string][]byte{"c.yaml": []byte(settingsCampaign), "smsform.yaml": f.Data}
			}
			for _, sf := range shared {
				files[sf.Name] = sf.Data
			}
			for name, data := range files {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, loadErr := campaign.Load(dir)
			doc, err := yamlToJSON(f.Data)
			if settings && err != nil && err.Error() == "empty document" {
				doc, err = nil, nil // an empty settings file is JSON's null
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			schemaErr := sch.Validate(doc)
			if settings {
				schemaErr = settingsSch.Validate(doc)
			}
			wantLoader, wantSchema := true, true
			switch kind {
			case "valid":
			case "invalid":
				wantLoader, wantSchema = false, false
			case "loader-only":
				wantLoader = false
			default:
				t.Fatalf("unknown kind %q: use valid/, invalid/ or loader-only/", kind)
			}
			if (loadErr == nil) != wantLoader {
				t.Errorf("loader: accepts = %v, want %v (error: %v)", loadErr == nil, wantLoader, loadErr)
			}
			if (schemaErr == nil) != wantSchema {
				t.Errorf("schema: accepts = %v, want %v (error: %v)", schemaErr == nil, wantSchema, schemaErr)
			}
		})
	}
	if kinds["valid"] < 20 || kinds["invalid"] < 40 || kinds["loader-only"] < 5 ||
		kinds["settings-valid"] < 10 || kinds["settings-invalid"] < 20 || kinds["settings-loader-only"] < 3 {
		t.Errorf("the table has %v cases; it should cover every field both ways", kinds)
	}
}

// yamlToJSON converts one YAML document to the JSON data model the way an editor's YAML
// language server does: a timestamp stays the text written, numbers stay numbers.
func yamlToJSON(data []byte) (any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("empty document")
	}
	return nodeToJSON(doc.Content[0])
}

func nodeToJSON(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.AliasNode:
		return nodeToJSON(n.Alias)
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := nodeToJSON(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := []any{}
		for _, c := range n.Content {
			v, err := nodeToJSON(c)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	}
	switch n.Tag {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		err := n.Decode(&b)
		return b, err
	case "!!int", "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, err
		}
		return json.Number(strconv.FormatFloat(f, 'f', -1, 64)), nil
	}
	return n.Value, nil
}

// TestRegionsFromLibrary: the schema's default_region list is the phone-number library's,
// which is what the loader checks against.
func TestRegionsFromLibrary(t *testing.T) {
	var s struct {
		Properties struct {
			DefaultRegion struct {
				Enum []any `json:"enum"`
			} `json:"default_region"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(schema.JSON, &s); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range s.Properties.DefaultRegion.Enum {
		if r != nil {
			got = append(got, r.(string))
		}
	}
	var want []string
	for r := range phonenumbers.GetSupportedRegions() {
		want = append(want, r)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("default_region enum differs from phonenumbers.GetSupportedRegions():\ngot  %q\nwant %q", got, want)
	}
}

var _ = jsonschema.Draft2020
