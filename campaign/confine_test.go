package campaign_test

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/smsform/smsform/campaign"
)

// secretLine is what the files outside the campaign root hold; no problem may quote it.
const secretLine = "to,SECRET_TOKEN=hunter2"

// TestConfinement: every path a campaign file names resolves, after symlinks, inside the
// campaign root, and is a regular file of bounded size; otherwise it is a problem at the
// field's line that quotes nothing of the target.
func TestConfinement(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"secret.csv": lines(secretLine, "+41793026731,x")})
	camp := func(path string) string {
		return lines(`id: c1`, `from: InfoSMS`, `text: "{{.}}"`, `destinations_file: `+path) // line 4
	}
	for _, tc := range []struct {
		name  string
		path  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"absolute path outside", filepath.Join(outside, "secret.csv"), nil, "outside the campaign root"},
		{"proc", "/proc/self/environ", nil, "outside the campaign root"},
		{"dot-dot", "../secret.csv", func(t *testing.T, dir string) {
			writeFiles(t, filepath.Dir(dir), map[string]string{"secret.csv": lines(secretLine, "+41793026731,x")})
		}, "outside the campaign root"},
		{"deep dot-dot", "../../../../../../../../etc/passwd", nil, "outside the campaign root"},
		{"missing file outside", "../../no/such/file.csv", nil, "outside the campaign root"},
		{"missing file inside", "no/such/file.csv", nil, "no such file or directory"},
		{"symlink out", "link.csv", func(t *testing.T, dir string) {
			symlink(t, filepath.Join(outside, "secret.csv"), filepath.Join(dir, "link.csv"))
		}, "outside the campaign root"},
		{"symlink to a device", "zero.csv", func(t *testing.T, dir string) {
			symlink(t, "/dev/zero", filepath.Join(dir, "zero.csv"))
		}, "outside the campaign root"},
		{"directory", "sub", func(t *testing.T, dir string) {
			os.Mkdir(filepath.Join(dir, "sub"), 0o755)
		}, "is not a regular file"},
		{"FIFO", "fifo.csv", func(t *testing.T, dir string) {
			if err := syscall.Mkfifo(filepath.Join(dir, "fifo.csv"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "is not a regular file"},
		{"too big", "big.csv", func(t *testing.T, dir string) {
			f, err := os.Create(filepath.Join(dir, "big.csv"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(campaign.MaxCSVBytes + 1); err != nil { // sparse
				t.Fatal(err)
			}
		}, "the limit is 1073741824"},
		{"sparse, under the size bound", "sparse.csv", func(t *testing.T, dir string) {
			f, err := os.Create(filepath.Join(dir, "sparse.csv"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(200 << 20); err != nil {
				t.Fatal(err)
			}
		}, "longer than 65536 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := t.TempDir()
			dir := filepath.Join(base, "repo")
			writeFiles(t, dir, map[string]string{"c.yaml": camp(tc.path)})
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			_, err := campaign.Load(dir)
			ve := validationError(t, err)
			if strings.Contains(err.Error(), "SECRET_TOKEN") || strings.Contains(err.Error(), "root:") {
				t.Fatalf("the target's content is quoted:\n%v", err)
			}
			if len(ve.Problems) != 1 {
				t.Fatalf("problems:\n%v\nwant one", err)
			}
			p := ve.Problems[0]
			if tc.name == "sparse, under the size bound" {
				if p.File != filepath.Join(dir, "sparse.csv") || p.Line != 1 {
					t.Fatalf("problem %v, want sparse.csv:1", p)
				}
			} else if p.File != filepath.Join(dir, "c.yaml") || p.Line != 4 || p.Field != "destinations_file" {
				t.Fatalf("problem %v, want c.yaml:4: destinations_file", p)
			}
			if !strings.Contains(p.Msg, tc.want) {
				t.Fatalf("problem %v, want it to say %q", p, tc.want)
			}
		})
	}
}

// TestConfinementYAML: a campaign file found in a directory is confined like the paths it
// names: a symlink to a device or outside the root, or a file over MaxYAMLBytes, is a
// problem naming it, not a hang or a crash.
func TestConfinementYAML(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, withBase())
	symlink(t, "/dev/zero", filepath.Join(dir, "zero.yaml"))
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("# padding\n", campaign.MaxYAMLBytes/10+1)
	writeFiles(t, dir, map[string]string{"big.yaml": big})
	_, err := campaign.Load(dir)
	checkProblems(t, dir, err, []want{
		{"big.yaml", 0, "", "the limit is 1048576"},
		{"fifo.yaml", 0, "", "is not a regular file"},
		{"zero.yaml", 0, "", "outside the campaign root"},
	})
}

// TestRootIsGitWorkTree: inside a git work tree, the root is its top, so a campaign in a
// subdirectory may name a CSV elsewhere in the repository, and nothing outside it.
func TestRootIsGitWorkTree(t *testing.T) {
	t.Parallel()
	repo := t.TempDir()
	writeFiles(t, repo, map[string]string{
		"data/r.csv":          lines(`to`, `+41 79 302 67 31`),
		"campaigns/c.yaml":    lines(`id: c1`, `from: InfoSMS`, `text: Hi`, `destinations_file: ../data/r.csv`),
		".git/HEAD":           "ref: refs/heads/main\n",
		"campaigns/bad/b.yml": lines(`id: c2`, `from: InfoSMS`, `text: Hi`, `destinations_file: ../../../x.csv`),
	})
	writeFiles(t, filepath.Dir(repo), map[string]string{"x.csv": lines(secretLine)})
	_, err := campaign.Load(filepath.Join(repo, "campaigns"))
	checkProblems(t, repo, err, []want{{"campaigns/bad/b.yml", 4, "destinations_file", "outside the campaign root " + realDir(t, repo)}})
	set := mustLoad(t, filepath.Join(repo, "campaigns", "c.yaml"))
	if n := set.Campaigns[0].Recipients.Len(); n != 1 {
		t.Errorf("a CSV elsewhere in the work tree: %d recipients, want 1", n)
	}
	if _, err := exec.LookPath("git"); err == nil {
		// The same with a real repository, found from a path given relative to it.
		real := t.TempDir()
		if out, err := exec.Command("git", "init", "-q", real).CombinedOutput(); err != nil {
			t.Fatalf("git init: %v\n%s", err, out)
		}
		writeFiles(t, real, map[string]string{
			"data/r.csv":       lines(`to`, `+41 79 302 67 31`),
			"campaigns/c.yaml": lines(`id: c1`, `from: InfoSMS`, `text: Hi`, `destinations_file: ../data/r.csv`),
		})
		mustLoad(t, filepath.Join(real, "campaigns"))
	}
}

func realDir(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// TestIgnoreFileConfined: a .smsformignore that is a FIFO or a symlink out of the root is
// an error naming it, not a hang.
func TestIgnoreFileConfined(t *testing.T) {
	t.Parallel()
	for name, setup := range map[string]func(t *testing.T, path string){
		"FIFO": func(t *testing.T, path string) { mkfifoT(t, path) },
		"symlink to /dev/zero": func(t *testing.T, path string) {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			symlink(t, "/dev/zero", path)
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, withBase())
			setup(t, filepath.Join(dir, "sub", campaign.IgnoreFile))
			_, err := campaign.Load(dir)
			if err == nil || !strings.Contains(err.Error(), campaign.IgnoreFile) {
				t.Fatalf("Load: %v, want an error naming %s", err, campaign.IgnoreFile)
			}
		})
	}
}

func mkfifoT(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestOpenInput: a file named on the command line (events, prices, a saved plan) is opened
// as a file a campaign names is: after symlinks inside the directory given (its git work
// tree, or its own directory outside git), out of /proc, /sys and /dev, a regular file (a
// FIFO refused at once), and of bounded size; the error says why, with nothing of the file.
func TestOpenInput(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"secret.csv": lines(secretLine)})
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"events.csv":       lines("messageId", "sf-1"),
		"repo/.git/HEAD":   "ref: refs/heads/main\n",
		"repo/data/e.csv":  lines("messageId", "sf-2"),
		"repo/sub/.keep":   "",
		"big.csv":          strings.Repeat("x", 101),
		"plain/events.csv": lines("messageId", "sf-3"),
	})
	symlink(t, filepath.Join(dir, "repo/data/e.csv"), filepath.Join(dir, "repo/sub/link.csv"))
	symlink(t, filepath.Join(outside, "secret.csv"), filepath.Join(dir, "out.csv"))
	symlink(t, "../events.csv", filepath.Join(dir, "plain/up.csv"))
	symlink(t, "/proc/self/environ", filepath.Join(dir, "environ.csv"))
	symlink(t, filepath.Join(dir, "plain"), filepath.Join(dir, "dirlink"))
	mkfifoT(t, filepath.Join(dir, "fifo.csv"))
	for _, tt := range []struct {
		path string
		want string // "" opens
	}{
		{"events.csv", ""},
		{"repo/sub/link.csv", ""}, // elsewhere in the same work tree
		{"dirlink/events.csv", ""},
		{"out.csv", "resolves (after symlinks) outside " + realDir(t, dir) + ", the directory given"},
		{"plain/up.csv", "outside " + realDir(t, filepath.Join(dir, "plain"))},
		{"environ.csv", "outside"},
		{"/proc/self/environ", "into /proc, /sys or /dev"},
		{"/dev/zero", "into /proc, /sys or /dev"},
		{"fifo.csv", "is not a regular file"},
		{"repo", "is not a regular file"},
		{"big.csv", "is 101 bytes; the limit is 100"},
		{"missing.csv", "no such file or directory"},
	} {
		path := tt.path
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		f, err := campaign.OpenInput(path, 100)
		if err == nil {
			f.Close()
		}
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("OpenInput(%s): %v", tt.path, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("OpenInput(%s): %v, want an error saying %q", tt.path, err, tt.want)
		case err != nil && (strings.Contains(err.Error(), "SECRET_TOKEN") || strings.Contains(err.Error(), tt.path)):
			t.Errorf("OpenInput(%s): %v quotes the file or repeats its path", tt.path, err)
		}
		if _, err := campaign.ReadInput(path, 100); (err == nil) != (tt.want == "") {
			t.Errorf("ReadInput(%s): %v, OpenInput %q", tt.path, err, tt.want)
		}
	}
	if _, err := campaign.OpenInput(filepath.Join(dir, "missing.csv"), 100); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenInput of a missing file: %v, want fs.ErrNotExist", err)
	}
}
