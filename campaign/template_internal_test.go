package campaign

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestPrintfAsFmt: printf, which formats each argument through a printfArg to bound what
// it writes, writes what fmt.Sprintf writes, flags, indexes and mistakes included.
func TestPrintfAsFmt(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"name": "Ann", "code": "1a2B"}
	for _, tc := range []struct {
		format string
		args   []any
	}{
		{"%-10s|", []any{"Ann"}},
		{"%5.2f %e %g", []any{3.14159, 1e21, 2.5}},
		{"%x % X %q %+q %#q", []any{"Zürich", "ab", "a\"b\n", "é", "`x`"}},
		{"%v %#v %s", []any{vars, "x", 7}},
		{"%d %s", []any{"Ann", 7}}, // wrong verbs
		{"%[2]s %[1]s %[2]s", []any{"a", "b"}},
		{"%3[1]d|%-4[1]d|%04[1]d", []any{7}},
		{"%08.3f|%+d|% d|%c|%U|%#U|%o|%#x|%b", []any{3.5, 5, 5, 'x', 0x263a, 'é', 8, 255, 5}},
		{"%s %s", []any{"only one"}}, // %!s(MISSING)
		{"%[3]d", []any{1, 2}},       // %!d(BADINDEX)
		{"%z %y", []any{"a", "b"}},   // %!z(string=a) %!y(string=b)
		{"100%% sure%", nil},         // %!(NOVERB)
		{"%.2s|%.0d|%5.1s|", []any{"Ann", 0, "xyz"}},
		{"%t %v %v", []any{true, nil, 2 + 3i}},
		{"%5t|%-7v|", []any{false, true}},
	} {
		want := fmt.Sprintf(tc.format, tc.args...)
		got, err := (*budget)(nil).printf(tc.format, tc.args...)
		if err != nil || got != want {
			t.Errorf("printf(%q, %v) = %q, %v; fmt.Sprintf writes %q", tc.format, tc.args, got, err, want)
		}
	}
}

// TestPrintfBounds: no way of writing a verb makes printf build more than maxFuncOutput
// bytes, and what fmt would print from Go rather than the values is refused.
func TestPrintfBounds(t *testing.T) {
	t.Parallel()
	v500 := strings.Repeat("v", 500)
	vars := map[string]string{"big": strings.Repeat("b", 3000), "x": "y"}
	for _, tc := range []struct {
		format string
		args   []any
		want   string // the error
	}{
		{"%0999999d", []any{1}, errFuncTooLong.Error()},
		{"%016001d", []any{1}, errFuncTooLong.Error()},
		{"%.999999f", []any{1.0}, errFuncTooLong.Error()},
		{"%[1]*[2]d", []any{1000000, 5}, errStarWidth.Error()},
		{"%*d", []any{1000000, 5}, errStarWidth.Error()},
		{"%.*f", []any{1000000, 1.0}, errStarWidth.Error()},
		{"%[1]s%[1]s%[1]s%[1]s", []any{v500 + v500 + v500 + v500}, errFuncTooLong.Error()},
		{strings.Repeat("%[1]s", 2000), []any{v500}, errFuncTooLong.Error()},
		{"%v%v", []any{vars, vars}, errFuncTooLong.Error()},
		{"%q", []any{strings.Repeat("\x01", 1700)}, errFuncTooLong.Error()},
		{strings.Repeat("%d", 1000), nil, errFuncTooLong.Error()}, // 1,000 times %!d(MISSING)
		{"%T", []any{"x"}, errGoVerb.Error()},
		{"%[1]p", []any{vars}, errGoVerb.Error()},
		{"%w", []any{"x"}, errGoVerb.Error()},
		{"%[1] ", []any{"x"}, errNotVerb.Error()},
		{"%!", []any{"x"}, errNotVerb.Error()},
		{"%é", []any{"x"}, errNotVerb.Error()},
		{"%s", []any{"a", "b"}, "printf: 2 arguments for 1 verbs; remove the arguments no verb prints"},
		{"100%%", []any{"a"}, "printf: 1 arguments for 0 verbs"},
	} {
		got, err := (*budget)(nil).printf(tc.format, tc.args...)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("printf(%.40q, ...) = %d bytes, %v; want the error %q", tc.format, len(got), err, tc.want)
		}
	}
	// Under the bound, widths and indexes work.
	if got, err := (*budget)(nil).printf("%15000d", 1); err != nil || len(got) != 15000 {
		t.Errorf("printf(%%15000d) = %d bytes, %v", len(got), err)
	}
	if got, err := (*budget)(nil).printf("%[1]s-%[1]s", "ab"); err != nil || got != "ab-ab" {
		t.Errorf("printf(%%[1]s-%%[1]s) = %q, %v", got, err)
	}
}

// TestRenderBudget: one rendering calls the formatting functions at most maxCalls times and
// they write at most maxFuncOutput bytes in all; a renderer's next rendering starts afresh,
// and calls in branches not taken cost nothing.
func TestRenderBudget(t *testing.T) {
	t.Parallel()
	names := []string{"name"}
	rec := Recipient{Vars: NewVars(&names, "Ann")}
	for _, tc := range []struct {
		name, text string
		want       error // nil: renders
	}{
		{"100 calls", strings.Repeat(`{{print ""}}`, 100) + "Hi", nil},
		{"101 calls", strings.Repeat(`{{print ""}}`, 101) + "Hi", errTooManyCalls},
		{"calls of every function", strings.Repeat(`{{printf ""}}{{println}}{{html ""}}{{js ""}}{{urlquery ""}}`, 21), errTooManyCalls},
		{"calls not taken", `{{if false}}` + strings.Repeat(`{{print .name}}`, 500) + `{{end}}Hi`, nil},
		{"15,000 bytes built", `{{len (printf "%15000d" 1)}}`, nil},
		{"30,000 bytes built", `{{len (printf "%15000d" 1)}}{{len (printf "%15000d" 1)}}`, errTooMuchWork},
		{"the vars map, printed", `{{len (print . . . .)}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, problem := parseText(tc.text)
			if problem != "" {
				t.Fatal(problem)
			}
			r := (&Campaign{Text: tc.text, tmpl: tmpl}).NewRenderer()
			for range 2 { // the budget is per rendering
				_, err := r.Render(rec)
				if !errors.Is(err, tc.want) && (tc.want == nil || err == nil || !strings.Contains(err.Error(), tc.want.Error())) {
					t.Fatalf("Render: %v, want %v", err, tc.want)
				}
			}
		})
	}
}

// TestTemplateBounds: a template over maxTemplateBytes, or calling the built-in functions
// more than maxCalls times, is refused before it is rendered.
func TestTemplateBounds(t *testing.T) {
	t.Parallel()
	pad := func(n int) string {
		return "{{if false}}" + strings.Repeat("x", n-len("{{if false}}{{end}}Hi")) + "{{end}}Hi"
	}
	for _, tc := range []struct {
		name, text, want string
	}{
		{"32,000 bytes", pad(32000), ""},
		{"32,001 bytes", pad(32001), "the template is 32001 bytes; the limit is 32000 (8 times the 4000 bytes a text may render to: room for a version per language), as every recipient's text is rendered from all of it; shorten it, or split the campaign"},
		{"100 built-in calls", strings.Repeat(`{{if eq .lang "de"}}Hallo{{end}}`, 50) + strings.Repeat(`{{len .name}}`, 50), ""},
		{"101 built-in calls", strings.Repeat(`{{if and (eq .a "x") (not .b)}}{{end}}`, 33) + `{{index . "a"}}{{slice .a 1}}`, "the template calls and, or, not, eq, ne, lt, le, gt, ge, len, index and slice 101 times; the limit is 100, as each call runs for every recipient"},
	} {
		_, problem := parseText(tc.text)
		if problem != tc.want {
			t.Errorf("%s: parseText: %q, want %q", tc.name, problem, tc.want)
		}
	}
}

// FuzzPrintf: printf writes what fmt.Sprintf writes, or refuses; what it writes is never
// over maxFuncOutput.
func FuzzPrintf(f *testing.F) {
	for _, s := range []string{"%s %d", "%-10s|%[2]d|%[1]q", "%[2]*[1]d", "%0999999d%s", "%x %X % x", "%s%%%d%!", "%v %T", "%.3s %5.1d"} {
		f.Add(s, "Ann", 7)
	}
	f.Fuzz(func(t *testing.T, format, s string, n int) {
		got, err := (*budget)(nil).printf(format, s, n)
		if err != nil {
			return
		}
		if len(got) > maxFuncOutput {
			t.Fatalf("printf(%q, %q, %d) wrote %d bytes", format, s, n, len(got))
		}
		if want := fmt.Sprintf(format, s, n); got != want {
			t.Fatalf("printf(%q, %q, %d) = %q; fmt.Sprintf writes %q", format, s, n, got, want)
		}
	})
}
