package campaign

import (
	"fmt"
	"strings"
	"testing"
	"text/template/parse"
)

// FuzzRender feeds arbitrary campaign texts and var values to the template checks and the
// renderer: nothing panics, a text that passes has no loop or definition, and rendering
// never returns more than MaxTextBytes. The seeds are in testdata/fuzz/FuzzRender.
func FuzzRender(f *testing.F) {
	for _, s := range [][2]string{
		{"Hi {{.name}}", "Ann"},
		{"{{if .name}}Hi {{.name}}{{else}}Hello{{end}}", ""},
		{`{{printf "%-10s|" .name}}{{len .name}}{{index . "name"}}`, "Ann"},
		{"{{range 100000}}{{range 100000}}{{end}}{{end}}x", ""},
		{`{{define "x"}}a{{end}}{{template "x"}}`, ""},
		{"{{.name}}{{.name}}{{.name}}{{.name}}", strings.Repeat("x", 1500)},
		{`{{printf "%0999999d" 1}}`, ""},
		{"{{.name", ""},
	} {
		f.Add(s[0], s[1])
	}
	names := []string{"name"}
	f.Fuzz(func(t *testing.T, text, value string) {
		tmpl, problem := parseText(text)
		if (tmpl == nil) == (problem == "") {
			t.Fatalf("parseText(%q) = %v, %q: want a template or a problem", text, tmpl, problem)
		}
		if tmpl == nil {
			return
		}
		if len(tmpl.Templates()) > 1 || strings.Contains(tmpl.Tree.Root.String(), "{{range") {
			t.Fatalf("parseText(%q) accepted a definition or a loop", text)
		}
		for _, n := range tmpl.Tree.Root.Nodes {
			if _, ok := n.(*parse.TemplateNode); ok {
				t.Fatalf("parseText(%q) accepted {{template}}", text)
			}
		}
		c := &Campaign{Text: text, tmpl: tmpl}
		rec := Recipient{Vars: NewVars(&names, strings.ReplaceAll(value, "\x00", ""))}
		out, err := c.NewRenderer().Render(rec)
		if err == nil && len(out) > MaxTextBytes {
			t.Fatalf("Render(%q) = %d bytes, over %d", text, len(out), MaxTextBytes)
		}
		viaTemplate := c.NewRenderer()
		viaTemplate.plain = nil
		want, wantErr := viaTemplate.Render(rec)
		if out != want || fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Fatalf("Render(%q) = %q, %v; through the template %q, %v", text, out, err, want, wantErr)
		}
	})
}
