package campaign_test

import (
	"strings"
	"testing"
)

// TestLintVars: look-alikes that come from the data, not the text, are one warning at the
// first recipient that has them, with how many do and what cleaning the data saves.
func TestLintVars(t *testing.T) {
	x := strings.Repeat("x", 60)
	c := loadOne(t, map[string]string{
		"c.yaml": lines("id: c1", "from: Shop", "text: \"Hi {{.name}}, "+x+"\"", "destinations_file: r.csv", `destinations: [{to: "+41793026739", vars: {name: Zoë}}]`),
		"r.csv":  lines("to,name,unused", "+41793026731,Ann,O’Neil", "+41793026732,O’Brien,", "+41793026733,Zoë,", "+41793026734,D’Arcy,", "+41793026735,Bo…,"),
	})
	got := c.Lint()
	want := "U+2019 RIGHT SINGLE QUOTATION MARK (’) forces UCS-2 encoding for this recipient; write ' instead (GSM-7) in the data. 3 recipients' vars hold such characters (this is the first); cleaning them saves 2 SMS parts across the campaign"
	if len(got) != 1 || got[0].Msg != want || got[0].File != c.CSVFile || got[0].Line != 3 || got[0].Field != "name" {
		t.Fatalf("Lint() = %v\nwant %s:3: name: %s", got, c.CSVFile, want)
	}
	inline := loadOne(t, map[string]string{"c.yaml": lines("id: c1", "from: Shop", "text: \"Hi {{.name}}\"", `destinations: [{to: "+41793026739", vars: {name: "Bo\u00a0Li"}}]`)})
	if got := inline.Lint(); len(got) != 1 || got[0].Line != 4 || got[0].Field != "vars.name" || !strings.Contains(got[0].Msg, "U+00A0 NO-BREAK SPACE (invisible)") || !strings.Contains(got[0].Msg, "saves 0 SMS parts") {
		t.Errorf("Lint() = %v, want one warning at line 4 about vars.name", got)
	}
}

func TestLint(t *testing.T) {
	long := strings.Repeat("B", 150)
	tests := []struct {
		name  string
		text  string // YAML, as written after "text: "
		dests string
		line  int      // the file line of the warnings about the text's own characters
		want  []string // the warnings' messages, in order
	}{
		{"clean text", `"It's {{.name}} - see you..."`, `[{to: "+41793026731", vars: {name: Al}}]`, 4, nil},
		{"one apostrophe, every recipient pays", `"` + strings.Repeat("x", 99) + `’"`,
			`[{to: "+41793026731"}, {to: "+41793026732"}]`,
			4, []string{"column 107: U+2019 RIGHT SINGLE QUOTATION MARK (’) forces UCS-2 encoding; write ' instead (GSM-7): it costs 2 SMS parts across the campaign (4 with it, 2 without)"}},
		{"ellipsis costs only where the text is long", `"{{.name}}… see you"`,
			`[{to: "+41793026731", vars: {name: Al}}, {to: "+41793026732", vars: {name: ` + long + `}}]`,
			4, []string{"column 17: U+2026 HORIZONTAL ELLIPSIS (…) forces UCS-2 encoding; write ... instead (GSM-7): it costs 1 SMS part across the campaign (4 with it, 3 without)"}},
		{"several characters: each alone saves nothing, all together do", `"“Hi” – ` + strings.Repeat("y", 70) + ` “x”"`,
			`[{to: "+41793026731"}]`,
			4, []string{
				"column 8: U+201C LEFT DOUBLE QUOTATION MARK (“) (2 times; the first shown) forces UCS-2 encoding; write \" instead (GSM-7): it costs 0 SMS parts across the campaign (2 with it, 2 without)",
				"column 11: U+201D RIGHT DOUBLE QUOTATION MARK (”) (2 times; the first shown) forces UCS-2 encoding; write \" instead (GSM-7): it costs 0 SMS parts across the campaign (2 with it, 2 without)",
				"column 13: U+2013 EN DASH (–) forces UCS-2 encoding; write - instead (GSM-7): it costs 0 SMS parts across the campaign (2 with it, 2 without)",
				"replacing all 3 of these characters saves 1 SMS part across the campaign (2 now, 1 after)",
			}},
		{"no-break space on the second line of a block text", "|\n  Hello\n  50\u00a0% off", `[{to: "+41793026731"}]`,
			6, []string{"column 5: U+00A0 NO-BREAK SPACE (invisible) forces UCS-2 encoding; write a plain space (GSM-7): it costs 0 SMS parts across the campaign (1 with it, 1 without)"}},
		{"zero width space", `"Hi` + "\u200b" + `"`, `[{to: "+41793026731"}]`,
			4, []string{"column 10: U+200B ZERO WIDTH SPACE (invisible) forces UCS-2 encoding; remove it (GSM-7): it costs 0 SMS parts across the campaign (1 with it, 1 without)"}},
		// Where the file does not hold the character as it is (an escape), or a position in
		// the text is no single place in the file (a folded text), the text's own position.
		{"escaped in a quoted text", `"Hi\u2019s"`, `[{to: "+41793026731"}]`,
			4, []string{"column 3 of the text: U+2019 RIGHT SINGLE QUOTATION MARK (’) forces UCS-2 encoding; write ' instead (GSM-7): it costs 0 SMS parts across the campaign (1 with it, 1 without)"}},
		{"folded text", ">\n  Hello\n\n  50\u00a0% off", `[{to: "+41793026731"}]`,
			4, []string{"line 2 of the text, column 3: U+00A0 NO-BREAK SPACE (invisible) forces UCS-2 encoding; write a plain space (GSM-7): it costs 0 SMS parts across the campaign (1 with it, 1 without)"}},
		{"second line of a block text, indented further", "|2\n  Hello\n     50\u00a0% off", `[{to: "+41793026731"}]`,
			6, []string{"column 8: U+00A0 NO-BREAK SPACE (invisible) forces UCS-2 encoding; write a plain space (GSM-7): it costs 0 SMS parts across the campaign (1 with it, 1 without)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := loadOne(t, map[string]string{"c.yaml": lines("id: c1", "from: Shop", "destinations: "+tt.dests, "text: "+tt.text)})
			got := c.Lint()
			if len(got) != len(tt.want) {
				t.Fatalf("Lint() = %d warnings, want %d:\n%v", len(got), len(tt.want), got)
			}
			for i, p := range got {
				line := tt.line
				if strings.HasPrefix(tt.want[i], "replacing all") {
					line = 4 // the summary is about the whole text, at its key
				}
				if p.Msg != tt.want[i] || p.Line != line || p.Field != "text" || p.File != c.File {
					t.Errorf("warning %d:\n got %s:%d: %s: %s\nwant %s:%d: text: %s", i, p.File, p.Line, p.Field, p.Msg, c.File, line, tt.want[i])
				}
			}
		})
	}
}
