package campaign

import (
	"fmt"
	"strings"
	"testing"
)

// TestPlainTextAsTemplate renders texts with and without the plain-text path: the texts and
// errors must be the same, and only texts made of literals and {{.var}} take the path.
func TestPlainTextAsTemplate(t *testing.T) {
	csvNames := []string{"name", "code", "city"}
	twice := []string{"name", "name"}
	none := []string(nil)
	recipients := []Recipient{
		{Vars: NewVars(&csvNames, "Ann", "C001", "Zürich")},
		{Vars: NewVars(&csvNames, "", "C002", "")},
		{Vars: NewVars(&csvNames, "Bob")}, // fewer values than names
		{Vars: NewVars(&csvNames, strings.Repeat("é", 1000), "C003", strings.Repeat("x", 1990))},
		{Vars: NewVars(&twice, "first", "second")},
		{Vars: NewVars(&none)},
		{},
	}
	texts := []struct {
		text  string
		plain bool
	}{
		{"Hi {{.name}}, your code is {{.code}}.", true},
		{"{{.name}}{{.name}}{{.city}}", true},
		{"No vars at all", true},
		{"{{- .name -}} , {{ .code }}\n{{/* a comment */}}{{.city}}", true},
		{"Hi {{.missing}}", true},
		{"{{.city}}{{.city}}{{.name}}", true},
		{"{{if .name}}Hi {{.name}}{{else}}Hello{{end}}", false},
		{"{{.name | printf \"%s!\"}}", false},
		{"{{$x := .name}}{{$x}}", false},
		{"{{.name.first}}", false},
		{"{{.}}", false},
		{"{{print .name}}", false},
		{`{{index . "name"}}`, false},
		{"{{\"literal\"}}", false},
	}
	for _, tc := range texts {
		tmpl, problem := parseText(tc.text)
		if problem != "" {
			t.Fatalf("parseText(%q): %s", tc.text, problem)
		}
		c := &Campaign{Text: tc.text, tmpl: tmpl}
		plain := c.NewRenderer()
		if (plain.plain != nil) != tc.plain {
			t.Errorf("%q: plain path %v, want %v", tc.text, plain.plain != nil, tc.plain)
		}
		viaTemplate := c.NewRenderer()
		viaTemplate.plain = nil
		for i, rec := range recipients {
			got, gotErr := plain.Render(rec)
			want, wantErr := viaTemplate.Render(rec)
			if got != want || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Errorf("%q, recipient %d: %q, %v; through the template %q, %v", tc.text, i, got, gotErr, want, wantErr)
			}
		}
	}
}

// BenchmarkRender renders the bench's campaign text, on the plain path and through the
// template.
func BenchmarkRender(b *testing.B) {
	tmpl, _ := parseText("Hi {{.name}}, your code is {{.code}}.")
	c := &Campaign{Text: "x", tmpl: tmpl}
	names := []string{"name", "code"}
	rec := Recipient{Vars: NewVars(&names, "Name123456", "C123456")}
	for _, path := range []string{"plain", "template"} {
		b.Run(path, func(b *testing.B) {
			r := c.NewRenderer()
			if path == "template" {
				r.plain = nil
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Render(rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
