package campaign_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/smsform/smsform/campaign"
)

// TestLoadIgnoreBound: the patterns that apply in a directory, its own ignore file's and
// those of the directories above it, are at most MaxIgnoreBytes together; more is an error
// at the file and line of the pattern that crosses the bound.
func TestLoadIgnoreBound(t *testing.T) {
	t.Parallel()
	valid := lines(`id: a`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`)
	// patterns is n patterns of 8 bytes, after a comment and a blank line.
	patterns := func(n int) string {
		var b strings.Builder
		b.WriteString("# drafts\n\n")
		for i := range n {
			fmt.Fprintf(&b, "d%06d/\n", i)
		}
		return b.String()
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string // the error's start, $DIR for the directory; "" for none
	}{
		{name: "128 patterns of 8 bytes", files: map[string]string{"a.yaml": valid, IgnoreFileFor(""): patterns(128)}},
		{name: "129 patterns of 8 bytes", files: map[string]string{"a.yaml": valid, IgnoreFileFor(""): patterns(129)},
			want: "$DIR/.smsformignore:131: the .smsformignore files that apply here (this one and those of the directories above it) hold more than 1024 bytes of patterns; every file and directory below is matched against each of them"},
		{name: "a directory below adds to those above", files: map[string]string{"a.yaml": valid, IgnoreFileFor(""): patterns(100), IgnoreFileFor("sub"): patterns(29)},
			want: "$DIR/sub/.smsformignore:31: the .smsformignore files that apply here"},
		{name: "directories side by side do not add up", files: map[string]string{"a.yaml": valid, IgnoreFileFor("one"): patterns(128), IgnoreFileFor("two"): patterns(128)}},
		{name: "comments and blank lines are free", files: map[string]string{"a.yaml": valid, IgnoreFileFor(""): strings.Repeat("# "+strings.Repeat("x", 100)+"\n\n", 500)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			_, err := campaign.Load(dir)
			switch want := strings.ReplaceAll(tc.want, "$DIR", dir); {
			case want == "" && err != nil:
				t.Fatalf("Load: %v", err)
			case want != "" && (err == nil || !strings.HasPrefix(err.Error(), want)):
				t.Fatalf("Load: %v\nwant an error starting %q", err, want)
			}
		})
	}
}

// TestLoadIgnoreDeepTree: patterns apply under their directory however deep, and
// directories without an ignore file between cost nothing.
func TestLoadIgnoreDeepTree(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	deep := strings.Repeat("d/", 200)
	writeFiles(t, dir, map[string]string{
		IgnoreFileFor(""):         lines(`skip.yaml`, `*/ci/`),
		IgnoreFileFor(deep + "x"): lines(`wip*.yaml`),
		deep + "x/a.yaml":         lines(`id: a`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`),
		deep + "x/wip-b.yaml":     "broken: [\n",
		deep + "x/y/wip-c.yaml":   lines(`id: c`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`), // x's pattern is for x's own entries
		deep + "skip.yaml":        lines(`id: d`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`), // the root's is for the root's
		"skip.yaml":               "broken: [\n",
		"d/ci/e.yaml":             "broken: [\n",
		"d/d/ci/f.yaml":           lines(`id: f`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`),
	})
	set := mustLoad(t, dir)
	var ids []string
	for _, c := range set.Campaigns {
		ids = append(ids, c.ID)
	}
	if want := []string{"a", "c", "d", "f"}; !slices.Equal(ids, want) {
		t.Errorf("ids = %q, want %q", ids, want)
	}
}

// TestLoadIgnoreDot: the ignore files apply when the root is the working directory,
// written "." (paths walked have no "./" in front).
func TestLoadIgnoreDot(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.yaml":             lines(`id: a`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`),
		"ci/workflow.yml":    "on: [push]\njobs: {}\n",
		"sub/wip.yaml":       "broken: [\n",
		IgnoreFileFor(""):    "ci/\n",
		IgnoreFileFor("sub"): "wip.yaml\n",
		"sub/b.yaml":         lines(`id: b`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`),
	})
	t.Chdir(dir)
	set := mustLoad(t, ".")
	if want := []string{"a.yaml", filepath.Join("sub", "b.yaml")}; !slices.Equal(set.Files, want) {
		t.Errorf("Files = %q, want %q", set.Files, want)
	}
}
