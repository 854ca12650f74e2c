package campaign

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// IgnoreFile lists, in a directory, glob patterns (relative to it) of files and directories
// that loading skips, like .helmignore. A trailing '/' matches directories only.
const IgnoreFile = ".smsformignore"

// Load reads every *.yaml and *.yml file under paths (a directory is walked, a file read
// as is), checks every rule, loads CSV recipients and renders every text. All problems come
// back at once as a *ValidationError.
func Load(paths ...string) (*Set, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	files, err := findFiles(paths)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no *.yaml or *.yml campaign files under %s", strings.Join(paths, ", "))
	}
	set := &Set{Files: files}
	var ps problems
	digest := sha256.New()
	seen := map[string]string{} // id -> FILE:LINE of its first definition
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(digest, "%s\x00%d\x00", f, len(data))
		digest.Write(data)
		for _, c := range parseFile(f, data, &ps) {
			if c.ID != "" {
				if first, dup := seen[c.ID]; dup {
					ps.add(f, c.Line("id"), "id", "campaign %q is already defined at %s; ids must be unique across all files", c.ID, first)
					continue
				}
				seen[c.ID] = fmt.Sprintf("%s:%d", f, c.Line("id"))
			}
			set.Campaigns = append(set.Campaigns, c)
		}
	}
	for _, c := range set.Campaigns {
		c.loadRecipients(&ps, digest)
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	slices.SortFunc(set.Campaigns, func(a, b *Campaign) int { return strings.Compare(a.ID, b.ID) })
	set.Digest = hex.EncodeToString(digest.Sum(nil))
	return set, nil
}

func findFiles(paths []string) ([]string, error) {
	var files []string
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			return nil, fmt.Errorf("campaign path: %w", err)
		}
		if !info.IsDir() {
			files = append(files, filepath.Clean(root))
			continue
		}
		ignores := map[string][]string{} // dir -> patterns of its ignore file
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if p != root && strings.HasPrefix(name, ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if ignored(ignores, root, p, d.IsDir()) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				pats, err := readIgnore(filepath.Join(p, IgnoreFile))
				if err != nil {
					return err
				}
				ignores[p] = pats
				return nil
			}
			if ext := filepath.Ext(name); ext == ".yaml" || ext == ".yml" {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(files)
	return slices.Compact(files), nil
}

// ignored checks p against the ignore files of every directory from root down to p's parent.
func ignored(ignores map[string][]string, root, p string, isDir bool) bool {
	for dir := filepath.Dir(p); ; dir = filepath.Dir(dir) {
		rel, err := filepath.Rel(dir, p)
		if err == nil {
			for _, pat := range ignores[dir] {
				dirOnly := strings.HasSuffix(pat, "/")
				pat = strings.TrimSuffix(pat, "/")
				if dirOnly && !isDir {
					continue
				}
				if ok, _ := filepath.Match(pat, filepath.ToSlash(rel)); ok {
					return true
				}
			}
		}
		if dir == root || dir == "." || dir == filepath.Dir(dir) {
			return false
		}
	}
}

func readIgnore(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var pats []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			pats = append(pats, line)
		}
	}
	return pats, nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// parseFile decodes every document of one file. A syntax error stops the file (YAML cannot
// be read past it); everything else is collected.
func parseFile(file string, data []byte, ps *problems) []*Campaign {
	var out []*Campaign
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if err == io.EOF {
			return out
		}
		if err != nil {
			line, msg := 0, strings.TrimPrefix(err.Error(), "yaml: ")
			if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
				line, _ = strconv.Atoi(m[1])
				msg = m[2]
				// yaml.v3 counts lines from 0 for parser errors (and for a bad tab), from 1
				// for the rest; the user needs the line as the editor shows it.
				if strings.HasPrefix(msg, "did not find expected") || strings.HasPrefix(msg, "found a tab character") {
					line++
				}
			}
			ps.add(file, line, "", "YAML syntax: %s", msg)
			return out
		}
		if len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null") {
			continue // an empty document, such as after a trailing ---
		}
		root := doc.Content[0]
		if root.Kind != yaml.MappingNode {
			ps.add(file, root.Line, "", "a campaign must be a mapping of fields (id, from, text, ...)")
			continue
		}
		if c := decodeCampaign(file, root, ps); c != nil {
			out = append(out, c)
		}
	}
}

func decodeCampaign(file string, root *yaml.Node, ps *problems) *Campaign {
	c := &Campaign{File: file, lines: map[string]int{"": root.Line}}
	recordLines(root, "", c.lines)
	unknownKeys(file, root, reflect.TypeOf(Campaign{}), "", ps)
	badType := map[string]bool{} // fields already reported as the wrong type
	if err := root.Decode(c); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			ps.add(file, root.Line, "", "%v", err)
			return nil
		}
		// yaml.v3 decodes what it can and lists the rest, so the other fields are still
		// checked below.
		byLine := lineFields(c.lines)
		for _, e := range te.Errors {
			m := yamlLine.FindStringSubmatch(e)
			if m == nil {
				ps.add(file, root.Line, "", "%s", e)
				continue
			}
			line, _ := strconv.Atoi(m[1])
			badType[byLine[line]] = true
			ps.add(file, line, byLine[line], "wrong type: %s", m[2])
		}
	}
	if _, set := c.lines["round"]; !set {
		c.Round = 1
	}
	c.validate(ps, badType)
	return c
}

// recordLines maps every key path under n to the line it is written on.
func recordLines(n *yaml.Node, prefix string, lines map[string]int) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if prefix != "" {
				p = prefix + "." + k.Value
			}
			lines[p] = k.Line
			recordLines(v, p, lines)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", prefix, i)
			lines[p] = item.Line
			recordLines(item, p, lines)
		}
	}
}

// lineFields inverts lines: the field path written on each line (the shortest, for lines
// holding a flow mapping).
func lineFields(lines map[string]int) map[int]string {
	out := map[int]string{}
	for p, l := range lines {
		if cur, ok := out[l]; !ok || len(p) < len(cur) {
			out[l] = p
		}
	}
	return out
}

// unknownKeys reports keys of n that t has no yaml field for, recursing into nested structs
// and slices of structs. Maps (vars, labels) take any key.
func unknownKeys(file string, n *yaml.Node, t reflect.Type, prefix string, ps *problems) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		if t.Kind() == reflect.Slice {
			if n.Kind != yaml.SequenceNode {
				return false
			}
			found := false
			for i, item := range n.Content {
				if unknownKeys(file, item, t.Elem(), fmt.Sprintf("%s[%d]", prefix, i), ps) {
					found = true
				}
			}
			return found
		}
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || n.Kind != yaml.MappingNode {
		return false
	}
	fields := map[string]reflect.Type{}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		fields[name] = f.Type
		names = append(names, name)
	}
	found := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := k.Value
		if prefix != "" {
			p = prefix + "." + k.Value
		}
		ft, ok := fields[k.Value]
		if !ok {
			ps.add(file, k.Line, p, "unknown field%s; known fields are %s", suggest(k.Value, names), strings.Join(names, ", "))
			found = true
			continue
		}
		if unknownKeys(file, v, ft, p, ps) {
			found = true
		}
	}
	return found
}

// suggest names the known field closest to a misspelt one.
func suggest(got string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := distance(got, n); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein distance of two short strings.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
