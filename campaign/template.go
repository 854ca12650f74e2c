package campaign

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
	"unicode"
	"unicode/utf8"
)

// A campaign text is a Go text/template, but a small one: vars, conditionals and a few
// formatting functions. Loops and template definitions are refused, because a text from an
// unreviewed pull request could otherwise loop for hours ({{range 100000}}...) before the
// size check. Without loops every part of a template runs at most once per recipient, so
// the work of one rendering is bounded by bounding the template (maxTemplateBytes, and
// maxCalls of the built-in functions) and what its formatting functions may do (each call
// at most maxFuncOutput bytes, checked before the string is built, and per rendering at most
// maxCalls calls and maxFuncOutput bytes in all); rendering writes into a buffer that stops
// at MaxTextBytes.

// Bounds of a template and of the work of rendering it for one recipient.
const (
	// maxTemplateBytes bounds a text as written. It renders to at most MaxTextBytes, and
	// may hold several versions of itself (one per language, in {{if}} branches), but a
	// template of cheap conditions costs time for every recipient whatever it writes: 1 MB
	// of {{if eq 1 1}}{{end}} took 0.3 s per recipient.
	maxTemplateBytes = 8 * MaxTextBytes
	// maxCalls bounds the calls of functions in one rendering: the built-in ones (eq, len,
	// index...) are counted in the template, where each call runs at most once per
	// recipient; the formatting ones (print, printf...) as they run.
	maxCalls = 100
	// maxFuncOutput bounds what one function call may build, and what the formatting
	// functions write in all in one rendering; the rendered text must fit in MaxTextBytes
	// anyway.
	maxFuncOutput = 4 * MaxTextBytes
)

// templateFuncs are the only functions a text may call, besides allowedFuncs, as the
// parser knows them; each Renderer has its own, bound to the budget of its renderings. The
// formatting ones replace text/template's built-ins with versions that refuse to build a
// string far over the limit.
var templateFuncs = (*budget)(nil).funcs()

// allowedFuncs are the built-ins kept as they are: comparisons, logic, len, index, slice.
var allowedFuncs = map[string]bool{
	"and": true, "or": true, "not": true, "eq": true, "ne": true, "lt": true, "le": true,
	"gt": true, "ge": true, "len": true, "index": true, "slice": true,
}

var (
	errFuncTooLong  = fmt.Errorf("a function would write more than %d bytes", maxFuncOutput)
	errTooManyCalls = fmt.Errorf("the text calls print, printf, println, html, js and urlquery more than %d times for one recipient", maxCalls)
	errTooMuchWork  = fmt.Errorf("the text's functions write more than %d bytes in all for one recipient", maxFuncOutput)
)

// budget is what the formatting functions of one rendering may still do. A nil budget
// bounds each call on its own (the parser's functions, never run).
type budget struct {
	calls, bytes int
}

// reset gives a new rendering its whole budget.
func (b *budget) reset() { *b = budget{calls: maxCalls, bytes: maxFuncOutput} }

// call counts a call.
func (b *budget) call() error {
	if b == nil {
		return nil
	}
	if b.calls--; b.calls < 0 {
		return errTooManyCalls
	}
	return nil
}

// wrote counts what a call wrote.
func (b *budget) wrote(n int) error {
	if b == nil {
		return nil
	}
	if b.bytes -= n; b.bytes < 0 {
		return errTooMuchWork
	}
	return nil
}

// funcs are the formatting functions, counted against b.
func (b *budget) funcs() template.FuncMap {
	return template.FuncMap{
		"print":    func(args ...any) (string, error) { return b.bounded(1, fmt.Sprint, args) },
		"println":  func(args ...any) (string, error) { return b.bounded(1, fmt.Sprintln, args) },
		"printf":   b.printf,
		"html":     func(args ...any) (string, error) { return b.bounded(6, template.HTMLEscaper, args) },
		"js":       func(args ...any) (string, error) { return b.bounded(6, template.JSEscaper, args) },
		"urlquery": func(args ...any) (string, error) { return b.bounded(3, template.URLQueryEscaper, args) },
	}
}

// bounded runs f over args if its output, at most grow times the arguments' length, stays
// under maxFuncOutput, and the budget allows the call.
func (b *budget) bounded(grow int, f func(...any) string, args []any) (string, error) {
	n := 0
	for _, a := range args {
		n += argLen(a) * grow
		if n > maxFuncOutput {
			return "", errFuncTooLong
		}
	}
	if err := b.call(); err != nil {
		return "", err
	}
	s := f(args...)
	return s, b.wrote(len(s))
}

// argLen is at least the length of an argument as printed: vars are strings, and . is the
// map of them; anything else (a number, a bool, the result of len) prints short.
func argLen(a any) int {
	switch a := a.(type) {
	case string:
		return len(a) + 2
	case map[string]string:
		n := len("map[]")
		for k, v := range a {
			n += len(k) + len(v) + 2
		}
		return n
	}
	return 64
}

// printf is fmt.Sprintf whose output is bounded while it is built: fmt accepts widths up
// to a million, a format may hold many verbs, and an argument index (%[1]s) prints one
// argument many times. Every argument goes to fmt wrapped in a printfArg, which fmt asks to
// format itself with the width and precision it worked out, however the verb was written:
// the printfArg adds them up and stops writing past the bound.
func (b *budget) printf(format string, args ...any) (string, error) {
	if err := checkFormat(format, len(args)); err != nil {
		return "", err
	}
	// The format's own text, and what fmt writes for a verb it cannot print
	// ("%!d(MISSING)", "%!(BADINDEX)").
	call := &printfCall{used: len(format) + 16*strings.Count(format, "%")}
	if call.used > maxFuncOutput {
		return "", errFuncTooLong
	}
	wrapped := make([]any, len(args))
	for i, a := range args {
		wrapped[i] = printfArg{v: a, call: call}
	}
	if err := b.call(); err != nil {
		return "", err
	}
	s := fmt.Sprintf(format, wrapped...)
	if call.used > maxFuncOutput {
		return "", errFuncTooLong
	}
	return s, b.wrote(len(s))
}

// printfCall is the tally of one printf call.
type printfCall struct{ used int }

// printfArg is an argument of printf: it formats its value once the call's bound allows
// what the verb may write (its width, its precision, and the value at its longest, as %q
// or %x write it).
type printfArg struct {
	v    any
	call *printfCall
}

func (a printfArg) Format(f fmt.State, verb rune) {
	w, _ := f.Width() // fmt allows at most a million
	p, _ := f.Precision()
	if a.call.used += w + p + argLen(a.v)*10; a.call.used > maxFuncOutput {
		return // printf fails: what is written no longer matters
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), a.v)
}

var (
	errStarWidth = errors.New("printf: a width or precision from an argument (*) is not allowed")
	errGoVerb    = errors.New("printf: %T, %p and %w print Go's types, pointers and errors, not text; use %s or %v")
	errNotVerb   = errors.New("printf: a verb is a letter after %, its flags, width and precision, such as %s, %-10s or %.2f; write % itself as %%")
)

// checkFormat refuses what printf would take from Go rather than from its arguments'
// values: a width or precision from an argument (*), %T, %p and %w (which fmt prints
// without asking the argument to format itself, a printfArg here), a verb that is not a
// letter (which fmt.FormatString cannot write back for a printfArg), and arguments no verb
// prints (fmt would list them with their Go types). It reads the format as fmt does.
func checkFormat(format string, args int) error {
	end := len(format)
	verbs, reordered := 0, false
	// index skips an argument index ([2]) at i; found says it is one, well written.
	index := func(i int) (next int, found bool) {
		if i >= end || format[i] != '[' {
			return i, false
		}
		reordered = true
		for j := i + 1; j < end && end-i >= 3; j++ {
			if format[j] == ']' {
				_, ok, after := parsenum(format, i+1, j)
				return j + 1, ok && after == j
			}
		}
		return i + 1, false
	}
	number := func(i int) int {
		_, _, next := parsenum(format, i, end)
		return next
	}
	for i := 0; i < end; {
		if format[i] != '%' {
			i++
			continue
		}
		i++
		for i < end && strings.IndexByte("#0+- ", format[i]) >= 0 {
			i++
		}
		var after bool
		if i, after = index(i); i < end && format[i] == '*' {
			return errStarWidth
		}
		i = number(i)
		if i+1 < end && format[i] == '.' {
			if i, after = index(i + 1); i < end && format[i] == '*' {
				return errStarWidth
			}
			i = number(i)
		}
		if !after {
			i, _ = index(i)
		}
		if i >= end {
			break // "%!(NOVERB)"
		}
		verb, size := utf8.DecodeRuneInString(format[i:])
		i += size
		switch {
		case verb == '%':
		case verb == 'T' || verb == 'p' || verb == 'w':
			return errGoVerb
		case verb > unicode.MaxASCII || !unicode.IsLetter(verb):
			// fmt.FormatString could not write it back for the printfArg.
			return errNotVerb
		default:
			verbs++
		}
	}
	if !reordered && args > verbs {
		return fmt.Errorf("printf: %d arguments for %d verbs; remove the arguments no verb prints", args, verbs)
	}
	return nil
}

// parsenum is fmt's: it reads a decimal number in s[start:end], and gives up on the rest of
// s (next is end) when it is over a million.
func parsenum(s string, start, end int) (num int, isnum bool, next int) {
	if start >= end {
		return 0, false, end
	}
	for next = start; next < end && '0' <= s[next] && s[next] <= '9'; next++ {
		if num > 1e6 {
			return 0, false, end
		}
		num = num*10 + int(s[next]-'0')
		isnum = true
	}
	return num, isnum, next
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
	if len(text) > maxTemplateBytes {
		return nil, fmt.Sprintf("the template is %d bytes; the limit is %d (%d times the %d bytes a text may render to: room for a version per language), as every recipient's text is rendered from all of it; shorten it, or split the campaign", len(text), maxTemplateBytes, maxTemplateBytes/MaxTextBytes, MaxTextBytes), 0
	}
	t, err := template.New("text").Option("missingkey=error").Funcs(templateFuncs).Parse(text)
	if err != nil {
		problem, line := parseProblem(text, err)
		return nil, problem, line
	}
	if len(t.Templates()) > 1 {
		return nil, "{{define}} and {{block}} are not allowed: a text is one template, rendered once per recipient", 0
	}
	var bad string
	badLine, builtins := 0, 0
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
			if allowedFuncs[n.Ident] {
				builtins++
			} else if _, ok := templateFuncs[n.Ident]; !ok {
				bad = fmt.Sprintf("the function %q is not allowed%s; a text may use %s", n.Ident, where(), funcList())
			}
		}
	}
	walk(t.Tree.Root)
	if bad == "" && builtins > maxCalls {
		bad = fmt.Sprintf("the template calls and, or, not, eq, ne, lt, le, gt, ge, len, index and slice %d times; the limit is %d, as each call runs for every recipient", builtins, maxCalls)
	}
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
