package campaign

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Bounds of what the YAML aliases (*name) of one campaign file stand for, measured as their
// values written out. An alias costs a few bytes in the file but, decoded, is a full copy of
// its anchor's value: 15,000 aliases of a 250 KB value in a 775 KB file made 3.7 GB of
// recipients' vars. Without aliases, what a file holds is at most its size; with them, at
// most aliasGrowth times more (at least minAliasBytes, for small files): a thousand
// recipients sharing 100 bytes of vars through an alias stand for under 3 times their file.
const (
	aliasGrowth   = 4
	minAliasBytes = 64 << 10
)

// nodeBytes is what a value takes written out besides its text: a separator and a quote
// or bracket. It makes an alias of an empty or tiny value cost something too.
const nodeBytes = 2

// aliasProblem is why a file's aliases are refused, at the node where it was found.
type aliasProblem struct {
	line  int
	field string
	msg   string
}

// aliases measures the aliases of one file's documents, before anything decodes them.
// Anchors are measured once each, so the measure is linear in the file's size however the
// aliases nest.
type aliases struct {
	limit int                // bytes the file's aliases may stand for
	left  int                // and may still
	size  map[*yaml.Node]int // the written-out size of each anchored value; -1 while measured
	path  []string           // the field path of the node measured, as in Campaign.Line
}

// newAliases measures the aliases of a file of size bytes.
func newAliases(size int) *aliases {
	limit := max(aliasGrowth*size, minAliasBytes)
	return &aliases{limit: limit, left: limit, size: map[*yaml.Node]int{}}
}

// check measures one document; it returns the first problem: an alias as a mapping key
// (the checks and the decoder would read different keys), an alias inside the value it
// stands for, or the alias that takes the file's aliases past their bound.
func (a *aliases) check(doc *yaml.Node) *aliasProblem {
	a.path = a.path[:0]
	_, p := a.measure(doc)
	return p
}

// measure returns n's size written out, capped just past the file's bound (aliases of
// aliases grow exponentially), and charges every alias under n to the file.
func (a *aliases) measure(n *yaml.Node) (int, *aliasProblem) {
	if n.Kind == yaml.AliasNode {
		t := n.Alias
		if t == nil {
			return nodeBytes, nil
		}
		size, done := a.size[t]
		switch {
		case done && size < 0:
			return 0, a.problem(n, "the alias *%s is inside the value it stands for (the anchor at line %d), which never ends; write the value out", clipped(n.Value, maxQuoted), t.Line)
		case !done: // not met in document order: yaml.v3 only resolves anchors met before
			var p *aliasProblem
			if size, p = a.measure(t); p != nil {
				return 0, p
			}
		}
		if a.left -= size; a.left < 0 {
			return 0, a.problem(n, "the aliases in this file stand for more than %d bytes written out (%d times the file, at least %d); write the values out, or put the recipients in a CSV file (destinations_file), which is streamed", a.limit, aliasGrowth, minAliasBytes)
		}
		return size, nil
	}
	if n.Anchor != "" {
		a.size[n] = -1
	}
	size := nodeBytes + len(n.Value)
	for i, c := range n.Content {
		switch n.Kind {
		case yaml.MappingNode:
			if i%2 == 0 {
				if c.Kind == yaml.AliasNode {
					return 0, a.problem(c, "a key may not be an alias (*%s); write the key out", clipped(c.Value, maxQuoted))
				}
				a.path = append(a.path, c.Value)
			}
		case yaml.SequenceNode:
			a.path = append(a.path, fmt.Sprintf("[%d]", i))
		}
		s, p := a.measure(c)
		if p != nil {
			return 0, p
		}
		size = min(size+s, a.limit+1)
		if n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode && i%2 == 1 {
			a.path = a.path[:len(a.path)-1]
		}
	}
	if n.Anchor != "" {
		a.size[n] = size
	}
	return size, nil
}

func (a *aliases) problem(n *yaml.Node, format string, args ...any) *aliasProblem {
	var field strings.Builder
	for _, p := range a.path {
		if field.Len() > 0 && !strings.HasPrefix(p, "[") {
			field.WriteByte('.')
		}
		field.WriteString(p)
	}
	return &aliasProblem{line: n.Line, field: field.String(), msg: fmt.Sprintf(format, args...)}
}
