package campaign_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smsform/smsform/campaign"
)

// base is a valid campaign of 7 lines; cases append fields from line 8 on.
var base = []string{
	`id: c1`,                     // 1
	`from: InfoSMS`,              // 2
	`text: "Hi {{.name}}"`,       // 3
	`default_region: CH`,         // 4
	`destinations:`,              // 5
	`  - to: "+41 79 302 67 31"`, // 6
	`    vars: {name: Ann}`,      // 7
}

// withBase is c.yaml holding base followed by extra lines (the first at line 8).
func withBase(extra ...string) map[string]string {
	return map[string]string{"c.yaml": lines(append(slices.Clone(base), extra...)...)}
}

// doc is c.yaml holding exactly the lines given.
func doc(ls ...string) map[string]string { return map[string]string{"c.yaml": lines(ls...)} }

// withCSV is c.yaml with a destinations_file (line 5) and recipients.csv.
func withCSV(text, csv string) map[string]string {
	return map[string]string{
		"c.yaml": lines(
			`id: c1`,                            // 1
			`from: InfoSMS`,                     // 2
			`text: "`+text+`"`,                  // 3
			`default_region: CH`,                // 4
			`destinations_file: recipients.csv`, // 5
		),
		"recipients.csv": csv,
	}
}

// TestLoadRules covers every rule of spec §2, one small campaign per case.
func TestLoadRules(t *testing.T) {
	t.Parallel()
	cases := []loadCase{
		{name: "valid", files: withBase()},

		// id
		{name: "id required", files: doc(
			`from: InfoSMS`,
			`text: "Hi {{.name}}"`,
			`default_region: CH`,
			`destinations: [{to: "+41 79 302 67 31", vars: {name: Ann}}]`,
		), want: []want{{"c.yaml", 1, "id", "is required"}}},
		{name: "id upper case", files: doc(
			`from: InfoSMS`,
			`text: "Hi {{.name}}"`,
			`id: Otp-Welcome`,
			`destinations: [{to: "+41 79 302 67 31", vars: {name: Ann}}]`,
		), want: []want{{"c.yaml", 3, "id", `"Otp-Welcome" must be lower-case letters`}}},
		{name: "id starts with dash", files: doc(
			`id: -otp`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`,
		), want: []want{{"c.yaml", 1, "id", "^[a-z0-9][a-z0-9_-]{0,63}$"}}},
		{name: "id 65 chars", files: doc(
			`id: `+strings.Repeat("a", 65), `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`,
		), want: []want{{"c.yaml", 1, "id", "at most 64 chars"}}},
		{name: "id 64 chars", files: doc(
			`id: `+strings.Repeat("a", 64), `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`,
		)},
		{name: "id unquoted number", files: doc(
			`id: 2026`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`,
		)},
		{name: "id duplicate across files", files: map[string]string{
			"a.yaml": lines(`id: same`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`),
			"b.yaml": lines(`# the second one`, ``, `id: same`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026732"}]`),
		}, want: []want{{"b.yaml", 3, "id", `campaign "same" is already defined at $DIR/a.yaml:1`}}},
		{name: "id duplicate in one file", files: doc(
			`id: same`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`,
			`---`,
			`id: same`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026732"}]`,
		), want: []want{{"c.yaml", 6, "id", `already defined at $DIR/c.yaml:1`}}},

		// from
		{name: "from required", files: doc(
			`id: c1`, `text: Hi`, `destinations: [{to: "+41793026731"}]`,
		), want: []want{{"c.yaml", 1, "from", "is required"}}},
		{name: "from empty string", files: doc(
			`id: c1`, `from: ""`, `text: Hi`, `destinations: [{to: "+41793026731"}]`,
		), want: []want{{"c.yaml", 2, "from", "is required"}}},
		{name: "from alpha too short", files: doc(
			`id: c1`, `from: Ab`, `text: Hi`, `destinations: [{to: "+41793026731"}]`,
		), want: []want{{"c.yaml", 2, "from", `"Ab" must be 3-11 letters and digits, or 3-15 digits`}}},
		{name: "from alpha 12 chars", files: doc(
			`id: c1`, `from: InfoSMSabcde`, `text: Hi`, `destinations: [{to: "+41793026731"}]`,
		), want: []want{{"c.yaml", 2, "from", `"InfoSMSabcde" must be 3-11`}}},
		{name: "from with space", files: doc(
			`id: c1`, `from: Info SMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`,
		), want: []want{{"c.yaml", 2, "from", `"Info SMS" must be 3-11`}}},
		{name: "from numeric 16 digits", files: doc(
			`id: c1`, `from: "1234567890123456"`, `text: Hi`, `destinations: [{to: "+41793026731"}]`,
		), want: []want{{"c.yaml", 2, "from", `"1234567890123456" must be`}}},
		{name: "from numeric with plus", files: doc(
			`id: c1`, `from: "+41793026731"`, `text: Hi`, `destinations: [{to: "+41793026731"}]`,
		), want: []want{{"c.yaml", 2, "from", `"+41793026731" must be`}}},
		{name: "from alpha 3 chars", files: doc(`id: c1`, `from: Abc`, `text: Hi`, `destinations: [{to: "+41793026731"}]`)},
		{name: "from alpha 11 chars", files: doc(`id: c1`, `from: InfoSMS2026`, `text: Hi`, `destinations: [{to: "+41793026731"}]`)},
		{name: "from unquoted numeric", files: doc(`id: c1`, `from: 12345`, `text: Hi`, `destinations: [{to: "+41793026731"}]`)},
		{name: "from unquoted numeric 15 digits", files: doc(`id: c1`, `from: 123456789012345`, `text: Hi`, `destinations: [{to: "+41793026731"}]`)},
		{name: "from quoted numeric 3 digits", files: doc(`id: c1`, `from: "123"`, `text: Hi`, `destinations: [{to: "+41793026731"}]`)},

		// text
		{name: "text required", files: doc(
			`id: c1`, `from: InfoSMS`, `destinations: [{to: "+41793026731"}]`,
		), want: []want{{"c.yaml", 1, "text", "is required"}}},
		{name: "text template syntax", files: doc(
			`id: c1`, `from: InfoSMS`, `text: "Hi {{.name"`, `destinations: [{to: "+41793026731", vars: {name: Ann}}]`,
		), want: []want{{"c.yaml", 3, "text", "the template does not parse: unclosed action; write a var as {{.name}}"}}},
		{name: "text template typo", files: doc(
			`id: c1`, `from: InfoSMS`, `text: "Hi {{.name}}}, {.pin}}"`, `destinations: [{to: "+41793026731", vars: {name: Ann}}]`,
		), want: nil},
		{name: "text template bad character", files: doc(
			`id: c1`, `from: InfoSMS`, `text: "Hi {{.name}"`, `destinations: [{to: "+41793026731", vars: {name: Ann}}]`,
		), want: []want{{"c.yaml", 3, "text", "the template does not parse: unexpected character '}'"}}},
		{name: "text template error on line 2 of a block", files: doc(
			`id: c1`, `from: InfoSMS`, `text: |`, `  Hi`, `  {{.name`, `destinations: [{to: "+41793026731", vars: {name: Ann}}]`,
		), want: []want{{"c.yaml", 3, "text", "does not parse on line 3 of the text: unclosed action started on line 2"}}},
		{name: "text range on line 2 of a block: the file's line", files: doc(
			`id: c1`, `from: InfoSMS`, `text: |`, `  Hi`, `  {{range 3}}x{{end}}`, `destinations: [{to: "+41793026731"}]`,
		), want: []want{{"c.yaml", 5, "text", "{{range}} is not allowed (line 2 of the text)"}}},
		{name: "text function on line 3 of a block: the file's line", files: doc(
			`id: c1`, `from: InfoSMS`, `text: |-`, `  Hi`, ``, `  {{call .x}}`, `destinations: [{to: "+41793026731"}]`,
		), want: []want{{"c.yaml", 6, "text", `the function "call" is not allowed (line 3 of the text)`}}},
		{name: "text template error on line 2 of a block, before its end", files: doc(
			`id: c1`, `from: InfoSMS`, `text: |`, `  Hi {{.name}`, `  there`, `destinations: [{to: "+41793026731", vars: {name: Ann}}]`,
		), want: []want{{"c.yaml", 4, "text", "does not parse on line 1 of the text: unexpected character '}'"}}},
		{name: "text range", files: doc(
			`id: c1`, `from: InfoSMS`, `text: '{{range 100000}}{{range 100000}}{{end}}{{end}}x'`, `destinations: [{to: "+41793026731"}]`,
		), want: []want{{"c.yaml", 3, "text", "{{range}} is not allowed"}}},
		{name: "text range inside if", files: doc(
			`id: c1`, `from: InfoSMS`, `text: "{{if true}}{{with 1}}{{range 3}}x{{end}}{{end}}{{end}}"`, `destinations: [{to: "+41793026731"}]`,
		), want: []want{{"c.yaml", 3, "text", "{{range}} is not allowed"}}},
		{name: "text define", files: doc(
			`id: c1`, `from: InfoSMS`, `text: '{{define "x"}}a{{end}}b'`, `destinations: [{to: "+41793026731"}]`,
		), want: []want{{"c.yaml", 3, "text", "{{define}} and {{block}} are not allowed"}}},
		{name: "text block", files: doc(
			`id: c1`, `from: InfoSMS`, `text: '{{block "x" .}}a{{end}}'`, `destinations: [{to: "+41793026731"}]`,
		), want: []want{{"c.yaml", 3, "text", "not allowed"}}},
		{name: "text template call", files: doc(
			`id: c1`, `from: InfoSMS`, `text: '{{template "text" .}}'`, `destinations: [{to: "+41793026731"}]`,
		), want: []want{{"c.yaml", 3, "text", "{{template}} is not allowed"}}},
		{name: "text call", files: doc(
			`id: c1`, `from: InfoSMS`, `text: '{{call .f}}'`, `destinations: [{to: "+41793026731", vars: {f: x}}]`,
		), want: []want{{"c.yaml", 3, "text", `the function "call" is not allowed`}}},
		{name: "text printf huge width", files: doc(
			`id: c1`, `from: InfoSMS`, `text: '{{printf "%0999999d%0999999d" 1 2}}'`, `destinations: [{to: "+41793026731"}]`,
		), want: []want{{"c.yaml", 4, "text", "the text cannot be rendered: calling printf: a function would write more than 16000 bytes"}}},
		{name: "text print of many long vars", files: doc(
			`id: c1`, `from: InfoSMS`, `text: '{{print`+strings.Repeat(" .a", 20)+`}}'`, `destinations: [{to: "+41793026731", vars: {a: "`+strings.Repeat("x", 1000)+`"}}]`,
		), want: []want{{"c.yaml", 4, "text", "calling print: a function would write more than 16000 bytes"}}},
		{name: "text printf small", files: doc(
			`id: c1`, `from: InfoSMS`, `text: '{{printf "%-5s|%3d" .name 7}} {{if eq .name "Ann"}}hi{{else}}ho{{end}} {{len .name}} {{html "<"}}'`, `destinations: [{to: "+41793026731", vars: {name: Ann}}]`,
		)},
		{name: "text printf width from an indexed argument", files: doc(
			`id: c1`, `from: InfoSMS`, `text: '{{len (printf "%[1]*[2]d" 1000000 5)}}'`, `destinations: [{to: "+41793026731"}]`,
		), want: []want{{"c.yaml", 4, "text", "the text cannot be rendered: calling printf: printf: a width or precision from an argument (*) is not allowed"}}},
		{name: "text printf repeating an argument", files: doc(
			`id: c1`, `from: InfoSMS`, `text: '{{len (printf "`+strings.Repeat("%[1]s", 100)+`" .a)}}'`, `destinations: [{to: "+41793026731", vars: {a: "`+strings.Repeat("x", 200)+`"}}]`,
		), want: []want{{"c.yaml", 4, "text", "calling printf: a function would write more than 16000 bytes"}}},
		{name: "text template over 32000 bytes", files: doc(
			`id: c1`, `from: InfoSMS`, `text: '`+strings.Repeat(`{{if .a}}{{end}}`, 2001)+`'`, `destinations: [{to: "+41793026731", vars: {a: x}}]`,
		), want: []want{{"c.yaml", 3, "text", "the template is 32016 bytes; the limit is 32000"}}},
		{name: "text calling print 101 times", files: doc(
			`id: c1`, `from: InfoSMS`, `text: '`+strings.Repeat(`{{print .a}}`, 101)+`'`, `destinations: [{to: "+41793026731", vars: {a: x}}]`,
		), want: []want{{"c.yaml", 4, "text", "the text cannot be rendered: calling print: the text calls print, printf, println, html, js and urlquery more than 100 times for one recipient"}}},
		{name: "text with NUL", files: doc(
			`id: c1`, `from: InfoSMS`, `text: "Hi\0 {{.name}}"`, `destinations: [{to: "+41793026731", vars: {name: Ann}}]`,
		), want: []want{{"c.yaml", 3, "text", "holds a NUL character, which no SMS can carry"}}},
		{name: "text with an escape character", files: doc(
			`id: c1`, `from: InfoSMS`, `text: "Hi \e[2J{{.name}}"`, `destinations: [{to: "+41793026731", vars: {name: Ann}}]`,
		), want: []want{{"c.yaml", 3, "text", "holds the control character U+001B, which no phone shows; remove it"}}},
		{name: "text with tab, line breaks and form feed", files: doc(
			`id: c1`, `from: InfoSMS`, `text: "Hi\t{{.name}}\r\nPage 2\f"`, `destinations: [{to: "+41793026731", vars: {name: Ann}}]`,
		)},
		{name: "text over 4000 bytes while rendering", files: doc(
			`id: c1`, `from: InfoSMS`, `text: '`+strings.Repeat("{{.a}}", 3000)+`'`, `destinations: [{to: "+41793026731", vars: {a: "`+strings.Repeat("x", 1000)+`"}}]`,
		), want: []want{{"c.yaml", 4, "text", "renders to more than 4000 bytes for +41793026731; the limit is 4000"}}},
		{name: "text unknown function", files: doc(
			`id: c1`, `from: InfoSMS`, `text: "Hi {{upper .name}}"`, `destinations: [{to: "+41793026731", vars: {name: Ann}}]`,
		), want: []want{{"c.yaml", 3, "text", `the template does not parse: function "upper" not defined`}}},
		{name: "text missing var at recipient line", files: doc(
			`id: c1`,                             // 1
			`from: InfoSMS`,                      // 2
			`text: "Hi {{.name}}, PIN {{.pin}}"`, // 3
			`destinations:`,                      // 4
			`  - to: "+41 79 302 67 31"`,         // 5
			`    vars: {name: Ann, pin: "1"}`,    // 6
			`  - to: "+41 79 302 67 32"`,         // 7
			`    vars: {name: Ben}`,              // 8
		), want: []want{{"c.yaml", 7, "text", `missing var "pin"`}}},
		{name: "text missing var in CSV row", files: withCSV("Hi {{.name}}, PIN {{.pin}}", lines(
			`to,name`,
			`+41 79 302 67 31,Ann`,
		)), want: []want{{"recipients.csv", 2, "text", `missing var "pin"`}}},
		{name: "text 25 GSM-7 parts", files: doc(
			`id: c1`, `from: InfoSMS`, `text: `+strings.Repeat("a", 25*153), `destinations: [{to: "+41793026731"}]`,
		)},
		{name: "text 26 GSM-7 parts", files: doc(
			`id: c1`, `from: InfoSMS`, `text: `+strings.Repeat("a", 25*153+1),
			`destinations:`,
			`  - to: "+41793026731"`,
		), want: []want{{"c.yaml", 5, "text", "renders to 26 SMS parts (GSM-7, 3826 chars) for +41793026731; the limit is 25"}}},
		{name: "text 25 UCS-2 parts", files: doc(
			`id: c1`, `from: InfoSMS`, `text: `+strings.Repeat("ж", 25*67), `destinations: [{to: "+41793026731"}]`,
		)},
		{name: "text 26 UCS-2 parts", files: doc(
			`id: c1`, `from: InfoSMS`, `text: `+strings.Repeat("ж", 25*67+1),
			`destinations:`,
			`  - to: "+41793026731"`,
		), want: []want{{"c.yaml", 5, "text", "renders to 26 SMS parts (UCS-2, 1676 chars)"}}},
		{name: "text over 25 parts only after rendering", files: doc(
			`id: c1`, `from: InfoSMS`, `text: "{{.long}}"`,
			`destinations:`,
			`  - to: "+41793026731"`,
			`    vars: {long: short}`,
			`  - to: "+41793026732"`,
			`    vars: {long: `+strings.Repeat("ж", 2000)+`}`,
		), want: []want{{"c.yaml", 7, "text", "SMS parts (UCS-2"}}},
		{name: "text renders empty", files: doc(
			`id: c1`, `from: InfoSMS`, `text: "{{.name}}"`,
			`destinations:`,
			`  - to: "+41793026731"`,
			`    vars: {name: ""}`,
		), want: []want{{"c.yaml", 5, "text", "renders to an empty text for +41793026731"}}},

		// tracking
		{name: "tracking valid", files: withBase(`tracking: {track: SMS, type: One_Time_Pin}`)},
		{name: "tracking track MMS", files: withBase(`tracking: {track: MMS}`),
			want: []want{{"c.yaml", 8, "tracking.track", `"MMS" must be one of SMS`}}},
		{name: "tracking track lower case", files: withBase(
			`tracking:`,
			`  track: sms`,
		), want: []want{{"c.yaml", 9, "tracking.track", `"sms" must be one of SMS`}}},
		{name: "tracking type with space", files: withBase(
			`tracking:`,
			`  track: SMS`,
			`  type: One Time Pin`,
		), want: []want{{"c.yaml", 10, "tracking.type", `"One Time Pin" must be 1-50 letters, digits or '_'`}}},
		{name: "tracking type 51 chars", files: withBase(
			`tracking:`,
			`  track: SMS`,
			`  type: `+strings.Repeat("T", 51),
		), want: []want{{"c.yaml", 10, "tracking.type", "must be 1-50"}}},
		{name: "tracking type 50 chars", files: withBase(`tracking: {track: SMS, type: ` + strings.Repeat("T", 50) + `}`)},

		// default_region and numbers
		{name: "default_region unknown", files: doc(
			`id: c1`, `from: InfoSMS`, `text: Hi`, `default_region: XX`, `destinations: [{to: "+41793026731"}]`,
		), want: []want{{"c.yaml", 4, "default_region", `"XX" is not an ISO 3166 country code`}}},
		{name: "default_region three letters", files: doc(
			`id: c1`, `from: InfoSMS`, `text: Hi`, `default_region: CHE`, `destinations: [{to: "+41793026731"}]`,
		), want: []want{{"c.yaml", 4, "default_region", `"CHE" is not an ISO 3166`}}},
		{name: "no destinations at all", files: doc(
			`id: c1`, `from: InfoSMS`, `text: Hi`,
		), want: []want{{"c.yaml", 1, "destinations", "the campaign has no recipients: set destinations, destinations_file or both"}}},
		{name: "destinations empty list", files: doc(
			`id: c1`, `from: InfoSMS`, `text: Hi`, `destinations: []`,
		), want: []want{{"c.yaml", 4, "destinations", "has no recipients"}}},
		{name: "to empty", files: doc(
			`id: c1`, `from: InfoSMS`, `text: Hi`,
			`destinations:`,
			`  - to: ""`,
		), want: []want{{"c.yaml", 5, "destinations[0].to", "is required"}}},
		{name: "to invalid for region", files: withBase(
			`  - to: "079 302"`,
		), want: []want{{"c.yaml", 8, "destinations[1].to", `"079 302" is not a valid number for CH`}}},
		{name: "to invalid with country code", files: doc(
			`id: c1`, `from: InfoSMS`, `text: Hi`,
			`destinations:`,
			`  - to: "+41 12 34"`,
		), want: []want{{"c.yaml", 5, "destinations[0].to", `"+41 12 34" is not a valid number for CH`}}},
		{name: "to not a number", files: withBase(
			`  - to: "call me"`,
		), want: []want{{"c.yaml", 8, "destinations[1].to", `"call me" is not a phone number`}}},
		{name: "to national without default_region", files: doc(
			`id: c1`, `from: InfoSMS`, `text: Hi`,
			`destinations:`,
			`  - to: "079 302 67 31"`,
		), want: []want{{"c.yaml", 5, "destinations[0].to", `"079 302 67 31" has no country code: write it as +<country><number>, or set default_region`}}},
		{name: "to national with default_region", files: doc(
			`id: c1`, `from: InfoSMS`, `text: Hi`, `default_region: CH`,
			`destinations:`,
			`  - to: "079 302 67 31"`,
		)},
		{name: "to unquoted international", files: doc(
			`id: c1`, `from: InfoSMS`, `text: Hi`,
			`destinations:`,
			`  - to: +41793026731`,
		)},
		{name: "duplicate number same vars is merged", files: withBase(
			`  - to: "079 302 67 31"`,
			`    vars: {name: Ann}`,
		)},
		{name: "duplicate number different vars", files: withBase(
			`  - to: "079 302 67 31"`,
			`    vars: {name: Anna}`,
		), want: []want{{"c.yaml", 8, "destinations[1].to", "+41793026731 is also at $DIR/c.yaml:6 with different vars; a number gets one message per campaign"}}},
		{name: "duplicate number inline and CSV same vars", files: map[string]string{
			"c.yaml": lines(append(slices.Clone(base), `destinations_file: r.csv`)...),
			"r.csv":  lines(`name,to`, `Ann,0793026731`),
		}},
		{name: "duplicate number inline and CSV different vars", files: map[string]string{
			"c.yaml": lines(append(slices.Clone(base), `destinations_file: r.csv`)...),
			"r.csv":  lines(`to,name`, `+41 79 302 67 32,Ben`, `0793026731,Anne`),
		}, want: []want{{"r.csv", 3, "to", "+41793026731 is also at $DIR/c.yaml:6 with different vars"}}},

		// round
		{name: "round 2", files: withBase(`round: 2`)},
		{name: "round 0", files: withBase(`round: 0`),
			want: []want{{"c.yaml", 8, "round", "must be at least 1"}}},
		{name: "round negative", files: withBase(`round: -3`),
			want: []want{{"c.yaml", 8, "round", "must be at least 1"}}},
		{name: "round wrong type", files: withBase(`round: two`),
			want: []want{{"c.yaml", 8, "round", `wrong type: want a whole number, got "two"`}}},

		// send_at (only its format at load time; past/future is CheckSendAt at plan time)
		{name: "send_at RFC 3339 unquoted", files: withBase(`send_at: 2026-12-01T09:00:00Z`)},
		{name: "send_at RFC 3339 with offset", files: withBase(`send_at: "2026-12-01T09:00:00+01:00"`)},
		{name: "send_at in the past loads", files: withBase(`send_at: 2001-01-01T00:00:00Z`)},
		{name: "send_at date only", files: withBase(`send_at: 2026-12-01`),
			want: []want{{"c.yaml", 8, "send_at", `"2026-12-01" must be an RFC 3339 time`}}},
		{name: "send_at space separated", files: withBase(`send_at: "2026-12-01 09:00"`),
			want: []want{{"c.yaml", 8, "send_at", "must be an RFC 3339 time such as 2026-12-01T09:00:00Z"}}},

		// validity_period
		{name: "validity 15m", files: withBase(`validity_period: 15m`)},
		{name: "validity 1m", files: withBase(`validity_period: 1m`)},
		{name: "validity 48h", files: withBase(`validity_period: 48h`)},
		{name: "validity 30s", files: withBase(`validity_period: 30s`),
			want: []want{{"c.yaml", 8, "validity_period", `"30s" must be a duration between 1m and 48h`}}},
		{name: "validity 49h", files: withBase(`validity_period: 49h`),
			want: []want{{"c.yaml", 8, "validity_period", `"49h" must be a duration between 1m and 48h`}}},
		{name: "validity without unit", files: withBase(`validity_period: 60`),
			want: []want{{"c.yaml", 8, "validity_period", `wrong type: want text (in quotes), got the number "60"`}}},

		// delivery_window
		{name: "window valid", files: withBase(`delivery_window: {days: [MONDAY, TUESDAY], from: "09:00", to: "17:00"}`)},
		{name: "window exactly one hour", files: withBase(`delivery_window: {days: [SUNDAY], from: "09:00", to: "10:00"}`)},
		{name: "window bad day", files: withBase(
			`delivery_window:`,
			`  days: [MONDAY, FUNDAY]`,
			`  from: "09:00"`,
			`  to: "17:00"`,
		), want: []want{{"c.yaml", 9, "delivery_window.days[1]", `"FUNDAY" must be one of MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY`}}},
		{name: "window lower-case day", files: withBase(
			`delivery_window:`,
			`  days:`,
			`    - monday`,
			`  from: "09:00"`,
			`  to: "17:00"`,
		), want: []want{{"c.yaml", 10, "delivery_window.days[0]", `"monday" must be one of`}}},
		{name: "window repeated day", files: withBase(`delivery_window: {days: [MONDAY, MONDAY], from: "09:00", to: "17:00"}`),
			want: []want{{"c.yaml", 8, "delivery_window.days", "must not repeat a value"}}},
		{name: "window bad from", files: withBase(
			`delivery_window:`,
			`  days: [MONDAY]`,
			`  from: "9:00"`,
			`  to: "17:00"`,
		), want: []want{{"c.yaml", 10, "delivery_window.from", `"9:00" must be a time of day HH:MM (UTC)`}}},
		{name: "window bad to", files: withBase(
			`delivery_window:`,
			`  days: [MONDAY]`,
			`  from: "09:00"`,
			`  to: "24:00"`,
		), want: []want{{"c.yaml", 11, "delivery_window.to", `"24:00" must be a time of day HH:MM`}}},
		{name: "window under one hour", files: withBase(
			`delivery_window:`,
			`  days: [MONDAY]`,
			`  from: "09:00"`,
			`  to: "09:59"`,
		), want: []want{{"c.yaml", 11, "delivery_window.to", "the window 09:00-09:59 must be at least one hour wide"}}},
		{name: "window to before from", files: withBase(
			`delivery_window:`,
			`  days: [MONDAY]`,
			`  from: "17:00"`,
			`  to: "09:00"`,
		), want: []want{{"c.yaml", 11, "delivery_window.to", "to after from"}}},

		// speed_limit
		{name: "speed valid", files: withBase(`speed_limit: {amount: 100, time_unit: MINUTE}`)},
		// The wording of amount 0 is checked by TestSpeedLimitZeroWording.
		{name: "speed amount 0", files: withBase(
			`speed_limit:`,
			`  amount: 0`,
			`  time_unit: MINUTE`,
		), want: []want{{"c.yaml", 9, "speed_limit.amount", ""}}},
		{name: "speed amount negative", files: withBase(
			`speed_limit:`,
			`  amount: -1`,
			`  time_unit: HOUR`,
		), want: []want{{"c.yaml", 9, "speed_limit.amount", "must be at least 1"}}},
		{name: "speed bad unit", files: withBase(
			`speed_limit:`,
			`  amount: 10`,
			`  time_unit: SECOND`,
		), want: []want{{"c.yaml", 10, "speed_limit.time_unit", `"SECOND" must be one of MINUTE, HOUR, DAY`}}},

		// notify_url and callback_data
		{name: "notify https", files: withBase(`notify_url: https://example.com/dlr`)},
		{name: "notify http", files: withBase(`notify_url: http://example.com/dlr`),
			want: []want{{"c.yaml", 8, "notify_url", `"http://example.com/dlr" must be an https:// URL`}}},
		{name: "notify no host", files: withBase(`notify_url: "https:///dlr"`),
			want: []want{{"c.yaml", 8, "notify_url", "must be an https:// URL"}}},
		{name: "callback 4000 chars", files: withBase(`callback_data: ` + strings.Repeat("x", 4000))},
		{name: "callback 4001 chars", files: withBase(`callback_data: ` + strings.Repeat("x", 4001)),
			want: []want{{"c.yaml", 8, "callback_data", "must be at most 4000 characters"}}},

		// labels
		{name: "labels free", files: withBase(`labels: {team: growth, any_key: 1}`)},

		// unknown keys and types
		{name: "unknown top-level key", files: withBase(`colour: red`),
			want: []want{{"c.yaml", 8, "colour", "unknown field; known fields are id, from, text, tracking"}}},
		{name: "misspelt top-level key", files: withBase(`validty_period: 2h`),
			want: []want{{"c.yaml", 8, "validty_period", `unknown field (did you mean "validity_period"?)`}}},
		{name: "misspelt nested key", files: withBase(
			`tracking:`,
			`  track: SMS`,
			`  typo: One_Time_Pin`,
		), want: []want{{"c.yaml", 10, "tracking.typo", `unknown field (did you mean "type"?); known fields are track, type`}}},
		{name: "misspelt key in a destination", files: withBase(
			`  - to: "+41 79 302 67 32"`,
			`    var: {name: Ben}`,
		), want: []want{
			{"c.yaml", 8, "text", `missing var "name"`},
			{"c.yaml", 9, "destinations[1].var", `unknown field (did you mean "vars"?)`},
		}},
		{name: "labels not a mapping", files: withBase(`labels: growth`),
			want: []want{{"c.yaml", 8, "labels", `wrong type: want a mapping, got "growth"`}}},
		{name: "vars value not a string", files: doc(
			`id: c1`,
			`from: InfoSMS`,
			`text: Hi`,
			`destinations:`,
			`  - to: "+41 79 302 67 32"`,
			`    vars:`,
			`      name: [Ben]`,
		), want: []want{{"c.yaml", 7, "destinations[0].vars.name", "wrong type: want text, got a list"}}},

		// YAML structure
		{name: "YAML syntax error", files: doc(
			`id: c1`,
			`from: InfoSMS`,
			`text: Hi: there`,
			`destinations: [{to: "+41793026731"}]`,
		), want: []want{{"c.yaml", 3, "", "YAML syntax: mapping values are not allowed in this context"}}},
		{name: "YAML unclosed flow sequence", files: doc(
			`id: c1`,
			`from: [InfoSMS`,
			`text: Hi`,
		), want: []want{{"c.yaml", 2, "", "YAML syntax: did not find expected ',' or ']'"}}},
		{name: "YAML unclosed flow mapping", files: withBase(`speed_limit: {amount: 1`),
			want: []want{{"c.yaml", 8, "", "YAML syntax: did not find expected ',' or '}'"}}},
		{name: "YAML tab indentation", files: doc(
			`id: c1`,
			`from: InfoSMS`,
			"\ttext: Hi",
		), want: []want{{"c.yaml", 3, "", "YAML syntax: found a tab character"}}},
		{name: "YAML bad indentation", files: doc(
			`id: c1`,
			`destinations:`,
			`  - to: "+41793026731"`,
			` from: InfoSMS`,
		), want: []want{{"c.yaml", 4, "", "YAML syntax: did not find expected key"}}},
		{name: "YAML unterminated string", files: doc(
			`id: c1`,
			`from: InfoSMS`,
			`text: "Hi`,
		), want: []want{{"c.yaml", 3, "", "YAML syntax: "}}},
		{name: "YAML syntax error in second document", files: doc(
			`id: c1`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`,
			`---`,
			`id: c2`,
			`from: [InfoSMS`,
		), want: []want{{"c.yaml", 7, "", "YAML syntax: "}}},
		{name: "several documents", files: doc(
			`id: c1`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`, // 1-4
			`---`,           // 5
			`id: c2`,        // 6
			`from: InfoSMS`, // 7
			`text: Hi`,      // 8
			`round: 0`,      // 9
			`destinations: [{to: "+41793026731"}]`,
			`---`,
		), want: []want{{"c.yaml", 9, "round", "must be at least 1"}}},
		{name: "document not a mapping", files: doc(
			`- id: c1`,
			`- from: InfoSMS`,
		), want: []want{{"c.yaml", 1, "", "a campaign must be a mapping of fields"}}},
		{name: "scalar document after a campaign", files: doc(
			`id: c1`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`,
			`---`,
			`just text`,
		), want: []want{{"c.yaml", 6, "", "must be a mapping"}}},
		{name: "comments only", files: map[string]string{
			"c.yaml": lines(`id: c1`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`),
			"d.yaml": lines(`# nothing here yet`),
		}},
		{name: "all problems of a file at once", files: doc(
			`id: Bad ID`,                     // 1
			`from: X`,                        // 2
			`text: "Hi {{.name}}"`,           // 3
			`round: 0`,                       // 4
			`notify_url: http://example.com`, // 5
			`colour: red`,                    // 6
			`destinations:`,                  // 7
			`  - to: "+41 79 302 67 31"`,     // 8
			`    vars: {name: Ann}`,          // 9
		), want: []want{
			{"c.yaml", 1, "id", "must be lower-case"},
			{"c.yaml", 2, "from", "must be 3-11"},
			{"c.yaml", 4, "round", "at least 1"},
			{"c.yaml", 5, "notify_url", "https"},
			{"c.yaml", 6, "colour", "unknown field"},
		}},
		{name: "problems of several files sorted by file and line", files: map[string]string{
			"b.yaml": lines(`id: b`, `from: InfoSMS`, `text: Hi`, `round: 0`, `destinations: [{to: "+41793026731"}]`),
			"a.yaml": lines(`id: a`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`, `colour: red`, `validity_period: 1s`),
		}, want: []want{
			{"a.yaml", 5, "colour", "unknown field"},
			{"a.yaml", 6, "validity_period", "must be a duration"},
			{"b.yaml", 4, "round", "at least 1"},
		}},

		// CSV
		{name: "csv valid", files: withCSV("Hi {{.name}}", lines(`to,name`, `+41 79 302 67 31,Ann`, `079 302 67 32,Ben`))},
		{name: "csv header without to", files: withCSV("Hi {{.name}}", lines(`phone,name`, `+41 79 302 67 31,Ann`)),
			want: []want{{"recipients.csv", 1, "to", "the header has no `to` column; rename \"phone\", the column of numbers, to `to`"}}},
		{name: "csv header column twice", files: withCSV("Hi {{.name}}", lines(`to,name,name`, `+41 79 302 67 31,Ann,Anne`)),
			want: []want{{"recipients.csv", 1, "name", "the column is named twice in the header"}}},
		{name: "csv header column without name", files: withCSV("Hi {{.name}}", lines(`to,,name`, `+41 79 302 67 31,x,Ann`)),
			want: []want{{"recipients.csv", 1, "", "column 2 has no name in the header"}}},
		{name: "csv empty file", files: withCSV("Hi", ""),
			want: []want{{"recipients.csv", 1, "", "the file is empty"}}},
		{name: "csv without a to column, not quoted", files: withCSV("Hi", lines(`INFOBIP_API_KEY=s3cr3t`, `x`)),
			want: []want{{"recipients.csv", 1, "to", "the header has no `to` column (it has 1 column); the first line must name the columns"}}},
		{name: "csv header only", files: withCSV("Hi", lines(`to,name`)),
			want: []want{{"recipients.csv", 1, "", "a header but no recipients"}}},
		{name: "csv with old Mac line ends", files: withCSV("Hi {{.name}}", "to,name\r+41 79 302 67 31,Ann\r+41 79 302 67 32,Ben\r")},
		{name: "csv with old Mac line ends, a bad number on line 4", files: withCSV("Hi {{.name}}", "to,name\r+41 79 302 67 31,Ann\r\r12345,Cid\r"),
			want: []want{{"recipients.csv", 4, "to", `"12345" is not a valid number for CH`}}},
		{name: "csv invalid UTF-8", files: withCSV("Hi {{.name}}", "to,name\n+41 79 302 67 31,Ann\n+41 79 302 67 32,B\xffen\n"),
			want: []want{{"recipients.csv", 3, "name", "is not UTF-8"}}},
		{name: "csv header not text", files: withCSV("Hi", "SQLite format 3\x00\x01\x02secret\n"),
			want: []want{{"recipients.csv", 1, "", "is this a CSV file?"}}},
		{name: "csv header too wide", files: withCSV("Hi", "to"+strings.Repeat(",x", campaign.MaxCSVColumns)+"\n+41793026731\n"),
			want: []want{{"recipients.csv", 1, "", "the limit is 256"}}},
		{name: "csv line too long", files: withCSV("Hi {{.name}}", "to,name\n+41793026731,Ann\n+41793026732,"+strings.Repeat("x", campaign.MaxCSVLine)+"\n"),
			want: []want{{"recipients.csv", 3, "", "longer than 65536 bytes"}}},
		{name: "csv quoted field over many short lines", files: withCSV("Hi {{.name}}", "to,name\n+41793026731,Ann\n+41793026732,\""+strings.Repeat(strings.Repeat("y", 99)+"\n", 1000)+"\"\n"),
			want: []want{{"recipients.csv", 3, "", "the record that starts on this line runs past 65536 bytes over 656 lines"}}},
		{name: "csv quote never closed", files: withCSV("Hi {{.name}}", "to,name\n+41793026731,\"Ann\n"+strings.Repeat("+41793026732,Ben\n", 5000)),
			want: []want{{"recipients.csv", 2, "", "a quote never closed"}}},
		{name: "csv quoted line breaks under the bound, a bad number after them", files: withCSV("Hi {{.name}}", "to,name\n+41793026731,\"Ann\nSmith\"\r\n\"+41 79 302 67 32\",\"Ben\n\"\"Benny\"\"\"\n12345,Cid\n"),
			want: []want{{"recipients.csv", 6, "to", `"12345" is not a valid number for CH`}}},
		{name: "csv long value shown cut", files: withCSV("Hi {{.name}}", "to,name\n"+strings.Repeat("1", 60000)+",Ann\n"),
			want: []want{{"recipients.csv", 2, "to", `"` + strings.Repeat("1", 64) + `"... (60000 bytes) is not`}}},
		{name: "csv named by two campaigns: a problem of the file once, of a campaign for it", files: map[string]string{
			"a.yaml": lines(`id: a`, `from: InfoSMS`, `text: "Hi {{.name}}"`, `default_region: CH`, `destinations_file: r.csv`),
			"b.yaml": lines(`id: b`, `from: InfoSMS`, `text: "Hi {{.name}}"`, `destinations_file: r.csv`),
			"r.csv":  lines(`to,name`, `+41793026731,Ann`, "+41793026732,B\xffen", `0793026733,Cid`),
		}, want: []want{
			{"r.csv", 3, "name", "is not UTF-8"},
			{"r.csv", 4, "to", `"0793026733" has no country code`},
		}},
		{name: "csv named by two campaigns, missing: at each", files: map[string]string{
			"a.yaml": lines(`id: a`, `from: InfoSMS`, `text: Hi`, `destinations_file: nope.csv`),
			"b.yaml": lines(`id: b`, `from: InfoSMS`, `text: Hi`, `destinations_file: nope.csv`),
		}, want: []want{
			{"a.yaml", 4, "destinations_file", "no such file"},
			{"b.yaml", 4, "destinations_file", "no such file"},
		}},
		{name: "csv header with escape sequences", files: withCSV("Hi", "to,\"\x1b[2J\n::error::x\"\n+41793026731,a\n"),
			want: []want{{"recipients.csv", 1, "", "control characters"}}},
		{name: "csv wrong field count", files: withCSV("Hi {{.name}}", lines(
			`to,name`,
			`+41 79 302 67 31,Ann`,
			`+41 79 302 67 32,Ben,extra`,
			`+41 79 302 67 33`,
			`+41 79 302 67 34,Dan`,
		)), want: []want{
			{"recipients.csv", 3, "", "CSV: wrong number of fields"},
			{"recipients.csv", 4, "", "CSV: wrong number of fields"},
		}},
		{name: "csv bare quote", files: withCSV("Hi {{.name}}", lines(
			`to,name`,
			`+41 79 302 67 31,Ann`,
			`+41 79 302 67 32,B"en`,
		)), want: []want{{"recipients.csv", 3, "", `CSV: bare " in non-quoted-field`}}},
		{name: "csv unterminated quote", files: withCSV("Hi {{.name}}", lines(
			`to,name`,
			`+41 79 302 67 31,Ann`,
			`+41 79 302 67 32,"Ben`,
		)), want: []want{{"recipients.csv", 3, "", `CSV: extraneous or missing " in quoted-field`}}},
		{name: "csv quoted fields", files: withCSV("Hi {{.name}}", lines(`"to","name"`, `"+41 79 302 67 31","Ann, ""the"" first"`))},
		{name: "csv BOM", files: withCSV("Hi {{.name}}", "\uFEFF"+lines(`to,name`, `+41 79 302 67 31,Ann`))},
		{name: "csv CRLF", files: withCSV("Hi {{.name}}", "to,name\r\n+41 79 302 67 31,Ann\r\n")},
		{name: "csv invalid number", files: withCSV("Hi {{.name}}", lines(
			`to,name`,
			`+41 79 302 67 31,Ann`,
			`12345,Ben`,
			`,Cem`,
		)), want: []want{
			{"recipients.csv", 3, "to", `"12345" is not a valid number for CH`},
			{"recipients.csv", 4, "to", "is required"},
		}},
		{name: "csv duplicate rows same vars", files: withCSV("Hi {{.name}}", lines(`to,name`, `+41 79 302 67 31,Ann`, `0793026731,Ann`))},
		{name: "csv duplicate rows different vars", files: withCSV("Hi {{.name}}", lines(`to,name`, `+41 79 302 67 31,Ann`, `0793026731,Ben`)),
			want: []want{{"recipients.csv", 3, "to", "+41793026731 is also at $DIR/recipients.csv:2 with different vars"}}},
		{name: "csv missing file", files: map[string]string{"c.yaml": lines(
			`id: c1`, `from: InfoSMS`, `text: Hi`,
			`destinations_file: nope.csv`,
		)}, want: []want{{"c.yaml", 4, "destinations_file", "cannot read $DIR/nope.csv: no such file or directory"}}},
	}
	runLoadCases(t, cases)
}

// TestValidationErrorFormat checks the FILE:LINE: field: problem shape of the error text.
func TestValidationErrorFormat(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, withBase(`round: 0`, `colour: red`))
	_, err := campaign.Load(dir)
	ve := validationError(t, err)
	f := filepath.Join(dir, "c.yaml")
	wantText := f + ":8: round: must be at least 1\n" + f + ":9: colour: unknown field"
	if !strings.HasPrefix(err.Error(), wantText) {
		t.Errorf("Error() =\n%s\nwant it to start with\n%s", err, wantText)
	}
	if ve.Count() != 2 || ve.Dropped != 0 {
		t.Errorf("Count() = %d, Dropped = %d; want 2, 0", ve.Count(), ve.Dropped)
	}
	for _, tc := range []struct {
		p    campaign.Problem
		want string
	}{
		{campaign.Problem{File: "a.yaml", Line: 3, Field: "id", Msg: "bad"}, "a.yaml:3: id: bad"},
		{campaign.Problem{File: "a.yaml", Line: 3, Msg: "bad"}, "a.yaml:3: bad"},
		{campaign.Problem{File: "a.csv", Msg: "bad"}, "a.csv: bad"},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("Problem.String() = %q, want %q", got, tc.want)
		}
	}
}

// TestDuplicateMergedOnce: the same number written twice with the same vars is one
// recipient, at its first place.
func TestDuplicateMergedOnce(t *testing.T) {
	t.Parallel()
	c := loadOne(t, map[string]string{
		"c.yaml": lines(append(slices.Clone(base),
			`  - to: "079 302 67 31"`, // 8: same as line 6
			`    vars: {name: Ann}`,
			`destinations_file: r.csv`,
		)...),
		"r.csv": lines(`name,to`, `Ann,+41793026731`, `Ben,+41793026732`),
	})
	var got []string
	for _, r := range c.Recipients.All() {
		got = append(got, c.Pos(r)+" "+r.To)
	}
	want := []string{
		filepath.Join(filepath.Dir(c.File), "c.yaml") + ":6 +41793026731",
		filepath.Join(filepath.Dir(c.File), "r.csv") + ":3 +41793026732",
	}
	if !slices.Equal(got, want) {
		t.Errorf("recipients = %q, want %q", got, want)
	}
}

// TestRoundDefault: round defaults to 1 when absent.
func TestRoundDefault(t *testing.T) {
	t.Parallel()
	if c := loadOne(t, withBase()); c.Round != 1 {
		t.Errorf("Round = %d, want 1", c.Round)
	}
	if c := loadOne(t, withBase(`round: 7`)); c.Round != 7 {
		t.Errorf("Round = %d, want 7", c.Round)
	}
}

// TestFieldsDecoded checks that every option is read as written.
func TestFieldsDecoded(t *testing.T) {
	t.Parallel()
	c := loadOne(t, withBase(
		`tracking: {track: SMS, type: One_Time_Pin}`,
		`send_at: 2026-12-01T09:00:00Z`,
		`validity_period: 15m`,
		`delivery_window: {days: [MONDAY, TUESDAY], from: "09:00", to: "17:00"}`,
		`speed_limit: {amount: 100, time_unit: MINUTE}`,
		`notify_url: https://example.com/dlr`,
		`callback_data: "campaign=c1"`,
		`labels: {team: growth}`,
	))
	if c.ID != "c1" || c.From != "InfoSMS" || c.DefaultRegion != "CH" {
		t.Errorf("id, from, default_region = %q, %q, %q", c.ID, c.From, c.DefaultRegion)
	}
	if got := c.TrackingLabel(); got != "SMS/One_Time_Pin" {
		t.Errorf("TrackingLabel() = %q", got)
	}
	if got, want := c.SendTime(), time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("SendTime() = %v, want %v", got, want)
	}
	if got := c.Validity(); got != 15*time.Minute {
		t.Errorf("Validity() = %v", got)
	}
	if w := c.DeliveryWindow; w == nil || !slices.Equal(w.Days, []string{"MONDAY", "TUESDAY"}) || w.From != "09:00" || w.To != "17:00" {
		t.Errorf("DeliveryWindow = %+v", w)
	}
	if s := c.SpeedLimit; s == nil || s.Amount != 100 || s.TimeUnit != "MINUTE" {
		t.Errorf("SpeedLimit = %+v", s)
	}
	if c.NotifyURL != "https://example.com/dlr" || c.CallbackData != "campaign=c1" || c.Labels["team"] != "growth" {
		t.Errorf("notify_url, callback_data, labels = %q, %q, %v", c.NotifyURL, c.CallbackData, c.Labels)
	}
	if c.Line("validity_period") != 10 || c.Line("tracking.type") != 8 || c.Line("no_such_field") != 1 {
		t.Errorf("Line(validity_period, tracking.type, no_such_field) = %d, %d, %d; want 10, 8, 1",
			c.Line("validity_period"), c.Line("tracking.type"), c.Line("no_such_field"))
	}

	bare := loadOne(t, withBase())
	if bare.TrackingLabel() != "" || !bare.SendTime().IsZero() || bare.Validity() != 0 {
		t.Errorf("unset options: TrackingLabel %q, SendTime %v, Validity %v", bare.TrackingLabel(), bare.SendTime(), bare.Validity())
	}
}

// TestCheckSendAt covers the plan-time rule on send_at.
func TestCheckSendAt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		sendAt string
		want   string // "" for no problem
	}{
		{"", ""},
		{"2026-06-01T12:00:00Z", ""},
		{"2026-06-02T00:00:00Z", ""},
		{"2026-11-28T12:00:00Z", ""}, // exactly 180 days ahead
		{"2026-06-01T11:59:59Z", "is in the past"},
		{"2026-11-28T12:00:01Z", "is more than 180 days ahead"},
	} {
		extra := []string{}
		if tc.sendAt != "" {
			extra = append(extra, `send_at: "`+tc.sendAt+`"`)
		}
		c := loadOne(t, withBase(extra...))
		p := c.CheckSendAt(now)
		switch {
		case tc.want == "" && p != nil:
			t.Errorf("send_at %q: unexpected problem %v", tc.sendAt, p)
		case tc.want != "" && p == nil:
			t.Errorf("send_at %q: no problem, want %q", tc.sendAt, tc.want)
		case tc.want != "" && (p.Line != 8 || p.Field != "send_at" || p.File != c.File || !strings.Contains(p.Msg, tc.want)):
			t.Errorf("send_at %q: problem %v, want %s:8: send_at: ...%s...", tc.sendAt, p, c.File, tc.want)
		}
	}
}

// TestSpeedLimitZeroWording: amount 0 is a value the user wrote, not a missing one.
func TestSpeedLimitZeroWording(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, withBase(`speed_limit: {amount: 0, time_unit: MINUTE}`))
	_, err := campaign.Load(dir)
	checkProblems(t, dir, err, []want{{"c.yaml", 8, "speed_limit.amount", "must be at least 1"}})
}

// TestDestinationToMissing: a destination without `to` is one problem at its own line.
func TestDestinationToMissing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, doc(
		`id: c1`,
		`from: InfoSMS`,
		`text: Hi`,
		`destinations:`,
		`  - to: "+41793026731"`,
		`  - vars: {name: Ann}`, // 6
	))
	_, err := campaign.Load(dir)
	checkProblems(t, dir, err, []want{{"c.yaml", 6, "destinations[1].to", "is required"}})
}

// TestFractionWrongType: a fraction where a whole number is expected is the wrong type,
// not silently truncated (yaml.v3 decodes 1.5 into an int as 1).
func TestFractionWrongType(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, withBase(
		`round: 1.5`,
		`speed_limit: {amount: 99.9, time_unit: MINUTE}`,
	))
	_, err := campaign.Load(dir)
	checkProblems(t, dir, err, []want{
		{"c.yaml", 8, "round", "wrong type"},
		{"c.yaml", 9, "speed_limit.amount", "wrong type"},
	})
}

// TestWrongTypeNoCascade: a value of the wrong type is one problem, not also every
// required field inside it, nor the same problem twice.
func TestWrongTypeNoCascade(t *testing.T) {
	t.Parallel()
	var bugs []string
	for _, tc := range []struct {
		files map[string]string
		want  want
	}{
		{withBase(`tracking: SMS`), want{"c.yaml", 8, "tracking", "wrong type"}},
		{withBase(`delivery_window: MONDAY`), want{"c.yaml", 8, "delivery_window", "wrong type"}},
		{withBase(`speed_limit: 100`), want{"c.yaml", 8, "speed_limit", "wrong type"}},
		{withBase(`speed_limit: {amount: x, time_unit: DAY}`), want{"c.yaml", 8, "speed_limit.amount", "wrong type"}},
		{doc(`id: c1`, `from: InfoSMS`, `text: Hi`, `destinations_file: r.csv`, `destinations: ["+41793026731", "+41793026732"]`),
			want{"c.yaml", 5, "destinations", "wrong type"}},
	} {
		dir := t.TempDir()
		writeFiles(t, dir, tc.files)
		writeFiles(t, dir, map[string]string{"r.csv": "to\n+41793026733\n"})
		_, err := campaign.Load(dir)
		ve := validationError(t, err)
		if len(ve.Problems) != 1 || !matches(dir, ve.Problems[0], tc.want) {
			bugs = append(bugs, fmt.Sprintf("%q gives:\n%v", strings.Split(tc.files["c.yaml"], "\n")[tc.want.Line-1], err))
		}
	}
	if len(bugs) > 0 {
		t.Errorf("a wrong type is reported with extra problems, or on the wrong field:\n%s", strings.Join(bugs, "\n"))
	}
}

// TestDuplicateIDStillValidated: a campaign whose id is taken is still checked, so all
// its problems come at once rather than after the id is fixed.
func TestDuplicateIDStillValidated(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.yaml": lines(`id: same`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`),
		"b.yaml": lines(`id: same`, `from: InfoSMS`, `text: Hi`, `destinations_file: b.csv`),
		"b.csv":  lines(`to`, `12345`),
	})
	_, err := campaign.Load(dir)
	checkProblems(t, dir, err, []want{
		{"b.csv", 2, "to", `"12345" has no country code`},
		{"b.yaml", 1, "id", "already defined at $DIR/a.yaml:1"},
	})
}

// TestDuplicateKey: a key written twice in one mapping is one problem naming both lines;
// the other fields are still read (yaml.v3 gives up on the whole mapping).
func TestDuplicateKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, doc(
		`id: c1`,
		`from: InfoSMS`,
		`text: Hi`,
		`destinations: [{to: "+41793026731"}]`,
		`id: c2`, // 5
	))
	_, err := campaign.Load(dir)
	checkProblems(t, dir, err, []want{{"c.yaml", 5, "id", "written twice (first at line 1)"}})
}

// TestYAMLErrorWithoutLine: a YAML error that yaml.v3 reports without a line (such as a
// control character in a quoted text) still says where it is.
func TestYAMLErrorWithoutLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, doc(`id: c1`, `from: InfoSMS`, "text: \"a\x01b\"", `destinations: [{to: "+41793026731"}]`))
	_, err := campaign.Load(dir)
	checkProblems(t, dir, err, []want{{"c.yaml", 3, "", "control characters are not allowed"}})
}

// TestCSVHeaderToTwice: a second `to` column is as wrong as any other repeated column.
func TestCSVHeaderToTwice(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, withCSV("Hi {{.name}}", lines(`to,name,to`, `+41 79 302 67 31,Ann,+41 79 302 67 32`)))
	_, err := campaign.Load(dir)
	checkProblems(t, dir, err, []want{{"recipients.csv", 1, "to", "named twice"}})
}

// TestCSVBOMQuotedHeader: a BOM before a quoted header (as some spreadsheet exports write
// it) is handled like a BOM before a plain one.
func TestCSVBOMQuotedHeader(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, withCSV("Hi {{.name}}", "\uFEFF"+lines(`"to","name"`, `"+41 79 302 67 31","Ann"`)))
	c := mustLoad(t, dir).Campaigns[0]
	if c.Recipients.Len() != 1 {
		t.Fatalf("%d recipients, want 1", c.Recipients.Len())
	}
	r := c.Recipients.At(0)
	if got := r.Vars.Map(map[string]string{}); r.To != "+41793026731" || len(got) != 1 || got["name"] != "Ann" {
		t.Errorf("recipient %s with vars %v, want +41793026731 with name=Ann (the BOM and quotes gone from the header)", r.To, got)
	}
	text, err := c.NewRenderer().Render(r)
	if err != nil || text != "Hi Ann" {
		t.Errorf("Render = %q, %v; want \"Hi Ann\"", text, err)
	}
}

// TestCSVPathRelativeToYAML: destinations_file is resolved against the YAML file's
// directory, whatever the working directory.
func TestCSVPathRelativeToYAML(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"campaigns/otp/c.yaml":        lines(`id: c1`, `from: InfoSMS`, `text: "Hi {{.name}}"`, `destinations_file: data/r.csv`),
		"campaigns/otp/data/r.csv":    lines(`to,name`, `+41 79 302 67 31,Ann`),
		"elsewhere/data/r.csv":        lines(`to,name`, `+41 79 302 67 99,Wrong`),
		"elsewhere/otp/data/r.csv":    lines(`to,name`, `+41 79 302 67 98,Wrong`),
		"campaigns/other/.gitkeep":    "",
		"campaigns/otp/data/.gitkeep": "",
	})
	for _, cwd := range []string{filepath.Join(root, "elsewhere"), root} {
		t.Chdir(cwd)
		rel, err := filepath.Rel(cwd, filepath.Join(root, "campaigns"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{rel, filepath.Join(root, "campaigns")} {
			set := mustLoad(t, path)
			c := set.Campaigns[0]
			if c.Recipients.Len() != 1 || c.Recipients.At(0).To != "+41793026731" {
				t.Errorf("cwd %s, Load(%s): recipients %+v, want +41793026731 from campaigns/otp/data/r.csv", cwd, path, c.Recipients)
			}
			if want := filepath.Join(path, "otp", "data", "r.csv"); c.CSVFile != want {
				t.Errorf("cwd %s, Load(%s): CSVFile = %s, want %s", cwd, path, c.CSVFile, want)
			}
		}
	}
}

// TestCSVNamedByManyCampaigns: campaigns naming one destinations_file (by any path) each
// get its rows as if they alone had read it, prepared for their own region and text; a
// problem of the file itself is reported once, a problem of a campaign's own for it.
func TestCSVNamedByManyCampaigns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	camp := func(id, region, text, file string, extra ...string) string {
		return lines(append([]string{`id: ` + id, `from: InfoSMS`, `text: "` + text + `"`, `default_region: ` + region, `destinations_file: ` + file}, extra...)...)
	}
	writeFiles(t, dir, map[string]string{
		"a.yaml":     camp("a", "CH", "Hi {{.name}}", "r.csv", `destinations: [{to: "+41793026739", vars: {name: Zoe, city: Genf}}]`),
		"b.yaml":     camp("b", "CH", "Hallo {{.name}}, {{.city}}", "./r.csv"),
		"sub/c.yaml": camp("c", "CH", "Ciao", "../r.csv"),
		"r.csv":      lines(`to,name,city`, `+41793026731,Ann,Bern`, `0793026733,Cid,Chur`),
	})
	set := mustLoad(t, dir)
	a, b, c := set.Find("a"), set.Find("b"), set.Find("c")
	if a.Recipients.Len() != 3 || a.Recipients.At(0).FromCSV || a.Recipients.At(0).To != "+41793026739" {
		t.Fatalf("campaign a: recipients %+v, want its inline one first, then the CSV's two", a.Recipients)
	}
	for _, cp := range []*campaign.Campaign{a, b, c} {
		skip := 0 // campaign a's inline recipient
		if cp == a {
			skip = 1
		}
		if got := cp.Recipients.Len() - skip; got != 2 {
			t.Fatalf("campaign %s: %d recipients, want 2", cp.ID, got)
		}
		for i, want := range []struct {
			to   string
			line int32
			vars string
		}{{"+41793026731", 2, "Ann Bern"}, {"+41793026733", 3, "Cid Chur"}} {
			r := cp.Recipients.At(skip + i)
			if r.To != want.to || r.Line != want.line || !r.FromCSV || strings.Join(r.Vars.Values(), " ") != want.vars {
				t.Errorf("campaign %s recipient %d: %s line %d vars %q, want %s line %d vars %q", cp.ID, i, r.To, r.Line, r.Vars.Values(), want.to, want.line, want.vars)
			}
		}
	}
	if a.Recipients.At(2).Hash == b.Recipients.At(1).Hash || b.Recipients.At(1).Hash == c.Recipients.At(1).Hash {
		t.Error("campaigns with different texts got the same text hash for one row")
	}
	if c.CSVFile != filepath.Join(dir, "r.csv") {
		t.Errorf("campaign c: CSVFile %s", c.CSVFile)
	}
}

// TestCSVAbsolutePath: an absolute destinations_file is used as is when it is inside the
// campaign root.
func TestCSVAbsolutePath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"r.csv":  lines(`to`, `+41 79 302 67 31`),
		"c.yaml": lines(`id: c1`, `from: InfoSMS`, `text: Hi`, `destinations_file: `+filepath.Join(dir, "r.csv")),
	})
	c := mustLoad(t, dir).Campaigns[0]
	if c.CSVFile != filepath.Join(dir, "r.csv") || c.Recipients.Len() != 1 {
		t.Errorf("CSVFile %s, %d recipients", c.CSVFile, c.Recipients.Len())
	}
}

// TestLoadWalk: directories are walked recursively for *.yaml and *.yml; hidden
// directories, other extensions and .smsformignore patterns are skipped.
func TestLoadWalk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	valid := func(id string) string {
		return lines(`id: `+id, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`)
	}
	broken := "this: [is not loaded\n"
	writeFiles(t, dir, map[string]string{
		"a.yaml":               valid("a"),
		"sub/b.yml":            valid("b"),
		"sub/deep/c.yaml":      valid("c"),
		"notes.txt":            broken,
		"sub/config.json":      broken,
		"README.md":            broken,
		"x.yaml.bak":           broken,
		".hidden/d.yaml":       broken,
		"sub/.git/e.yaml":      broken,
		".hidden.yaml":         broken,
		"ci/workflow.yml":      broken,
		"draft.draft.yaml":     broken,
		"sub/ci/f.yaml":        valid("f"), // `ci/` is relative to the ignore file's directory
		"sub/skipme.yaml":      broken,
		"sub/deep/skipme.yaml": valid("g"), // sub's pattern does not reach into sub/deep
		IgnoreFileFor(""):      lines(`# comment`, ``, `ci/`, `*.draft.yaml`),
		IgnoreFileFor("sub"):   lines(`skipme.yaml`),
		"other/ci.yaml":        valid("h"),
	})
	set := mustLoad(t, dir)
	var got []string
	for _, f := range set.Files {
		rel, _ := filepath.Rel(dir, f)
		got = append(got, filepath.ToSlash(rel))
	}
	want := []string{"a.yaml", "other/ci.yaml", "sub/b.yml", "sub/ci/f.yaml", "sub/deep/c.yaml", "sub/deep/skipme.yaml"}
	if !slices.Equal(got, want) {
		t.Errorf("Files = %q, want %q", got, want)
	}
	var ids []string
	for _, c := range set.Campaigns {
		ids = append(ids, c.ID)
	}
	if want := []string{"a", "b", "c", "f", "g", "h"}; !slices.Equal(ids, want) {
		t.Errorf("ids = %q, want %q", ids, want)
	}
}

// IgnoreFileFor is the ignore file's name in dir (relative, slash-separated).
func IgnoreFileFor(dir string) string {
	if dir == "" {
		return campaign.IgnoreFile
	}
	return dir + "/" + campaign.IgnoreFile
}

// TestLoadIgnoreDirPatternNested: a directory pattern in a nested directory's ignore file.
func TestLoadIgnoreDirPatternNested(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.yaml":                      lines(`id: a`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`),
		"team/wip/b.yaml":             "broken: [\n",
		"team/" + campaign.IgnoreFile: "wip/\n",
	})
	set := mustLoad(t, dir)
	if len(set.Files) != 1 {
		t.Errorf("Files = %q, want only a.yaml", set.Files)
	}
}

// TestLoadIgnoreRootSpelling: the root's ignore file applies however the root is spelt
// (a trailing slash, as shell completion adds, or a leading ./).
func TestLoadIgnoreRootSpelling(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"campaigns/a.yaml":                 lines(`id: a`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`),
		"campaigns/ci/workflow.yml":        "on: [push]\njobs: {}\n",
		"campaigns/" + campaign.IgnoreFile: "ci/\n",
	})
	t.Chdir(root)
	var bug []string
	for _, path := range []string{"campaigns", filepath.Join(root, "campaigns"), "campaigns/", "./campaigns", filepath.Join(root, "campaigns") + "/"} {
		_, err := campaign.Load(path)
		switch {
		case err != nil && (strings.HasSuffix(path, "/") || strings.HasPrefix(path, "./")):
			bug = append(bug, fmt.Sprintf("Load(%q): %s", path, firstLine(err)))
		case err != nil:
			t.Errorf("Load(%q): %v", path, err)
		}
	}
	if len(bug) > 0 {
		t.Errorf("the root's %s is not read when the root is not a clean path:\n%s", campaign.IgnoreFile, strings.Join(bug, "\n"))
	}
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// TestLoadExplicitFile: a file path is loaded as is, whatever its name, and the rest of
// its directory is not.
func TestLoadExplicitFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.yaml":    lines(`id: a`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`),
		"b.yaml":    "broken: [\n",
		"c.txt":     lines(`id: c`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`),
		"sub/d.yml": lines(`id: d`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`),
	})
	set := mustLoad(t, filepath.Join(dir, "a.yaml"), filepath.Join(dir, "c.txt"), filepath.Join(dir, "sub"))
	want := []string{filepath.Join(dir, "a.yaml"), filepath.Join(dir, "c.txt"), filepath.Join(dir, "sub", "d.yml")}
	if !slices.Equal(set.Files, want) {
		t.Errorf("Files = %q, want %q", set.Files, want)
	}
	// The same file named twice is read once.
	set = mustLoad(t, filepath.Join(dir, "a.yaml"), filepath.Join(dir, "a.yaml"))
	if len(set.Campaigns) != 1 {
		t.Errorf("a file named twice: %d campaigns, want 1", len(set.Campaigns))
	}
}

// TestLoadNothing: no campaign files, or a missing path, is an error but not a
// ValidationError.
func TestLoadNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"README.md": "hi\n", ".hidden/a.yaml": "id: a\n"})
	_, err := campaign.Load(dir)
	var ve *campaign.ValidationError
	if err == nil || errors.As(err, &ve) || !strings.Contains(err.Error(), "no *.yaml or *.yml campaign files under "+dir) {
		t.Errorf("empty directory: error %v", err)
	}
	_, err = campaign.Load(filepath.Join(dir, "missing"))
	if err == nil || errors.As(err, &ve) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing path: error %v, want one wrapping os.ErrNotExist", err)
	}
}

// TestLoadDefaultPath: without paths Load reads the working directory.
func TestLoadDefaultPath(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, withBase())
	t.Chdir(dir)
	set := mustLoad(t)
	if len(set.Campaigns) != 1 || set.Files[0] != "c.yaml" {
		t.Errorf("Load(): files %q", set.Files)
	}
}

// TestLoadSortedByID: campaigns come sorted by id, whatever the files' order; Find finds
// them.
func TestLoadSortedByID(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := func(id string) string {
		return lines(`id: `+id, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`)
	}
	writeFiles(t, dir, map[string]string{
		"a.yaml": c("zulu") + "---\n" + c("mike"),
		"b.yaml": c("alpha"),
		"c.yaml": c("kilo") + "---\n" + c("bravo") + "---\n",
	})
	set := mustLoad(t, dir)
	var ids []string
	for _, c := range set.Campaigns {
		ids = append(ids, c.ID)
	}
	if want := []string{"alpha", "bravo", "kilo", "mike", "zulu"}; !slices.Equal(ids, want) {
		t.Errorf("ids = %q, want %q", ids, want)
	}
	if c := set.Find("kilo"); c == nil || c.File != filepath.Join(dir, "c.yaml") || c.Line("id") != 1 {
		t.Errorf("Find(kilo) = %+v", c)
	}
	if c := set.Find("bravo"); c == nil || c.Line("id") != 6 {
		t.Errorf("Find(bravo) = %+v, want line 6", c)
	}
	for _, id := range []string{"", "a", "zz", "lima"} {
		if c := set.Find(id); c != nil {
			t.Errorf("Find(%q) = %s, want nil", id, c.ID)
		}
	}
}

// TestDigest: the digest changes with any byte of a YAML or CSV file and is stable
// otherwise.
func TestDigest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := withCSV("Hi {{.name}}", lines(`to,name`, `+41 79 302 67 31,Ann`, `+41 79 302 67 32,Ben`))
	writeFiles(t, dir, files)
	d0 := mustLoad(t, dir).Digest
	if len(d0) != 64 {
		t.Errorf("Digest = %q, want 64 hex digits", d0)
	}
	if d := mustLoad(t, dir).Digest; d != d0 {
		t.Errorf("Digest not stable: %s then %s", d0, d)
	}
	writeFiles(t, dir, map[string]string{"recipients.csv": strings.Replace(files["recipients.csv"], "Ben", "Bem", 1)})
	d1 := mustLoad(t, dir).Digest
	if d1 == d0 {
		t.Errorf("Digest unchanged after a CSV byte changed")
	}
	writeFiles(t, dir, map[string]string{"recipients.csv": files["recipients.csv"] + "+41 79 302 67 33,Cem\n"})
	if d := mustLoad(t, dir).Digest; d == d0 || d == d1 {
		t.Errorf("Digest unchanged after a CSV row was added")
	}
	writeFiles(t, dir, files)
	if d := mustLoad(t, dir).Digest; d != d0 {
		t.Errorf("Digest after restoring the files = %s, want %s", d, d0)
	}
	writeFiles(t, dir, map[string]string{"c.yaml": files["c.yaml"] + "# a comment\n"})
	if d := mustLoad(t, dir).Digest; d == d0 {
		t.Errorf("Digest unchanged after a YAML byte changed")
	}
}

// TestMaxProblems: problems beyond MaxProblems are counted, not kept.
func TestMaxProblems(t *testing.T) {
	t.Parallel()
	const bad = 500
	var b strings.Builder
	b.WriteString("to,name\n")
	for range bad {
		b.WriteString("12345,Ann\n")
	}
	dir := t.TempDir()
	writeFiles(t, dir, withCSV("Hi {{.name}}", b.String()))
	_, err := campaign.Load(dir)
	ve := validationError(t, err)
	if len(ve.Problems) != campaign.MaxProblems || ve.Dropped != bad-campaign.MaxProblems || ve.Count() != bad {
		t.Fatalf("len(Problems) = %d, Dropped = %d, Count() = %d; want %d, %d, %d",
			len(ve.Problems), ve.Dropped, ve.Count(), campaign.MaxProblems, bad-campaign.MaxProblems, bad)
	}
	for i, p := range ve.Problems {
		if p.File != filepath.Join(dir, "recipients.csv") || p.Line != i+2 || p.Field != "to" {
			t.Fatalf("problem %d = %v, want recipients.csv:%d: to: ...", i, p, i+2)
		}
	}
	if want := "\n... and 300 more problems (`smsform validate -all` lists every one, `-json` too)"; !strings.HasSuffix(err.Error(), want) {
		t.Errorf("Error() ends with %q, want %q", err.Error()[len(err.Error())-90:], want)
	}
	// With AllProblems, every one is listed.
	_, err = campaign.LoadWith(campaign.Options{AllProblems: true}, dir)
	ve = validationError(t, err)
	if len(ve.Problems) != bad || ve.Dropped != 0 || strings.Contains(err.Error(), "more problems") {
		t.Fatalf("AllProblems: len(Problems) = %d, Dropped = %d; want %d, 0", len(ve.Problems), ve.Dropped, bad)
	}
	for i, p := range ve.Problems {
		if p.Line != i+2 {
			t.Fatalf("AllProblems: problem %d at line %d, want %d", i, p.Line, i+2)
		}
	}
}

// TestLoadSendAtNow: with Options.Now, send_at too far ahead is a problem and one in the
// past a warning: a campaign sent on schedule stays in git.
func TestLoadSendAtNow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"past.yaml": lines(`id: past`, `from: InfoSMS`, `text: Hi`, `send_at: 2020-01-01T00:00:00Z`, `destinations: [{to: "+41793026731"}]`),
		"far.yaml":  lines(`id: far`, `from: InfoSMS`, `text: Hi`, `send_at: 2027-12-01T00:00:00Z`, `destinations: [{to: "+41793026731"}]`),
		"ok.yaml":   lines(`id: ok`, `from: InfoSMS`, `text: Hi`, `send_at: 2026-12-02T00:00:00Z`, `destinations: [{to: "+41793026731"}]`),
	})
	mustLoad(t, dir) // without Now, send_at is left to plan
	_, err := campaign.LoadWith(campaign.Options{Now: now}, dir)
	checkProblems(t, dir, err, []want{
		{"far.yaml", 4, "send_at", "is more than 180 days ahead"},
	})
	if err := os.Remove(filepath.Join(dir, "far.yaml")); err != nil {
		t.Fatal(err)
	}
	set, err := campaign.LoadWith(campaign.Options{Now: now}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Warnings) != 1 || !matches(dir, set.Warnings[0], want{"past.yaml", 4, "send_at", "is in the past"}) {
		t.Errorf("Warnings = %v, want past.yaml:4: send_at: ...is in the past...", set.Warnings)
	}
}

// TestLoadReservesWithoutChangingAnything: a CSV long enough for Load to reserve room from
// its first chunk gives the same recipients, in file order, and still finds a number
// written both inline and (with other vars) in the CSV, and a repeat within the CSV.
func TestLoadReservesWithoutChangingAnything(t *testing.T) {
	const n = 5000
	var csv strings.Builder
	csv.WriteString("to,name\n")
	for i := range n {
		fmt.Fprintf(&csv, "+4179%07d,N%d\n", i, i)
	}
	fmt.Fprintf(&csv, "+4179%07d,N%d\n", 4321, 4321) // the same again: sent once
	good := loadOne(t, map[string]string{
		"c.yaml": lines(`id: c1`, `from: Shop`, `text: "Hi {{.name}}"`, `destinations_file: r.csv`),
		"r.csv":  csv.String(),
	})
	if good.Recipients.Len() != n {
		t.Fatalf("%d recipients, want %d", good.Recipients.Len(), n)
	}
	for i, r := range good.Recipients.All() {
		if want := fmt.Sprintf("+4179%07d", i); r.To != want || int(r.Line) != i+2 {
			t.Fatalf("recipient %d = %s at line %d, want %s at line %d", i, r.To, r.Line, want, i+2)
		}
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"c.yaml": lines(`id: c1`, `from: Shop`, `text: "Hi {{.name}}"`, `destinations_file: r.csv`,
			`destinations: [{to: "+41790004321", vars: {name: Inline}}]`),
		"r.csv": csv.String(),
	})
	_, err := campaign.Load(dir)
	checkProblems(t, dir, err, []want{
		{"r.csv", 4323, "to", "+41790004321 is also at $DIR/c.yaml:5 with different vars"},
		{"r.csv", n + 2, "to", "+41790004321 is also at $DIR/c.yaml:5 with different vars"},
	})
}
