package campaign

import (
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// textSource is the text as written in its file, for the text's styles in which each of its
// lines is one line of the file: a literal block (text: |) or a text on one line. A folded
// or quoted text over several lines joins lines, so a position in it has no single place
// in the file.
type textSource struct {
	line  int      // the file line of the text's first line
	lines []string // the file's lines holding the text, as written
	// indent is, for a literal block, the spaces before each text line (its indentation);
	// nil for a text on one line.
	indent []int
	start  int // on one line: the byte offset where the value starts
}

// textSourceOf finds the text's lines among the file's lines; nil when they cannot be found
// exactly.
func textSourceOf(root *yaml.Node, fileLines [][]byte, text string) *textSource {
	var v *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "text" && root.Content[i+1].Kind == yaml.ScalarNode {
			v = root.Content[i+1]
		}
	}
	if v == nil || text == "" {
		return nil
	}
	lineAt := func(n int) (string, bool) { // 1-based
		if n < 1 || n > len(fileLines) {
			return "", false
		}
		return strings.TrimSuffix(string(fileLines[n-1]), "\r"), true
	}
	textLines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	switch {
	case v.Style&yaml.LiteralStyle != 0:
		src := &textSource{line: v.Line + 1}
		for i, tl := range textLines {
			raw, ok := lineAt(v.Line + 1 + i)
			if !ok || !strings.HasSuffix(raw, tl) || strings.TrimLeft(raw[:len(raw)-len(tl)], " ") != "" {
				return nil
			}
			src.lines = append(src.lines, raw)
			src.indent = append(src.indent, len(raw)-len(tl))
		}
		return src
	case len(textLines) == 1:
		raw, ok := lineAt(v.Line)
		if !ok {
			return nil
		}
		start := 0 // v.Column counts characters from 1
		for col := 1; col < v.Column && start < len(raw); col++ {
			_, size := utf8.DecodeRuneInString(raw[start:])
			start += size
		}
		return &textSource{line: v.Line, lines: []string{raw}, start: start}
	}
	return nil
}

// position returns the file line and column (in characters, from 1) of the character r
// found at line and col (from 1) of the text; ok is false when the file does not hold it
// there as written (an escape such as \u2019 in a quoted text).
func (s *textSource) position(r rune, line, col int) (fileLine, fileCol int, ok bool) {
	if s == nil || line < 1 || line > len(s.lines) {
		return 0, 0, false
	}
	raw := s.lines[line-1]
	if s.indent != nil {
		// The text line is raw after its indentation: column col of the text is the
		// character col places past it.
		at := s.indent[line-1]
		for n := 1; n < col && at < len(raw); n++ {
			_, size := utf8.DecodeRuneInString(raw[at:])
			at += size
		}
		if got, _ := utf8.DecodeRuneInString(raw[at:]); got != r {
			return 0, 0, false
		}
		return s.line + line - 1, utf8.RuneCountInString(raw[:at]) + 1, true
	}
	i := strings.IndexRune(raw[s.start:], r)
	if i < 0 {
		return 0, 0, false
	}
	return s.line, utf8.RuneCountInString(raw[:s.start+i]) + 1, true
}

// fileLine is the file line of line (from 1) of a text written as a literal block.
func (s *textSource) fileLine(line int) (int, bool) {
	if s == nil || s.indent == nil || line < 1 || line > len(s.lines) {
		return 0, false
	}
	return s.line + line - 1, true
}
