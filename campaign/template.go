package campaign

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
)

// A campaign text is a Go text/template, but a small one: vars, conditionals and a few
// formatting functions. Loops and template definitions are refused, because a text from an
// unreviewed pull request could otherwise loop for hours ({{range 100000}}...) before the
// size check; rendering writes into a buffer that stops at MaxTextBytes, and the functions
// that build a string before writing it check their size first.

// templateFuncs are the only functions a text may call. The formatting ones replace
// text/template's built-ins with versions that refuse to build a string far over the limit.
var templateFuncs = template.FuncMap{
	"print":    func(args ...any) (string, error) { return bounded(1, fmt.Sprint, args) },
	"println":  func(args ...any) (string, error) { return bounded(1, fmt.Sprintln, args) },
	"printf":   boundedPrintf,
	"html":     func(args ...any) (string, error) { return bounded(6, template.HTMLEscaper, args) },
	"js":       func(args ...any) (string, error) { return bounded(6, template.JSEscaper, args) },
	"urlquery": func(args ...any) (string, error) { return bounded(3, template.URLQueryEscaper, args) },
}

// allowedFuncs are the built-ins kept as they are: comparisons, logic, len, index, slice.
var allowedFuncs = map[string]bool{
	"and": true, "or": true, "not": true, "eq": true, "ne": true, "lt": true, "le": true,
	"gt": true, "ge": true, "len": true, "index": true, "slice": true,
}

// maxFuncOutput bounds what one function call may build; the rendered text must fit in
// MaxTextBytes anyway.
const maxFuncOutput = 4 * MaxTextBytes

var errFuncTooLong = fmt.Errorf("a function would write more than %d bytes", maxFuncOutput)

// bounded runs f over args if its output, at most grow times the arguments' length, stays
// under maxFuncOutput.
func bounded(grow int, f func(...any) string, args []any) (string, error) {
	n := 0
	for _, a := range args {
		n += argLen(a) * grow
		if n > maxFuncOutput {
			return "", errFuncTooLong
		}
	}
	return f(args...), nil
}

// argLen is the length of an argument as printed: vars are strings; anything else (a
// number, a bool, the result of len) prints short.
func argLen(a any) int {
	if s, ok := a.(string); ok {
		return len(s) + 2
	}
	return 32
}

// printfVerb finds a verb's width and precision.
var printfVerb = regexp.MustCompile(`%[-+# 0]*(\*|[0-9]*)(?:\.(\*|[0-9]*))?`)

// boundedPrintf is printf whose output is bounded before it is built: fmt accepts widths
// up to a million, and a format may hold many verbs.
func boundedPrintf(format string, args ...any) (string, error) {
	n := len(format)
	for _, m := range printfVerb.FindAllStringSubmatch(format, -1) {
		for _, num := range m[1:] {
			if num == "*" {
				return "", errors.New("printf: a width or precision from an argument (*) is not allowed")
			}
			if w, err := strconv.Atoi(num); err == nil {
				n += w
			} else if num != "" {
				return "", errFuncTooLong
			}
		}
		if n > maxFuncOutput {
			return "", errFuncTooLong
		}
	}
	for _, a := range args {
		n += argLen(a) * 10 // %q writes \U0001f600 for one character
		if n > maxFuncOutput {
			return "", errFuncTooLong
		}
	}
	return fmt.Sprintf(format, args...), nil
}

// parseText parses a campaign text and checks it uses only what a text may: it returns the
// template, or a problem worded for the campaign's author.
func parseText(text string) (*template.Template, string) {
	t, problem, _ := parseTextAt(text)
	return t, problem
}

// parseTextAt is parseText that also says on which line of the text a problem is, when the
// text has several (0 otherwise).
func parseTextAt(text string) (*template.Template, string, int) {
	t, err := template.New("text").Option("missingkey=error").Funcs(templateFuncs).Parse(text)
	if err != nil {
		problem, line := parseProblem(text, err)
		return nil, problem, line
	}
	if len(t.Templates()) > 1 {
		return nil, "{{define}} and {{block}} are not allowed: a text is one template, rendered once per recipient", 0
	}
	var bad string
	badLine := 0
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		if bad != "" || n == nil {
			return
		}
		where := func() string {
			if strings.Contains(text, "\n") {
				badLine = textLine(t.Tree, n)
				return fmt.Sprintf(" (line %d of the text)", badLine)
			}
			return ""
		}
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.RangeNode:
			bad = "{{range}} is not allowed" + where() + ": a text is rendered once per recipient, without loops; use vars and {{if}}"
		case *parse.TemplateNode:
			bad = "{{template}} is not allowed" + where() + ": a text is one template"
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for _, c := range n.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.ChainNode:
			walk(n.Node)
		case *parse.IdentifierNode:
			if _, ok := templateFuncs[n.Ident]; !ok && !allowedFuncs[n.Ident] {
				bad = fmt.Sprintf("the function %q is not allowed%s; a text may use %s", n.Ident, where(), funcList())
			}
		}
	}
	walk(t.Tree.Root)
	if bad != "" {
		return nil, bad, badLine
	}
	return t, "", 0
}

func funcList() string {
	return "and, or, not, eq, ne, lt, le, gt, ge, len, index, slice, print, printf, println, html, js, urlquery"
}

// textLine is the line within the text where n is.
func textLine(tree *parse.Tree, n parse.Node) int {
	loc, _ := tree.ErrorContext(n) // "text:LINE:COL"
	parts := strings.Split(loc, ":")
	if len(parts) >= 2 {
		if l, err := strconv.Atoi(parts[1]); err == nil {
			return l
		}
	}
	return 1
}

var (
	parseErrLine = regexp.MustCompile(`^template: text:(\d+): (.*)$`)
	badCharacter = regexp.MustCompile(`bad character U\+[0-9A-F]+ ('.*')`)
	startedAt    = regexp.MustCompile(`started at text:(\d+)`)
)

// parseProblem turns text/template's parse error ("template: text:1: bad character U+007D
// '}'") into a sentence that says where and what to write instead, and the line of the text
// it is on when the text has several (0 otherwise).
func parseProblem(text string, err error) (string, int) {
	msg := err.Error()
	line := 0
	if m := parseErrLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "template: ")
	}
	msg = badCharacter.ReplaceAllString(msg, "unexpected character $1")
	msg = startedAt.ReplaceAllString(msg, "started on line $1")
	where := ""
	if line > 0 && strings.Contains(text, "\n") {
		where = fmt.Sprintf(" on line %d of the text", line)
	} else {
		line = 0
	}
	return fmt.Sprintf("the template does not parse%s: %s; write a var as {{.name}} and a condition as {{if .name}}...{{end}}", where, msg), line
}

// plainText is a text made only of literal text and {{.var}} actions, the usual campaign
// text. Renderer writes it without text/template, whose reflection was most of the time
// apply spent rendering; anything else, or a var a recipient lacks, goes through the
// template, so both give the same text and the same errors (TestPlainTextAsTemplate).
type plainText []plainPart

// plainPart is literal text, or the value of the var name when name is set.
type plainPart struct {
	text, name string
}

// plainOf returns t's plain form, or nil when t does more than print vars.
func plainOf(t *template.Template) plainText {
	if t == nil || t.Tree == nil || t.Tree.Root == nil {
		return nil
	}
	p := plainText{}
	for _, n := range t.Tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			p = append(p, plainPart{text: string(n.Text)})
		case *parse.ActionNode:
			pipe := n.Pipe
			if pipe == nil || len(pipe.Decl) > 0 || len(pipe.Cmds) != 1 || len(pipe.Cmds[0].Args) != 1 {
				return nil
			}
			f, ok := pipe.Cmds[0].Args[0].(*parse.FieldNode)
			if !ok || len(f.Ident) != 1 {
				return nil
			}
			p = append(p, plainPart{name: f.Ident[0]})
		default:
			return nil
		}
	}
	return p
}
