package runner

import (
	"strings"
	"testing"
)

func TestMdInline(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text, 20% off", "plain text, 20% off"},
		{"a | b", `a \| b`},
		{"<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"},
		{"&lt; &#64;", "&amp;lt; &amp;#&#8203;64;"},
		{"@org/team", "@&#8203;org/team"},
		{"#12 and org/repo#3", "#&#8203;12 and org/repo#&#8203;3"},
		{"GH-7", "GH-&#8203;7"},
		{"[click](https://evil.example)", `\[click\](https:&#8203;//evil.example)`},
		{"www.evil.example", "www&#8203;.evil.example"},
		{"*bold* _it_ ~~del~~ `code` $x$ \\", "\\*bold\\* \\_it\\_ \\~\\~del\\~\\~ \\`code\\` \\$x\\$ \\\\"},
		{"line\nbreak\r\x1b[2J", `line\\nbreak\\r\\x1b\[2J`},
		{"::error::x", `\\x3a:error::x`},
		{"\u202eevil", `\\u202eevil`},
	}
	for _, tt := range tests {
		if got := mdInline(tt.in); got != tt.want {
			t.Errorf("mdInline(%q) =\n%q, want\n%q", tt.in, got, tt.want)
		}
	}
}

func TestMdCode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Hi Ann", "```text\nHi Ann\n```\n"},
		{"two\nlines", "```text\ntwo\nlines\n```\n"},
		// A fence in the text cannot end the block: the block's fence is longer.
		{"a\n```\n# not a heading", "````text\na\n```\n# not a heading\n````\n"},
		{"````` five", "``````text\n````` five\n``````\n"},
		{"::warning::x\n\x1b[31mred", "```text\n\\x3a:warning::x\n\\x1b[31mred\n```\n"},
	}
	for _, tt := range tests {
		if got := mdCode(tt.in); got != tt.want {
			t.Errorf("mdCode(%q) =\n%q, want\n%q", tt.in, got, tt.want)
		}
	}
}

func TestMarkdownDocBound(t *testing.T) {
	d := newMarkdownDoc(2000)
	d.must("## title\n\n")
	added := 0
	for d.add(strings.Repeat("x", 99) + "\n") {
		added++
	}
	d.cutCampaigns = 7
	d.finish()
	out := d.b.String()
	if len(out) > 2000 || added == 0 {
		t.Fatalf("%d bytes after %d lines, want at most 2000", len(out), added)
	}
	if !strings.HasSuffix(out, "**Cut to fit a comment:** the details of 7 campaigns left out. `smsform plan -verbose` lists every campaign and message.\n") {
		t.Errorf("the note is missing:\n%s", out[len(out)-300:])
	}
}
