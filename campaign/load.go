package campaign

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// IgnoreFile lists, in a directory, glob patterns (relative to it) of files and directories
// that loading skips, like .helmignore. A trailing '/' matches directories only.
const IgnoreFile = ".smsformignore"

// Load reads every *.yaml and *.yml file under paths (a directory is walked, a file read
// as is), checks every rule, loads CSV recipients and renders every text. All problems come
// back at once as a *ValidationError, the first MaxProblems of them listed.
func Load(paths ...string) (*Set, error) { return LoadWith(Options{}, paths...) }

// Options change what LoadWith checks and keeps.
type Options struct {
	// AllProblems lists every problem found, not only the first MaxProblems (for `validate
	// -all` and `-json`, where a user cleans a CSV of thousands of bad rows in one go).
	AllProblems bool
	// Now, when set, applies the plan-time rule on send_at (CheckSendAt) to every campaign:
	// more than 180 days ahead is a problem, in the past a warning (Set.Warnings).
	Now time.Time
	// SendNow, when set, is the send time of campaigns without send_at, which consent
	// must not be after, without the send_at rule of Now (plan and apply check send_at
	// themselves, for what is still to send). Now implies it.
	SendNow time.Time
	// Parsed, when set, is called once every campaign file is parsed without a problem,
	// with the campaigns and the settings that govern them, before their recipients are
	// read (the long part of a load): a caller may start then what depends only on those,
	// such as reading the state a plan will need. The campaigns are not checked yet; the
	// load may still fail. Files with a problem already found skip it.
	Parsed func(campaigns []*Campaign)
}

// LoadWith is Load with options.
func LoadWith(opts Options, paths ...string) (*Set, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	found, err := findFiles(paths)
	if err != nil {
		return nil, err
	}
	files, fileRoots := found.files, found.roots
	if len(files) == 0 {
		return nil, fmt.Errorf("no *.yaml or *.yml campaign files under %s; give the directories or files that hold your campaigns (hidden directories and what a %s lists are skipped; %s holds settings, not campaigns)", strings.Join(paths, ", "), IgnoreFile, SettingsFile)
	}
	set := &Set{Files: files}
	ps := problems{all: opts.AllProblems}
	digest := sha256.New()
	seen := map[string]string{} // id -> FILE:LINE of its first definition
	var dups []*Campaign
	// Every settings file under the paths is checked, whether or not a campaign is under
	// it; those above the paths are read when a campaign needs them.
	settings := newSettingsFinder(&ps, found.settings)
	for _, f := range found.settings {
		settings.load(f, fileRoots[f])
	}
	for _, f := range files {
		root := fileRoots[f]
		data, err := readConfined(f, root, MaxYAMLBytes)
		if err != nil {
			ps.add(f, 0, "", "%s", fileProblem(err, root, "big recipient lists belong in a CSV (destinations_file), which is streamed"))
			continue
		}
		fmt.Fprintf(digest, "%s\x00%d\x00", f, len(data))
		digest.Write(data)
		governing := settings.of(f, found.tops[f], root)
		for _, c := range parseFile(f, data, &ps) {
			c.root = root
			c.Settings = governing
			c.sendBy = c.SendTime()
			if c.sendBy.IsZero() {
				c.sendBy = cmp.Or(opts.Now, opts.SendNow)
			}
			if first, dup := seen[c.ID]; dup && c.ID != "" {
				// Still checked below, so all its problems come at once; left out of the set.
				ps.add(f, c.Line("id"), "id", "campaign %q is already defined at %s; ids must be unique across all files", clipped(c.ID, maxQuoted), first)
				dups = append(dups, c)
				continue
			}
			seen[c.ID] = fmt.Sprintf("%s:%d", f, c.Line("id"))
			set.Campaigns = append(set.Campaigns, c)
		}
	}
	all := append(set.Campaigns[:len(set.Campaigns):len(set.Campaigns)], dups...)
	if opts.Parsed != nil && len(ps.list) == 0 && ps.dropped == 0 {
		opts.Parsed(set.Campaigns)
	}
	loadRecipients(all, &ps, digest)
	lists := &suppressionLists{byKey: map[string]*SuppressionList{}, files: map[string]*listFile{}}
	for _, c := range all {
		c.checkZones(&ps)
		if p := c.sampleWarning(); p != nil {
			set.Warnings = append(set.Warnings, *p)
		}
		lists.add(c)
		if !opts.Now.IsZero() {
			if p := c.CheckSendAt(opts.Now); p != nil {
				// A campaign sent on schedule stays in git: its send_at in the past is
				// worth a look, not a failure (plan still refuses it while there is
				// something to send). Too far ahead is wrong whenever it is checked.
				if c.SendTime().Before(opts.Now) {
					set.Warnings = append(set.Warnings, *p)
				} else {
					ps.add(p.File, p.Line, p.Field, "%s", p.Msg)
				}
			}
		}
	}
	lists.read(&ps, digest)
	set.SuppressionLists = lists.all()
	set.Settings = settings.all(digest)
	sortProblems(set.Warnings)
	if err := ps.err(); err != nil {
		return nil, err
	}
	slices.SortFunc(set.Campaigns, func(a, b *Campaign) int { return strings.Compare(a.ID, b.ID) })
	set.Digest = hex.EncodeToString(digest.Sum(nil))
	return set, nil
}

// fileProblem words why a file named in or by a campaign cannot be read, without anything
// of its content; bigHint says what to do about a file over its size bound.
func fileProblem(err error, root, bigHint string) string {
	var big *tooBig
	switch {
	case errors.Is(err, errOutside):
		return fmt.Sprintf("%v %s (the git work tree holding the file, or the directory given on the command line); keep what campaigns read inside it", err, root)
	case errors.As(err, &big):
		return fmt.Sprintf("%v; %s", err, bigHint)
	}
	return err.Error()
}

// found is what findFiles found under the paths given.
type found struct {
	files    []string          // campaign files, sorted
	settings []string          // settings files (smsform.yaml), sorted: never campaigns
	roots    map[string]string // file -> its campaign root
	// tops are, for a file found by walking a directory, that directory as given (cleaned);
	// "" for a file given itself. The walk saw every settings file below it (see
	// settingsFinder).
	tops map[string]string
}

// findFiles lists the campaign files under paths, and the campaign root of each; and,
// apart, the settings files met (a file argument or an entry of the walk named
// smsform.yaml).
func findFiles(paths []string) (*found, error) {
	out := &found{roots: map[string]string{}, tops: map[string]string{}}
	rs := &roots{git: map[string]string{}}
	add := func(p, arg, top string) {
		if _, ok := out.roots[p]; ok {
			return
		}
		out.roots[p], out.tops[p] = rs.of(p, arg), top
		if filepath.Base(p) == SettingsFile {
			out.settings = append(out.settings, p)
		} else {
			out.files = append(out.files, p)
		}
	}
	for _, root := range paths {
		arg := root
		root = filepath.Clean(root)
		info, err := os.Stat(root)
		if err != nil {
			return nil, fmt.Errorf("campaign path %s: %w; give the directories or files that hold your campaigns", root, errors.Unwrap(err))
		}
		if !info.IsDir() {
			add(root, arg, "")
			continue
		}
		chains := map[string]*ignoreChain{} // dir -> the ignore files that apply in it
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
			if name == SettingsFile && !d.IsDir() {
				// Before the ignore files: they skip campaigns, never the settings that
				// govern those that are not skipped.
				add(p, root, root)
				return nil
			}
			var chain *ignoreChain
			if p != root {
				chain = chains[filepath.Dir(p)]
			}
			if chain.ignores(p, d.IsDir()) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				chain, err := readIgnore(p, chain, func(file string) string { return rs.of(file, root) })
				if err != nil {
					return err
				}
				chains[p] = chain
				return nil
			}
			if ext := filepath.Ext(name); ext == ".yaml" || ext == ".yml" {
				add(p, root, root)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(out.files)
	slices.Sort(out.settings)
	return out, nil
}

// ignoreChain is what the ignore files of a directory and of the directories above it, up
// to the root walked, say: one link per directory whose ignore file has patterns, so that
// matching an entry costs nothing for the directories between that have none.
type ignoreChain struct {
	dir    string
	pats   []ignorePattern
	bytes  int // the patterns' lengths, summed over the chain
	parent *ignoreChain
}

// ignorePattern is one line of an ignore file: a glob relative to its directory, and
// whether it matches directories only (written with a trailing '/').
type ignorePattern struct {
	glob    string
	dirOnly bool
}

// ignores reports whether a pattern of the chain matches p, relative to its directory.
func (c *ignoreChain) ignores(p string, isDir bool) bool {
	for ; c != nil; c = c.parent {
		rel := relUnder(c.dir, p)
		for _, pat := range c.pats {
			if pat.dirOnly && !isDir {
				continue
			}
			if ok, _ := filepath.Match(pat.glob, rel); ok {
				return true
			}
		}
	}
	return false
}

// relUnder is p relative to dir, p being a path filepath.WalkDir found under dir (which it
// spells dir + "/" + the rest), slash-separated.
func relUnder(dir, p string) string {
	switch {
	case dir == ".":
		return filepath.ToSlash(p)
	case strings.HasSuffix(dir, string(filepath.Separator)) && strings.HasPrefix(p, dir):
		return filepath.ToSlash(p[len(dir):])
	case len(p) > len(dir) && p[len(dir)] == filepath.Separator && strings.HasPrefix(p, dir):
		return filepath.ToSlash(p[len(dir)+1:])
	}
	rel, _ := filepath.Rel(dir, p)
	return filepath.ToSlash(rel)
}

// readIgnore returns the chain that applies in dir: chain, the one above it, with dir's
// ignore file on top if it has patterns. root gives the campaign root of a file.
func readIgnore(dir string, chain *ignoreChain, root func(file string) string) (*ignoreChain, error) {
	path := filepath.Join(dir, IgnoreFile)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		// Most directories have none: resolving the path of a missing file (every
		// directory above it, each a path lookup) would make a deep tree quadratic.
		return chain, nil
	}
	r := root(path)
	data, err := readConfined(path, r, MaxCSVLine)
	if errors.Is(err, fs.ErrNotExist) {
		return chain, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %s", path, fileProblem(err, r, "keep it a short list of patterns"))
	}
	next := &ignoreChain{dir: dir, parent: chain}
	if chain != nil {
		next.bytes = chain.bytes
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		pat := strings.TrimSpace(sc.Text())
		if pat == "" || strings.HasPrefix(pat, "#") {
			continue
		}
		if next.bytes += len(pat); next.bytes > MaxIgnoreBytes {
			return nil, fmt.Errorf("%s:%d: the %s files that apply here (this one and those of the directories above it) hold more than %d bytes of patterns; every file and directory below is matched against each of them, so keep to a few that skip whole directories (drafts/)", path, line, IgnoreFile, MaxIgnoreBytes)
		}
		glob, dirOnly := strings.CutSuffix(pat, "/")
		next.pats = append(next.pats, ignorePattern{glob: glob, dirOnly: dirOnly})
	}
	if len(next.pats) == 0 {
		return chain, nil
	}
	return next, nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// parseFile decodes every document of one file. A syntax error stops the file (YAML cannot
// be read past it); everything else is collected.
func parseFile(file string, data []byte, ps *problems) []*Campaign {
	var out []*Campaign
	var lines [][]byte // the file's lines, for positions in texts
	yamlDocs(file, data, ps, func(root *yaml.Node) bool {
		if root.Kind != yaml.MappingNode {
			ps.add(file, root.Line, "", "a campaign must be a mapping of fields (id, from, text, ...)")
			return true
		}
		if lines == nil {
			lines = bytes.Split(data, []byte("\n")) // once per file, however many documents
		}
		if c := decodeCampaign(file, lines, root, ps); c != nil {
			out = append(out, c)
		}
		return true
	})
	return out
}

// yamlDocs decodes the documents of one file in turn and calls fn with the root of each
// that is not empty, until fn returns false. A syntax error is reported and stops the file
// (YAML cannot be read past it), and so does a problem with its aliases, which are measured
// before a document is decoded (see aliases).
func yamlDocs(file string, data []byte, ps *problems, fn func(root *yaml.Node) bool) {
	aliases := newAliases(len(data))
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if err == io.EOF {
			return
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
			if line == 0 {
				line = badByteLine(data)
			}
			ps.add(file, line, "", "YAML syntax: %s", msg)
			return
		}
		if p := aliases.check(&doc); p != nil {
			// Checking the document's shape and decoding it would copy every alias's
			// value: nothing more of the file is read.
			ps.add(file, p.line, p.field, "%s", p.msg)
			return
		}
		if len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null") {
			continue // an empty document, such as after a trailing ---
		}
		if !fn(doc.Content[0]) {
			return
		}
	}
}

func decodeCampaign(file string, lines [][]byte, root *yaml.Node, ps *problems) *Campaign {
	c := &Campaign{File: file, lines: map[string]int{"": root.Line}}
	recordLines(root, "", c.lines)
	// Fields reported as unknown, repeated or of the wrong type; checkShape drops them from
	// the node, so decoding the rest succeeds and every other field is still checked.
	bad := map[string]bool{}
	checkShape(file, root, reflect.TypeOf(Campaign{}), "", "", ps, bad)
	if err := root.Decode(c); err != nil {
		// checkShape should have caught every type problem; this is the safety net.
		ps.add(file, root.Line, "", "%s", strings.TrimPrefix(err.Error(), "yaml: "))
		return nil
	}
	if _, set := c.lines["round"]; !set {
		c.Round = 1
	}
	c.textSrc = textSourceOf(root, lines, c.Text)
	c.locateVariants(root, lines)
	if c.Purpose == "" && !writtenEmpty(root, "purpose") {
		c.Purpose = Marketing // left out or null; purpose: "" is an error, as in the schema
	}
	c.validate(ps, bad)
	return c
}

// writtenEmpty reports a top-level key written with an empty text value ("" but not null).
func writtenEmpty(root *yaml.Node, key string) bool {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k, v := root.Content[i], root.Content[i+1]; k.Value == key {
			return v.Kind == yaml.ScalarNode && v.Tag != "!!null" && v.Value == ""
		}
	}
	return false
}

// Bounds of the key paths recordLines maps to lines: a path holds the keys above it, so
// mapping every node of a deeply nested or long-keyed value would cost the file's size
// times its depth (40 documents of 10,000 nested lists in 800 KB took 6.3 GB). Problems
// name paths at most 4 deep (destinations[3].vars.name); Campaign.Line finds a deeper or
// longer one at the line of the nearest path above it.
const (
	maxLineDepth = 4
	maxLinePath  = 256
)

// recordLines maps the key paths under n to the lines they are written on.
func recordLines(n *yaml.Node, prefix string, lines map[string]int) {
	recordLinesDepth(n, prefix, 1, lines)
}

func recordLinesDepth(n *yaml.Node, prefix string, depth int, lines map[string]int) {
	if depth > maxLineDepth {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if prefix != "" {
				p = prefix + "." + k.Value
			}
			if len(p) > maxLinePath {
				continue
			}
			lines[p] = k.Line
			recordLinesDepth(v, p, depth+1, lines)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			p := prefix + "[" + strconv.Itoa(i) + "]"
			if len(p) > maxLinePath {
				return
			}
			lines[p] = item.Line
			recordLinesDepth(item, p, depth+1, lines)
		}
	}
}

// checkShape walks n against the Go type t it will be decoded into, and reports, each at
// its own line: unknown keys, keys written twice, and values of the wrong kind (a list for
// a mapping, 1.5 for a whole number, which yaml.v3 would silently truncate, a number where
// text belongs). It removes what it reports from n and records the paths in bad. It returns
// false when n itself is of the wrong kind, for the caller to remove.
//
// scalars says which YAML scalars a text field takes: "" only text (and a timestamp, which
// is text in JSON), "int" also a whole number (a numeric sender, a phone number), "any"
// every scalar (vars and labels); on a map, "text" makes its values take only text. schema/campaign.schema.json says the same; the table in
// schema/testdata/agreement.txtar keeps them in step.
func checkShape(file string, n *yaml.Node, t reflect.Type, path, scalars string, ps *problems, bad map[string]bool) bool {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	wrong := func(want string) bool {
		ps.add(file, n.Line, path, "wrong type: want %s, got %s", want, describeNode(n))
		bad[path] = true
		return false
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return true // an empty value: the field's zero value, checked by the rules
	}
	switch t.Kind() {
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			return wrong("text")
		}
		switch {
		case n.Tag == "!!str" || n.Tag == "!!timestamp" || scalars == "any":
		case scalars == "int" && n.Tag == "!!int":
		default:
			return wrong("text (in quotes)")
		}
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && !wholeFloat(n)) {
			return wrong("a whole number")
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return wrong("a list")
		}
		elem := t.Elem()
		for elem.Kind() == reflect.Pointer {
			elem = elem.Elem()
		}
		if elem.Kind() == reflect.Struct {
			for i, item := range n.Content {
				if item.Kind != yaml.MappingNode {
					ps.add(file, item.Line, path, "wrong type: want a list of mappings (- to: ...), item %d is %s", i+1, describeNode(item))
					bad[path] = true
					return false
				}
			}
		}
		keep := n.Content[:0]
		for i, item := range n.Content {
			if checkShape(file, item, elem, fmt.Sprintf("%s[%d]", path, i), "", ps, bad) {
				keep = append(keep, item)
			}
		}
		if len(keep) != len(n.Content) {
			bad[path] = true
			return false // removing items would shift the lines of the others
		}
	case reflect.Map, reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return wrong("a mapping")
		}
		if keys := len(n.Content) / 2; t.Kind() == reflect.Map && keys > MaxMapKeys {
			// The first ones are still checked and kept, so the rest of the campaign is too.
			ps.add(file, n.Line, path, "holds %d keys; the limit is %d, as many as a CSV file may have columns", keys, MaxMapKeys)
			n.Content = n.Content[:2*MaxMapKeys]
		}
		fields := map[string]reflect.Type{}
		shapes := map[string]string{}
		var names []string
		if t.Kind() == reflect.Struct {
			for i := range t.NumField() {
				f := t.Field(i)
				name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
				if name != "" && name != "-" {
					fields[name] = f.Type
					shapes[name] = f.Tag.Get("scalars")
					names = append(names, name)
				}
			}
		}
		first := map[string]int{}
		keep := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			ft, ok := fields[k.Value]
			shape := shapes[k.Value]
			if t.Kind() == reflect.Map {
				// A map's values take any scalar (vars, labels), or only text when the
				// map's field says scalars:"text" (amounts of money, exact decimals).
				ft, ok, shape = t.Elem(), true, "any"
				if scalars == "text" {
					shape = ""
				}
			}
			switch line, dup := first[k.Value]; {
			case dup:
				ps.add(file, k.Line, p, "written twice (first at line %d); keep one", line)
			case !ok:
				ps.add(file, k.Line, p, "unknown field%s; known fields are %s", suggest(k.Value, names), knownFields(names, len(k.Value)))
			case checkShape(file, v, ft, p, shape, ps, bad):
				first[k.Value] = k.Line
				keep = append(keep, k, v)
				continue
			}
			first[k.Value] = k.Line
			bad[p] = true
		}
		n.Content = keep
	}
	return true
}

// knownFields lists the known fields for an unknown key of keyLen bytes. A key too long
// to be quoted whole (a problem shows its first 128 bytes) is no typo of one of them, and
// its problem is kept short: the list stops after about 100 bytes and says how many more.
func knownFields(names []string, keyLen int) string {
	all := strings.Join(names, ", ")
	if keyLen <= 2*maxQuoted || len(all) <= 100 {
		return all
	}
	n, size := 0, 0
	for n < len(names) && size+len(names[n]) <= 100 {
		size += len(names[n]) + 2
		n++
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

// describeNode names what a node holds, for a wrong-type problem.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	v := clipped(n.Value, 40)
	switch n.Tag {
	case "!!int", "!!float":
		return "the number " + strconv.Quote(v)
	case "!!bool":
		return "the boolean " + strconv.Quote(v)
	}
	return strconv.Quote(v)
}

// wholeFloat reports a YAML float without a fraction (2.0), which is a whole number in
// JSON too, as JSON Schema's "integer" accepts it.
func wholeFloat(n *yaml.Node) bool {
	if n.Tag != "!!float" {
		return false
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	return err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53
}

// suggest names the known field closest to a misspelt one.
func suggest(got string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if max(len(got)-len(n), len(n)-len(got)) >= bestD {
			continue // the distance is at least that: a long key costs nothing
		}
		if d := Distance(got, n); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// Distance is the Levenshtein distance of two short strings: unknown fields and mistyped
// commands are matched to the closest known name with it.
func Distance(a, b string) int {
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

// badByteLine finds the line of the first byte YAML refuses (a control character or invalid
// UTF-8), for the errors yaml.v3 reports without a line; 0 if there is none.
func badByteLine(data []byte) int {
	line := 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 || r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r == 0x7f {
			return line
		}
		if r == '\n' {
			line++
		}
		i += size
	}
	return 0
}
